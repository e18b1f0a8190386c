"""Sampling tickets for quality review (抽样质检): building a period's review queue.

Three ways to pick: `random` (N tickets from the whole period), `per_agent` (N per agent) and
`targeted` (up to N per agent among tickets that a customer rated low, that waited longer than
the period's 90th-percentile first response, whose comment reads negative, or that were
escalated — the ones with most reasons first). Tickets already reviewed or queued are not
picked again. Each pick goes to the reviewer with the fewest open items, never to the agent
who handled it; a ticket no reviewer may take is reported, not queued.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from lib.auth import access, audit
from lib.core import store
from lib.metrics import sentiment

METHODS = ("random", "per_agent", "targeted")
TARGETS = ("low_csat", "slow_response", "negative_comment", "escalated")
LOW_CSAT = 3  # ratings below 3 (of 5) count as low


def month_bounds(period: str) -> tuple[dt.date, dt.date]:
    start = dt.date.fromisoformat(f"{period}-01")
    end = (pd.Timestamp(start) + pd.offsets.MonthBegin(1)).date()
    return start, end


def candidates(con, period: str) -> pd.DataFrame:
    """The period's tickets not reviewed or queued yet, with the reasons to target each."""
    start, end = month_bounds(period)
    frame = (
        con.cursor()
        .execute(
            """SELECT t.ticket_id, t.agent, t.created_at, t.csat, t.comment,
                      coalesce(t.escalated, false) AS escalated,
                      epoch(t.first_response_at - t.created_at) AS first_response_s
               FROM tickets t
               WHERE t.created_at >= ? AND t.created_at < ?
                 AND t.ticket_id NOT IN (SELECT ticket_id FROM qa_reviews WHERE ticket_id IS NOT NULL)
                 AND t.ticket_id NOT IN (SELECT ticket_id FROM qa_queue)
               ORDER BY t.ticket_id""",
            [start, end],
        )
        .df()
    )
    p90 = frame["first_response_s"].quantile(0.9) if len(frame) else np.nan
    frame["low_csat"] = frame["csat"].lt(LOW_CSAT).fillna(False).astype(bool)
    frame["slow_response"] = frame["first_response_s"].gt(p90).fillna(False).astype(bool)
    frame["negative_comment"] = [
        bool(c) and sentiment.classify(c) == "negative" for c in frame["comment"].fillna("")
    ]
    frame["escalated"] = frame["escalated"].astype(bool)
    return frame


def pick(
    frame: pd.DataFrame, method: str, count: int, targets=TARGETS, seed: int = 0
) -> pd.DataFrame:
    """The tickets to review, each with its reason."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}")
    if count < 1:
        raise ValueError("the number of tickets must be at least 1")
    rng = np.random.default_rng(seed)
    shuffled = frame.iloc[rng.permutation(len(frame))]
    if method == "random":
        picked = shuffled.head(count).assign(reason="random")
    elif method == "per_agent":
        picked = shuffled.groupby("agent", sort=True).head(count).assign(reason="per_agent")
    else:
        targets = [t for t in targets if t in TARGETS] or list(TARGETS)
        hits = shuffled[targets]
        chosen = shuffled.assign(
            reasons=hits.sum(axis=1),
            reason=hits.apply(lambda r: ",".join(t for t in targets if r[t]), axis=1),
        )
        chosen = chosen[chosen["reasons"] > 0].sort_values(
            "reasons", ascending=False, kind="stable"
        )
        picked = chosen.groupby("agent", sort=True).head(count)
    return picked.sort_values(["agent", "ticket_id"]).reset_index(drop=True)


def assign(picked: pd.DataFrame, reviewers: list[str], agent_of: dict | None = None,
           load: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """Give each pick to the least-loaded reviewer who is not its agent; returns (assigned,
    unassignable)."""
    agent_of = agent_of or {}
    load = {r: (load or {}).get(r, 0) for r in reviewers}
    chosen = []
    for agent in picked["agent"]:
        allowed = [r for r in reviewers if r != agent and agent_of.get(r) != agent]
        if not allowed:
            chosen.append(None)
            continue
        who = min(allowed, key=lambda r: (load[r], reviewers.index(r)))
        load[who] += 1
        chosen.append(who)
    out = picked.assign(reviewer=chosen)
    return (out[out["reviewer"].notna()].reset_index(drop=True),
            out[out["reviewer"].isna()].reset_index(drop=True))  # fmt: skip


def build(con, viewer: access.Viewer, period: str, method: str, count: int, reviewers: list[str],
          *, agent_of: dict | None = None, targets=TARGETS, seed: int | None = None,
          now: dt.datetime | None = None) -> dict:  # fmt: skip
    """Sample the period, assign, and add the picks to the queue; returns a summary."""
    access.require(viewer, "review")
    reviewers = [r for r in dict.fromkeys(reviewers) if str(r).strip()]
    if not reviewers:
        raise ValueError("choose at least one reviewer")
    seed = int(dt.datetime.now().timestamp()) if seed is None else seed
    picked = pick(candidates(con, period), method, count, targets, seed)
    load = open_load(con)
    queued, unassignable = assign(picked, reviewers, agent_of, load)
    now = now or dt.datetime.now()

    def work(cur):
        cur.executemany(
            "INSERT INTO qa_queue (period, ticket_id, agent, reviewer, reason, created_at, "
            "created_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [[period, r.ticket_id, r.agent, r.reviewer, r.reason, now, viewer.username]
             for r in queued.itertuples()],
        )  # fmt: skip

    if len(queued):
        store.write(con, work, bump=False)
    summary = {"period": period, "method": method, "queued": len(queued),
               "unassignable": len(unassignable), "per_reviewer": queued["reviewer"].value_counts().to_dict(),
               "per_agent": queued["agent"].value_counts().to_dict()}  # fmt: skip
    audit.record(audit.log_of(con), viewer.username, "qa.queue", period,
                 {k: v for k, v in summary.items() if k != "per_agent"})  # fmt: skip
    return summary


def open_load(con) -> dict[str, int]:
    rows = (
        con.cursor()
        .execute("SELECT reviewer, count(*) FROM qa_queue WHERE status = 'open' GROUP BY reviewer")
        .fetchall()
    )
    return dict(rows)


def queue(
    con, viewer: access.Viewer, reviewer: str | None = None, status: str | None = "open"
) -> pd.DataFrame:
    """Queue items, optionally one reviewer's and one status, oldest first."""
    access.require(viewer, "review")
    sql = "SELECT * FROM qa_queue WHERE (? IS NULL OR reviewer = ?) AND (? IS NULL OR status = ?) "
    return (
        con.cursor()
        .execute(sql + "ORDER BY created_at, item_id", [reviewer, reviewer, status, status])
        .df()
    )


def skip(con, viewer: access.Viewer, item_id: int) -> None:
    access.require(viewer, "review")
    store.write(con, lambda cur: cur.execute(
        "UPDATE qa_queue SET status = 'skipped' WHERE item_id = ? AND status = 'open'", [item_id]
    ), bump=False)  # fmt: skip
    audit.record(audit.log_of(con), viewer.username, "qa.queue.skip", f"item {item_id}")
