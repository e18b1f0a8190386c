"""Quality reviews done in the app, the reviews an agent may see, and disputes.

A review from the form is stored in `qa_reviews` like an imported one (one row per criterion,
N/A as an empty score), so both feed the QA KPI and the critical-failure gate. Nobody reviews
their own tickets. An agent may dispute one of their reviews, with a reason, within the
rubric's dispute window; a manager upholds it or changes the criterion scores. A change keeps
the earlier scores in `qa_review_history`, moves the data version (scores update at once) and,
like every step here, goes to the audit log.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pandas as pd

from lib.auth import access, audit
from lib.core import errors, store
from lib.core.errors import ReviewError
from lib.core.paths import sql_file
from lib.quality import rubric as rubrics


def _check_scores(rubric: rubrics.Rubric, scores: dict) -> None:
    for c in rubric.criteria:
        if c.id not in scores:
            raise ReviewError(f"score every criterion: '{c.en}' has no score")
        points = scores[c.id]
        if points is None:
            if not c.na_allowed:
                raise ReviewError(f"'{c.en}' cannot be marked N/A")
            continue
        if points != int(points) or not 0 <= points <= c.points:
            raise ReviewError(f"'{c.en}' takes whole points from 0 to {c.points}, not {points}")


def _rows(rubric: rubrics.Rubric, scores: dict) -> list[tuple]:
    """(criterion, score, max_score, critical_failed) per criterion of the rubric."""
    return [
        (c.id, None if scores[c.id] is None else float(scores[c.id]), float(c.points),
         bool(c.critical and scores[c.id] is not None and scores[c.id] <= 0))
        for c in rubric.criteria
    ]  # fmt: skip


def submit(con, viewer: access.Viewer, *, ticket_id: str, agent: str, scores: dict,
           comment: str = "", item_id: int | None = None, now: dt.datetime | None = None) -> str:  # fmt: skip
    """Store a review of `agent`'s ticket by the viewer; returns its review id."""
    access.require(viewer, "review")
    if agent in (viewer.agent, viewer.username):
        raise ReviewError("nobody reviews their own tickets")
    rubric = rubrics.current(con)
    _check_scores(rubric, scores)
    review_id = f"APP-{uuid.uuid4().hex[:10].upper()}"
    now = now or dt.datetime.now()

    def work(cur):
        cur.executemany(
            "INSERT INTO qa_reviews (review_id, agent, reviewer, criterion, score, ticket_id, "
            "reviewed_at, max_score, critical_failed, comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[review_id, agent, viewer.username, crit, score, ticket_id, now, top, failed, comment]
             for crit, score, top, failed in _rows(rubric, scores)],
        )  # fmt: skip
        if item_id is not None:
            cur.execute(
                "UPDATE qa_queue SET status = 'done', review_id = ? WHERE item_id = ?",
                [review_id, item_id],
            )

    store.write(con, work)
    audit.record(audit.log_of(con), viewer.username, "qa.review", review_id,
                 {"agent": agent, "ticket": ticket_id, "score": rubric.review_score(scores)})  # fmt: skip
    return review_id


def scored(
    con, viewer: access.Viewer, agent: str | None = None, start=None, end=None
) -> pd.DataFrame:
    """One row per review the viewer may see (score 0–100, critical failure, open dispute)."""
    if agent is not None:
        access.require_agent(viewer, agent)
    frame = (
        con.cursor()
        .execute(
            f"""WITH s AS ({sql_file("qa_review_scores")})
                SELECT s.*, d.status AS dispute
                FROM s LEFT JOIN (SELECT review_id, arg_max(status, opened_at) AS status
                                  FROM qa_disputes GROUP BY review_id) d USING (review_id)
                WHERE (? IS NULL OR s.agent = ?)
                  AND (? IS NULL OR s.reviewed_at >= ?) AND (? IS NULL OR s.reviewed_at < ?)
                ORDER BY s.reviewed_at DESC, s.review_id""",
            [agent, agent, start, start, end, end],
        )
        .df()
    )
    return access.rows_for(viewer, frame)


def detail(con, viewer: access.Viewer, review_id: str, lang: str = "en") -> pd.DataFrame:
    """A review's criterion rows, labelled from the rubric where it knows them."""
    frame = (
        con.cursor()
        .execute(
            "SELECT q.agent, q.reviewer, q.ticket_id, q.reviewed_at, q.criterion, q.score, "
            "q.max_score, q.critical_failed, q.comment, c.criterion AS criterion_id "
            f"FROM qa_reviews q {rubrics.JOIN_CRITERIA} WHERE q.review_id = ? ORDER BY q.criterion",
            [review_id],
        )
        .df()
    )
    if frame.empty:
        raise ReviewError(f"there is no review {review_id}")
    access.require_agent(viewer, frame["agent"].iloc[0])
    known = {c.id: c for c in rubrics.current(con).criteria}
    frame["label"] = [
        known[cid].label(lang) if cid in known else crit
        for cid, crit in zip(frame["criterion_id"], frame["criterion"], strict=True)
    ]
    return frame


def _score_of(cur, review_id: str) -> float | None:
    row = cur.execute(
        f"SELECT score_pct FROM ({sql_file('qa_review_scores')}) WHERE review_id = ?", [review_id]
    ).fetchone()
    return None if row is None else row[0]


