"""360° peer feedback: colleagues rate each other (1–5 with a comment) once per period.

Reviews come from an upload (`peer_reviews`) or the form here; both feed the peer-score KPI
of the collaboration dimension. Anonymity: an agent reading the feedback about them never
sees who wrote it — no reviewer column, rows in an order unrelated to who wrote them — and,
for a period with fewer than `MIN_REVIEWERS` reviewers, only the mean, since single
reviews from one or two colleagues would be easy to attribute.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd

from lib.auth import access, audit
from lib.core import errors, store
from lib.metrics.kpis import agent_teams

MIN_REVIEWERS = 3


def submit(con, viewer: access.Viewer, *, agent: str, period: str, score: float,
           comment: str = "") -> None:  # fmt: skip
    """The viewer's review of a colleague for a period; a second one for the same colleague
    and period replaces the first."""
    access.require(viewer, "own_data")
    reviewer = viewer.agent if viewer.is_agent else viewer.username
    if not reviewer:
        raise errors.AccessDenied("this account is not linked to an agent")
    if agent == reviewer:
        raise ValueError("a peer review is about a colleague, not yourself")
    if not 1 <= float(score) <= 5:
        raise ValueError("the peer score runs from 1 to 5")
    dt.date.fromisoformat(f"{period}-01")  # a month such as 2026-10

    def work(cur):
        cur.execute("DELETE FROM peer_reviews WHERE period = ? AND reviewer = ? AND agent = ?",
                    [period, reviewer, agent])  # fmt: skip
        cur.execute(
            "INSERT INTO peer_reviews (period, reviewer, agent, score, comment) VALUES (?, ?, ?, ?, ?)",
            [period, reviewer, agent, float(score), comment.strip()],
        )

    store.write(con, work)
    audit.record(audit.log_of(con), viewer.username, "peer.review", agent, {"period": period})


def colleagues(con, viewer: access.Viewer) -> list[str]:
    """The names an agent may rate: the others in their team (everyone, if no team is known)."""

    teams = agent_teams(con)
    me = viewer.agent if viewer.is_agent else None
    mine = teams.loc[teams["agent"] == me, "team"]
    if len(mine) and mine.notna().all():
        teams = teams[teams["team"] == mine.iloc[0]]
    return sorted(set(teams["agent"]) - {me})


def about(con, viewer: access.Viewer, agent: str, period: str | None = None) -> pd.DataFrame:
    """Peer reviews of `agent` (one period or all): named for coaches, anonymous for agents."""
    access.require_agent(viewer, agent)
    frame = (
        con.cursor()
        .execute(
            "SELECT period, reviewer, score, comment FROM peer_reviews "
            "WHERE agent = ? AND (? IS NULL OR period = ?) ORDER BY period DESC, reviewer",
            [agent, period, period],
        )
        .df()
    )
    if not viewer.is_agent:
        return frame
    frame["order"] = [
        hashlib.sha256(f"{p}|{c}|{s}".encode()).hexdigest()
        for p, c, s in zip(frame["period"], frame["comment"], frame["score"], strict=True)
    ]
    frame = frame.sort_values(["period", "order"], ascending=[False, True])
    return frame.drop(columns=["reviewer", "order"]).reset_index(drop=True)


def summary(con, viewer: access.Viewer, agent: str) -> pd.DataFrame:
    """Per period: reviewers, mean score, and (when there are enough reviewers to stay
    anonymous, or for coaches) whether single reviews may be shown."""
    access.require_agent(viewer, agent)
    frame = (
        con.cursor()
        .execute(
            "SELECT period, count(*) AS reviewers, avg(score) AS mean FROM peer_reviews "
            "WHERE agent = ? GROUP BY period ORDER BY period DESC",
            [agent],
        )
        .df()
    )
    frame["shown"] = (frame["reviewers"] >= MIN_REVIEWERS) | (not viewer.is_agent)
    # With one or two reviewers the mean gives a single review away (a lone reviewer's score
    # is the mean): an agent sees it only where single reviews may be shown.
    frame["mean"] = frame["mean"].where(frame["shown"])
    return frame


def for_agent_view(con, viewer: access.Viewer, agent: str) -> pd.DataFrame:
    """The single reviews an agent may read: only periods with enough reviewers."""
    shown = summary(con, viewer, agent)
    periods = set(shown.loc[shown["shown"], "period"])
    rows = about(con, viewer, agent)
    return rows[rows["period"].isin(periods)].reset_index(drop=True)
