"""Calibration of QA reviewers: do they agree, and who scores systematically high or low?

Tickets scored by two or more reviewers are the calibration set. Per criterion: Krippendorff's
alpha (interval metric; 1 = perfect agreement, 0 = no better than chance) and percent
agreement (share of reviewer pairs giving the same points). Per reviewer: bias — the mean of
(their review score − the median of all reviewers' scores on the same ticket), on the 0–100
review score — and its spread (standard deviation). The median keeps one lenient reviewer from
making the fair ones look harsh; with only two reviewers on a ticket it is their mean, and the
difference is split between them (two cannot tell who is off). A reviewer is flagged as drifting
when the bias is at least the rubric's `flag_bias` points, over at least `min_shared` tickets,
and clear of noise (|bias| ≥ 2 standard errors).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from lib.auth import access
from lib.core.paths import sql_file
from lib.quality import rubric as rubrics


def krippendorff_interval(units: list[list[float]]) -> float | None:
    """Krippendorff's alpha (interval) over units of values; units with one value are left out."""
    units = [[float(v) for v in u if v is not None and not math.isnan(v)] for u in units]
    units = [u for u in units if len(u) >= 2]
    values = np.array([v for u in units for v in u])
    n = len(values)
    if n < 2:
        return None
    observed = (
        sum(
            ((np.subtract.outer(np.array(u), np.array(u)) ** 2).sum()) / (len(u) - 1) for u in units
        )
        / n
    )
    expected = (np.subtract.outer(values, values) ** 2).sum() / (n * (n - 1))
    if expected == 0:
        return 1.0 if observed == 0 else None
    return float(1 - observed / expected)


def percent_agreement(units: list[list[float]]) -> float | None:
    """Share of reviewer pairs, within each unit, that gave the same value."""
    agree = pairs = 0
    for u in units:
        u = [v for v in u if v is not None and not math.isnan(v)]
        for i in range(len(u)):
            for j in range(i + 1, len(u)):
                pairs += 1
                agree += u[i] == u[j]
    return agree / pairs if pairs else None


def shared_scores(con) -> pd.DataFrame:
    """Criterion scores on tickets that two or more reviewers scored (one review per
    reviewer and ticket: the latest)."""
    return (
        con.cursor()
        .execute(
            f"""WITH q AS (
                   SELECT q.*, coalesce(c.criterion, q.criterion) AS criterion_id
                   FROM qa_reviews q {rubrics.JOIN_CRITERIA}
                   WHERE q.ticket_id IS NOT NULL),
               latest AS (
                   SELECT ticket_id, reviewer, arg_max(review_id, reviewed_at) AS review_id
                   FROM (SELECT DISTINCT ticket_id, reviewer, review_id, reviewed_at FROM q)
                   GROUP BY ticket_id, reviewer),
               shared AS (
                   SELECT ticket_id FROM latest GROUP BY ticket_id HAVING count(*) >= 2)
               SELECT q.ticket_id, q.agent, q.reviewer, q.review_id, q.criterion_id, q.score
               FROM q JOIN latest USING (ticket_id, reviewer, review_id)
               WHERE q.ticket_id IN (SELECT ticket_id FROM shared)"""
        )
        .df()
    )


def agreement(con, viewer: access.Viewer, lang: str = "en") -> pd.DataFrame:
    """Per criterion: shared tickets, percent agreement and Krippendorff's alpha."""
    access.require(viewer, "review")
    scores = shared_scores(con)
    known = {c.id: c for c in rubrics.current(con).criteria}
    rows = []
    for crit, grp in scores.groupby("criterion_id", sort=False):
        units = [g["score"].tolist() for _, g in grp.groupby("ticket_id")]
        rows.append({"criterion": known[crit].label(lang) if crit in known else crit,
                     "criterion_id": crit, "tickets": len(units),
                     "agreement": percent_agreement(units), "alpha": krippendorff_interval(units)})  # fmt: skip
    order = {c: i for i, c in enumerate(known)}
    frame = pd.DataFrame(
        rows, columns=["criterion", "criterion_id", "tickets", "agreement", "alpha"]
    )
    return frame.sort_values("criterion_id", key=lambda s: s.map(order).fillna(99)).reset_index(
        drop=True
    )


def reviewer_bias(con, viewer: access.Viewer) -> pd.DataFrame:
    """Per reviewer: shared tickets, bias against the others (0–100 points), spread, flag."""
    access.require(viewer, "review")
    rubric = rubrics.current(con)
    reviews = (
        con.cursor()
        .execute(
            f"""WITH s AS ({sql_file("qa_review_scores")}),
                latest AS (SELECT ticket_id, reviewer, arg_max(score_pct, reviewed_at) AS score
                           FROM s WHERE ticket_id IS NOT NULL GROUP BY ticket_id, reviewer)
                SELECT * FROM latest WHERE ticket_id IN
                    (SELECT ticket_id FROM latest GROUP BY ticket_id HAVING count(*) >= 2)"""
        )
        .df()
    )
    rows = []
    for reviewer in sorted(reviews["reviewer"].unique()):
        diffs = []
        for _, grp in reviews[reviews["ticket_id"].isin(
                reviews.loc[reviews["reviewer"] == reviewer, "ticket_id"])].groupby("ticket_id"):  # fmt: skip
            mine = grp.loc[grp["reviewer"] == reviewer, "score"].iloc[0]
            if pd.notna(mine) and grp["score"].notna().sum() >= 2:
                diffs.append(mine - grp["score"].median())
        n = len(diffs)
        bias = float(np.mean(diffs)) if n else None
        spread = float(np.std(diffs, ddof=1)) if n >= 2 else None
        clear = spread is not None and (spread == 0 or abs(bias) >= 2 * spread / math.sqrt(n))
        flagged = bool(n >= rubric.min_shared and bias is not None
                       and abs(bias) >= rubric.flag_bias and clear)  # fmt: skip
        rows.append({"reviewer": reviewer, "tickets": n, "bias": bias, "spread": spread,
                     "flagged": flagged})  # fmt: skip
    return pd.DataFrame(rows, columns=["reviewer", "tickets", "bias", "spread", "flagged"])