def open_dispute(con, viewer: access.Viewer, review_id: str, reason: str,
                 now: dt.datetime | None = None) -> int:  # fmt: skip
    """An agent disputes one of their reviews; returns the dispute id."""
    now = now or dt.datetime.now()
    if not str(reason or "").strip():
        raise ReviewError("say why you dispute the review")
    head = detail(con, viewer, review_id)  # refuses another agent's review
    agent, reviewed_at = head["agent"].iloc[0], head["reviewed_at"].max()
    if not viewer.is_agent and not viewer.can("decide_disputes"):
        raise errors.AccessDenied("only the agent or a manager may dispute a review")
    window = rubrics.current(con).dispute_window_days
    if pd.notna(reviewed_at) and now - pd.Timestamp(reviewed_at).to_pydatetime() > dt.timedelta(
        days=window
    ):
        raise ReviewError(f"reviews can be disputed within {window} days; this one is older")

    def work(cur):
        if cur.execute("SELECT count(*) FROM qa_disputes WHERE review_id = ? AND status = 'open'",
                       [review_id]).fetchone()[0]:  # fmt: skip
            raise ReviewError("this review is already disputed and waiting for a decision")
        return cur.execute(
            "INSERT INTO qa_disputes (review_id, agent, reason, opened_by, opened_at, score_before) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING dispute_id",
            [review_id, agent, reason.strip(), viewer.username, now, _score_of(cur, review_id)],
        ).fetchone()[0]

    dispute_id = store.write(con, work, bump=False)
    audit.record(audit.log_of(con), viewer.username, "qa.dispute", review_id,
                 {"dispute": dispute_id, "reason": reason.strip()})  # fmt: skip
    return dispute_id


def decide(con, viewer: access.Viewer, dispute_id: int, *, uphold: bool, note: str,
           scores: dict | None = None, now: dt.datetime | None = None) -> float | None:  # fmt: skip
    """A manager upholds the review or changes its scores; returns the review's new score."""
    access.require(viewer, "decide_disputes")
    if not str(note or "").strip():
        raise ReviewError("say why you decide so; the agent will read it")
    now = now or dt.datetime.now()
    rubric = rubrics.current(con)
    if not uphold:
        if scores is None:
            raise ReviewError("give the changed scores")
        _check_scores(rubric, scores)

    def work(cur):
        row = cur.execute("SELECT review_id, status FROM qa_disputes WHERE dispute_id = ?",
                          [dispute_id]).fetchone()  # fmt: skip
        if row is None:
            raise ReviewError(f"there is no dispute {dispute_id}")
        review_id, status = row
        if status != "open":
            raise errors.ConflictError(f"dispute {dispute_id} was already decided ({status})")
        if not uphold:
            cur.execute(
                "INSERT INTO qa_review_history SELECT review_id, criterion, score, critical_failed, "
                "?, ?, ? FROM qa_reviews WHERE review_id = ?",
                [now, viewer.username, dispute_id, review_id],
            )
            keep = cur.execute("SELECT any_value(agent), any_value(reviewer), any_value(ticket_id), "
                               "max(reviewed_at), any_value(comment), any_value(upload_id) "
                               "FROM qa_reviews WHERE review_id = ?", [review_id]).fetchone()  # fmt: skip
            cur.execute("DELETE FROM qa_reviews WHERE review_id = ?", [review_id])
            cur.executemany(
                "INSERT INTO qa_reviews (review_id, agent, reviewer, criterion, score, ticket_id, "
                "reviewed_at, max_score, critical_failed, comment, upload_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [[review_id, keep[0], keep[1], crit, score, keep[2], keep[3], top, failed,
                  keep[4], keep[5]] for crit, score, top, failed in _rows(rubric, scores)],
            )  # fmt: skip
        after = _score_of(cur, review_id)
        cur.execute(
            "UPDATE qa_disputes SET status = ?, decided_by = ?, decided_at = ?, decision = ?, "
            "score_after = ? WHERE dispute_id = ?",
            [
                "upheld" if uphold else "changed",
                viewer.username,
                now,
                note.strip(),
                after,
                dispute_id,
            ],
        )
        return review_id, after

    review_id, after = store.write(con, work, bump=not uphold)
    audit.record(audit.log_of(con), viewer.username, "qa.dispute.decide", review_id,
                 {"dispute": dispute_id, "decision": "upheld" if uphold else "changed",
                  "score_after": after, "note": note.strip()})  # fmt: skip
    return after


def disputes(con, viewer: access.Viewer, status: str | None = None) -> pd.DataFrame:
    """Disputes the viewer may see, newest first."""
    frame = (
        con.cursor()
        .execute(
            "SELECT * FROM qa_disputes WHERE (? IS NULL OR status = ?) ORDER BY opened_at DESC",
            [status, status],
        )
        .df()
    )
    return access.rows_for(viewer, frame)


def history(con, viewer: access.Viewer, review_id: str) -> pd.DataFrame:
    detail(con, viewer, review_id)  # the same access as the review itself
    return (
        con.cursor()
        .execute(
            "SELECT * FROM qa_review_history WHERE review_id = ? ORDER BY changed_at, criterion",
            [review_id],
        )
        .df()
    )
