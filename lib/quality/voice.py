"""Voice of the customer: comment sentiment, themes and examples per agent or team.

Reads customer comments on tickets, labels them with `lib.metrics.sentiment` (the trained model and the
editable lexicon; each comment's result is stored once per model and lexicon version), and
sums up, per agent or team, how many were negative, which themes come up most in negative
comments, and a few examples to read. `comment_view` lists the comments with their label,
emotion tags and the evidence behind the label, in the viewer's language. From uploaded transcripts it
finds the forbidden phrases (禁忌语) in agents' replies, per agent or team, with examples.
"""

from __future__ import annotations

import pandas as pd

from lib.auth import access
from lib.core.paths import sql_file
from lib.metrics import sentiment


def comments(con, viewer: access.Viewer, start, end, team: str | None = None) -> pd.DataFrame:
    """Every comment in [start, end) with agent, team, sentiment, emotions, the evidence
    (a `sentiment.Result` per row, in `result`) and themes."""
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
    results = sentiment.stored(con, frame["comment"])
    blank = sentiment.Result("neutral")
    frame["result"] = [results.get(c, blank) for c in frame["comment"]]
    frame["sentiment"] = [r.label for r in frame["result"]]
    frame["emotions"] = [r.emotions for r in frame["result"]]
    frame["themes"] = [sentiment.themes(c) for c in frame["comment"]]
    return frame


def comment_view(
    frame: pd.DataFrame, lang: str = "en", label: str | None = None, emotion: str | None = None
) -> pd.DataFrame:
    """The comments to read, newest first, optionally only one label or emotion: when, agent,
    comment, label, emotions and why (lexicon terms and model n-grams), in `lang`."""
    part = frame
    if label:
        part = part[part["sentiment"] == label]
    if emotion:
        part = part[[emotion in e for e in part["emotions"]]]
    part = part.sort_values("created_at", ascending=False)
    sep = "、" if lang == "zh" else ", "
    return pd.DataFrame({
        "created_at": part["created_at"],
        "agent": part["agent"],
        "comment": part["comment"],
        "label": [sentiment.label_name(v, lang) for v in part["sentiment"]],
        "emotions": [sep.join(sentiment.emotion_label(e, lang) for e in es) for es in part["emotions"]],
        "evidence": [r.evidence(lang) for r in part["result"]],
    }).reset_index(drop=True)  # fmt: skip


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


# Senders that are the shop's side of a conversation, as exports spell them (lower case).
AGENT_SENDERS = {
    "agent",
    "staff",
    "support",
    "seller",
    "operator",
    "客服",
    "卖家",
    "商家",
    "客服人员",
}


def replies(con, viewer: access.Viewer, start, end, team: str | None = None) -> pd.DataFrame:
    """Agents' messages sent in [start, end) (a message without a time counts on its ticket's
    creation day) with agent, team and the forbidden phrases found in each."""
    access.require(viewer, "team_views")
    frame = (
        con.cursor()
        .execute(
            f"""WITH teams AS ({sql_file("agent_teams")}),
            m AS (SELECT m.ticket_id, m.seq, m.sender, m.text,
                         coalesce(m.agent, t.agent) AS agent,
                         coalesce(m.sent_at, t.created_at) AS sent_at
                  FROM messages m LEFT JOIN tickets t USING (ticket_id))
            SELECT m.ticket_id, m.seq, coalesce(m.agent, '—') AS agent,
                   coalesce(tm.team, '—') AS team, m.sent_at, m.sender, m.text
            FROM m LEFT JOIN teams tm USING (agent)
            WHERE m.sent_at >= $start AND m.sent_at < $end
              AND (lower(trim(m.sender)) IN (SELECT unnest($senders)) OR m.sender = m.agent)
            ORDER BY m.sent_at, m.ticket_id, m.seq""",
            {"start": start, "end": end, "senders": sorted(AGENT_SENDERS)},
        )
        .df()
    )
    if team:
        frame = frame[frame["team"] == team].reset_index(drop=True)
    frame["phrases"] = [sentiment.forbidden(text) for text in frame["text"]]
    return frame


def forbidden_summary(frame: pd.DataFrame, by: str = "agent", examples: int = 2) -> pd.DataFrame:
    """Per agent (or team): replies checked, replies with a forbidden phrase, their share, the
    phrases used most, and examples (ticket and text)."""
    rows = []
    for key, part in frame.groupby(by):
        hits = part[part["phrases"].str.len() > 0]
        counts = hits["phrases"].explode().value_counts()
        rows.append({by: key, "replies": len(part), "with_forbidden": len(hits),
                     "forbidden_rate": len(hits) / len(part),
                     "phrases": ", ".join(counts.index[:3]),
                     "examples": " | ".join(f"#{r.ticket_id}: {r.text}" for r in hits.head(examples).itertuples())})  # fmt: skip
    out = pd.DataFrame(rows, columns=[by, "replies", "with_forbidden", "forbidden_rate", "phrases",
                                      "examples"])  # fmt: skip
    return out.sort_values(["with_forbidden", by], ascending=[False, True], ignore_index=True)
