"""Voice of the customer: comment sentiment, themes and examples per agent or team.

Reads customer comments on tickets, classifies them with the editable lexicon
(`lib.sentiment`), and sums up, per agent or team, how many were negative, which themes
come up most in negative comments, and a few examples to read.
"""

from __future__ import annotations

import pandas as pd

from lib import access, sentiment
from lib.kpis import sql_file


def comments(con, viewer: access.Viewer, start, end, team: str | None = None) -> pd.DataFrame:
    """Every comment in [start, end) with agent, team, sentiment and themes."""
    access.require(viewer, "team_views")
    frame = (
        con.cursor()
        .execute(
            f"""WITH teams AS ({sql_file("agent_teams")})
            SELECT t.ticket_id, t.agent, coalesce(tm.team, '—') AS team, t.created_at, t.channel,
                   t.csat, t.comment
            FROM tickets t LEFT JOIN teams tm USING (agent)
            WHERE t.comment IS NOT NULL AND t.created_at >= $start AND t.created_at < $end""",
            {"start": start, "end": end},
        )
        .df()
    )
    if team:
        frame = frame[frame["team"] == team].reset_index(drop=True)
    frame["sentiment"] = [sentiment.classify(c) for c in frame["comment"]]
    frame["themes"] = [sentiment.themes(c) for c in frame["comment"]]
    return frame


def summary(
    frame: pd.DataFrame, by: str = "agent", lang: str = "en", examples: int = 2
) -> pd.DataFrame:
    """Per agent (or team): comments, negative share, top themes of negative comments, examples."""
    rows = []
    for key, part in frame.groupby(by):
        negative = part[part["sentiment"] == "negative"]
        counts = negative["themes"].explode().dropna().value_counts()
        rows.append({by: key, "comments": len(part), "negative": len(negative),
                     "negative_rate": len(negative) / len(part) if len(part) else float("nan"),
                     "top_themes": "、".join(sentiment.theme_label(t, lang) for t in counts.index[:3])
                     if lang == "zh" else ", ".join(sentiment.theme_label(t, lang) for t in counts.index[:3]),
                     "examples": " | ".join(negative["comment"].head(examples))})  # fmt: skip
    out = pd.DataFrame(
        rows, columns=[by, "comments", "negative", "negative_rate", "top_themes", "examples"]
    )
    return out.sort_values("negative_rate", ascending=False, ignore_index=True)
