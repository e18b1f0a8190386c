"""Quality reviews: rubric scores, sampling, calibration statistics, disputes and 360° feedback."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from lib.app.stores import open_store
from lib.auth import audit
from lib.auth.access import Viewer
from lib.coaching import peer
from lib.core import errors
from lib.core.errors import AccessDenied
from lib.metrics.kpis import compute
from lib.quality import calibration, reviews, rubric, sampling
from tests.kpi_fixtures import D, insert, t

COACH = Viewer("coach", "trainer")
BOSS = Viewer("boss", "manager")
ANNA = Viewer("anna", "agent", "A")
BEN = Viewer("ben", "agent", "B")
FULL = {"greeting": 5, "attitude": 5, "accuracy": 5, "solved": 5, "empathy": 5, "compliance": 1}


def qa_value(con, agent="A"):
    frame = compute(con, dt.date(2026, 5, 1), dt.date(2026, 6, 1), kpi_ids=["qa_score"])
    return frame.set_index("grp").loc[agent, "value"]


# --- rubric -------------------------------------------------------------------------------


def test_review_score_is_the_weighted_mean_without_na_and_zero_on_a_critical_failure():
    r = rubric.from_dict(rubric.default_body())
    # weights greeting 1, attitude 2, accuracy 1.5 (N/A here), solved 2, empathy 1, compliance 1
    given = {**FULL, "greeting": 4, "attitude": 3, "accuracy": None, "solved": 5, "empathy": 2}
    expected = 100 * (1 * 4 / 5 + 2 * 3 / 5 + 2 * 5 / 5 + 1 * 2 / 5 + 1 * 1) / (1 + 2 + 2 + 1 + 1)
    assert r.review_score(given) == pytest.approx(expected)
    assert r.review_score({**given, "compliance": 0}) == 0.0


def test_the_rubric_rules_name_what_is_wrong():
    body = rubric.default_body()
    body["criteria"][0]["points"] = 7
    body["criteria"][1]["weight"] = -1
    body["criteria"][5]["na_allowed"] = True  # compliance is critical
    body["criteria"][2]["aliases"] = ["greeting"]  # the id of another criterion
    rules = {rule for rule, _ in rubric.check(body)}
    assert rules == {
        "rubric.points",
        "rubric.weights",
        "rubric.critical_applies",
        "rubric.names_unique",
    }


def test_a_form_review_feeds_the_qa_kpi_with_the_rubric_weights(con):
    insert(con, "tickets", [t(f"T{i}", "A", D(2026, 5, i + 1, 9), fr=30) for i in range(3)])
    scores = [
        {**FULL, "attitude": 3},
        {**FULL, "accuracy": None, "empathy": 4},
        {**FULL, "compliance": 0},
    ]
    for i, s in enumerate(scores):
        reviews.submit(con, COACH, ticket_id=f"T{i}", agent="A", scores=s, now=D(2026, 5, 20))
    first = 100 * (1 + 2 * 3 / 5 + 1.5 + 2 + 1 + 1) / 8.5
    second = 100 * (1 + 2 + 2 + 1 * 4 / 5 + 1) / 7
    assert qa_value(con) == pytest.approx((first + second + 0) / 3)
    log = audit.entries(audit.log_of(con), BOSS)
    assert (log["action"] == "qa.review").sum() == 3


def test_the_form_refuses_own_tickets_missing_scores_and_na_where_not_allowed(con):
    with pytest.raises(errors.ReviewError, match="own tickets"):
        reviews.submit(con, Viewer("a2", "trainer", "A"), ticket_id="T1", agent="A", scores=FULL)
    with pytest.raises(errors.ReviewError, match="no score"):
        reviews.submit(con, COACH, ticket_id="T1", agent="A", scores={"greeting": 5})
    with pytest.raises(errors.ReviewError, match="N/A"):
        reviews.submit(con, COACH, ticket_id="T1", agent="A", scores={**FULL, "attitude": None})
    with pytest.raises(errors.ReviewError, match="0 to 5"):
        reviews.submit(con, COACH, ticket_id="T1", agent="A", scores={**FULL, "attitude": 6})
    with pytest.raises(AccessDenied):
        reviews.submit(con, ANNA, ticket_id="T1", agent="B", scores=FULL)
    assert con.execute("SELECT count(*) FROM qa_reviews").fetchone()[0] == 0


def test_a_saved_rubric_version_rescores_reviews_and_refuses_a_stale_save(con):
    insert(con, "tickets", [t("T1", "A", D(2026, 5, 2, 9), fr=30)])
    insert(con, "tickets", [t("T2", "A", D(2026, 5, 3, 9), fr=30)])
    insert(con, "tickets", [t("T3", "A", D(2026, 5, 4, 9), fr=30)])
    for tid in ("T1", "T2", "T3"):
        reviews.submit(
            con, COACH, ticket_id=tid, agent="A", scores={**FULL, "attitude": 0}, now=D(2026, 5, 20)
        )
    before = qa_value(con)
    assert before == pytest.approx(100 * 6.5 / 8.5)
    body = rubric.default_body()
    body["criteria"][1]["weight"] = 0  # attitude no longer counts
    assert rubric.save(con, BOSS, body, reason="attitude is reviewed apart", base_version=0) == 1
    assert qa_value(con) == pytest.approx(100.0)
    with pytest.raises(errors.ConflictError):
        rubric.save(con, BOSS, body, reason="stale", base_version=0)
    with pytest.raises(errors.RubricError, match="reason"):
        rubric.save(con, BOSS, body, reason=" ")
    with pytest.raises(AccessDenied):
        rubric.save(con, COACH, body, reason="trainers do not change the rubric")
    assert rubric.current(con).version == 1


# --- sampling -----------------------------------------------------------------------------


def sampling_store(con):
    rows = []
    for agent in ("A", "B", "C"):
        for i in range(10):
            rows.append(t(f"{agent}{i}", agent, D(2026, 5, 1 + i, 9), fr=30 + 100 * (i == 9),
                          csat=2 if i == 0 else 5, escalated=i == 1))  # fmt: skip
    insert(con, "tickets", rows)
    insert(con, "qa_reviews", [{"review_id": "OLD", "agent": "A", "reviewer": "X",
                                "criterion": "greeting", "score": 5, "ticket_id": "A5"}])  # fmt: skip


def test_per_agent_sampling_respects_the_quota_and_skips_reviewed_tickets(con):
    sampling_store(con)
    summary = sampling.build(con, COACH, "2026-05", "per_agent", 4, ["X", "Y"], seed=3)
    q = sampling.queue(con, COACH)
    assert summary["queued"] == 12 and q.groupby("agent").size().to_dict() == {
        "A": 4,
        "B": 4,
        "C": 4,
    }
    assert "A5" not in set(q["ticket_id"])  # already reviewed
    assert q.groupby("reviewer").size().to_dict() == {"X": 6, "Y": 6}  # balanced
    again = sampling.build(con, COACH, "2026-05", "per_agent", 10, ["X"], seed=3)
    assert again["queued"] == 30 - 1 - 12  # nothing queued twice
    assert sampling.build(con, COACH, "2026-05", "random", 5, ["X"], seed=1)["queued"] == 0


def test_random_sampling_takes_the_total_asked_for(con):
    sampling_store(con)
    assert sampling.build(con, COACH, "2026-05", "random", 7, ["X"], seed=5)["queued"] == 7


def test_nobody_reviews_their_own_tickets(con):
    sampling_store(con)
    # Reviewer "B" is agent B; reviewer "coach-c" is linked to agent C.
    summary = sampling.build(con, COACH, "2026-05", "per_agent", 2, ["B", "coach-c"],
                             agent_of={"coach-c": "C"}, seed=2)  # fmt: skip
    q = sampling.queue(con, COACH)
    assert not ((q["reviewer"] == "B") & (q["agent"] == "B")).any()
    assert not ((q["reviewer"] == "coach-c") & (q["agent"] == "C")).any()
    assert summary["queued"] == 6 and summary["unassignable"] == 0
    only_self = sampling.build(con, COACH, "2026-05", "per_agent", 1, ["B"], seed=2)
    assert only_self["unassignable"] == 1  # B's own ticket: no one to give it to


def test_targeted_sampling_picks_tickets_with_reasons_first(con):
    sampling_store(con)
    sampling.build(con, COACH, "2026-05", "targeted", 3, ["X"], seed=4)
    q = sampling.queue(con, COACH).set_index("ticket_id")
    for agent in ("A", "B", "C"):
        assert {f"{agent}0", f"{agent}1", f"{agent}9"} == set(q[q["agent"] == agent].index)
    assert q.loc["A0", "reason"] == "low_csat" and q.loc["B1", "reason"] == "escalated"
    assert q.loc["C9", "reason"] == "slow_response"


# --- calibration --------------------------------------------------------------------------


def test_agreement_statistics_match_a_hand_computed_case():
    # Units (1,1), (2,3), (3,3): D_o = 2/6, D_e = 58/30, alpha = 1 − (1/3)/(58/30) = 24/29.
    units = [[1, 1], [2, 3], [3, 3]]
    assert calibration.krippendorff_interval(units) == pytest.approx(24 / 29)
    assert calibration.percent_agreement(units) == pytest.approx(2 / 3)
    # Three coders on one unit and one lone value (left out): (1,2,2), (4,4), (5)
    # D_o = (1/5)·[(1+1+0)·2/2 + 0] = 2/5; D_e over 1,2,2,4,4: ordered-pair sum 72 → 72/20.
    assert calibration.krippendorff_interval([[1, 2, 2], [4, 4], [5]]) == pytest.approx(
        1 - (2 / 5) / (72 / 20)
    )
    assert calibration.percent_agreement([[1, 2, 2], [4, 4]]) == pytest.approx(2 / 4)


def test_a_reviewer_with_a_plus_one_bias_is_flagged_and_the_others_are_not(con):
    rows = []
    for i in range(8):
        for reviewer, bias in (("fair1", 0), ("fair2", 0), ("lenient", 1)):
            for crit in ("greeting", "attitude", "accuracy", "solved", "empathy"):
                base = 2 + (i + len(crit)) % 3  # 2..4, the same for every reviewer
                wobble = (i % 2) if reviewer == "fair2" and crit == "greeting" else 0
                rows.append({"review_id": f"{reviewer}-{i}", "agent": "A", "reviewer": reviewer,
                             "criterion": crit, "score": base + bias - wobble, "max_score": 5,
                             "ticket_id": f"T{i}", "reviewed_at": D(2026, 5, 10)})  # fmt: skip
    insert(con, "qa_reviews", rows)
    bias = calibration.reviewer_bias(con, COACH).set_index("reviewer")
    assert bias.loc["lenient", "flagged"] and bias.loc["lenient", "tickets"] == 8
    assert bias.loc["lenient", "bias"] > 10
    assert not bias.loc["fair1", "flagged"] and not bias.loc["fair2", "flagged"]
    agree = calibration.agreement(con, COACH).set_index("criterion_id")
    assert agree.loc["attitude", "agreement"] == pytest.approx(1 / 3)  # only fair1 = fair2
    assert agree.loc["attitude", "tickets"] == 8


def test_calibration_is_for_reviewers_only(con):
    with pytest.raises(AccessDenied):
        calibration.reviewer_bias(con, ANNA)


# --- disputes -----------------------------------------------------------------------------


def disputed(con):
    insert(con, "tickets", [t(f"T{i}", "A", D(2026, 5, 2 + i, 9), fr=30) for i in range(3)])
    ids = [reviews.submit(con, COACH, ticket_id=f"T{i}", agent="A",
                          scores={**FULL, "solved": 1}, now=D(2026, 5, 20)) for i in range(3)]  # fmt: skip
    return ids


def test_a_dispute_changes_the_score_and_is_audited(con):
    ids = disputed(con)
    before = qa_value(con)
    did = reviews.open_dispute(con, ANNA, ids[0], "the customer's problem was solved",
                               now=D(2026, 5, 22))  # fmt: skip
    with pytest.raises(errors.ReviewError, match="already disputed"):
        reviews.open_dispute(con, ANNA, ids[0], "again", now=D(2026, 5, 22))
    with pytest.raises(AccessDenied):
        reviews.decide(con, COACH, did, uphold=False, note="n", scores=FULL)
    after = reviews.decide(con, BOSS, did, uphold=False, note="solved on the second reply",
                           scores=FULL, now=D(2026, 5, 23))  # fmt: skip
    assert after == pytest.approx(100.0)
    assert qa_value(con) == pytest.approx(before + (100 - before) / 3)
    row = reviews.disputes(con, ANNA).iloc[0]
    assert row["status"] == "changed" and row["score_after"] == pytest.approx(100.0)
    old = reviews.history(con, ANNA, ids[0]).set_index("criterion")
    assert old.loc["solved", "score"] == 1
    actions = set(audit.entries(audit.log_of(con), BOSS)["action"])
    assert {"qa.dispute", "qa.dispute.decide"} <= actions
    with pytest.raises(errors.ConflictError):
        reviews.decide(con, BOSS, did, uphold=True, note="twice")


def test_an_upheld_dispute_keeps_the_score(con):
    ids = disputed(con)
    before = qa_value(con)
    did = reviews.open_dispute(con, ANNA, ids[1], "too strict", now=D(2026, 5, 21))
    reviews.decide(con, BOSS, did, uphold=True, note="the rubric says so")
    assert qa_value(con) == pytest.approx(before)
    assert reviews.disputes(con, BOSS).iloc[0]["status"] == "upheld"


def test_disputes_are_refused_late_and_for_other_agents(con):
    ids = disputed(con)
    with pytest.raises(errors.ReviewError, match="within 7 days"):
        reviews.open_dispute(con, ANNA, ids[0], "late", now=D(2026, 5, 28))
    with pytest.raises(AccessDenied):
        reviews.open_dispute(con, BEN, ids[0], "not mine", now=D(2026, 5, 21))
    with pytest.raises(errors.ReviewError, match="why"):
        reviews.open_dispute(con, ANNA, ids[0], "  ", now=D(2026, 5, 21))
    assert reviews.disputes(con, BOSS).empty
    assert reviews.scored(con, BEN).empty  # B sees none of A's reviews


# --- 360° feedback ------------------------------------------------------------------------


def test_peer_feedback_is_anonymous_in_the_agents_view(con):
    insert(con, "peer_reviews", [
        {"period": "2026-05", "reviewer": r, "agent": "A", "score": s, "comment": c}
        for r, s, c in (("B", 4.0, "helps with refunds"), ("C", 5.0, "shares scripts"),
                        ("D", 3.0, "slow to reply in the group"))
    ] + [{"period": "2026-04", "reviewer": "B", "agent": "A", "score": 2.0, "comment": "only one"}])  # fmt: skip
    mine = peer.for_agent_view(con, ANNA, "A")
    assert "reviewer" not in mine.columns
    assert set(mine["period"]) == {"2026-05"}  # April had one reviewer: only its mean is shown
    assert sorted(mine["comment"]) == sorted(["helps with refunds", "shares scripts",
                                              "slow to reply in the group"])  # fmt: skip
    summary = peer.summary(con, ANNA, "A").set_index("period")
    # April's mean would be its lone reviewer's score: hidden from the agent, shown to a coach.
    assert pd.isna(summary.loc["2026-04", "mean"]) and not summary.loc["2026-04", "shown"]
    assert summary.loc["2026-05", "mean"] == 4.0
    assert peer.summary(con, COACH, "A").set_index("period").loc["2026-04", "mean"] == 2.0
    assert set(peer.about(con, COACH, "A")["reviewer"]) == {"B", "C", "D"}
    with pytest.raises(AccessDenied):
        peer.about(con, BEN, "A")


def test_an_agent_rates_a_colleague_once_per_period_and_not_themselves(con):
    peer.submit(con, BEN, agent="A", period="2026-05", score=4, comment="good")
    peer.submit(con, BEN, agent="A", period="2026-05", score=5, comment="better")
    rows = peer.about(con, COACH, "A")
    assert len(rows) == 1 and rows.iloc[0]["score"] == 5 and rows.iloc[0]["reviewer"] == "B"
    with pytest.raises(ValueError, match="yourself"):
        peer.submit(con, BEN, agent="B", period="2026-05", score=5)
    with pytest.raises(ValueError, match="1 to 5"):
        peer.submit(con, BEN, agent="A", period="2026-05", score=6)


# --- demo ---------------------------------------------------------------------------------


def test_demo_calibration_shows_the_lenient_reviewer(demo_store):
    con = open_store(demo_store, read_only=True)
    bias = calibration.reviewer_bias(con, COACH).set_index("reviewer")
    assert bias["flagged"].to_dict() == {"李娜": False, "王芳": True, "陈静": False}
    assert bias.loc["王芳", "tickets"] >= 10
    assert not calibration.agreement(con, COACH).empty
    assert len(reviews.disputes(con, BOSS, "open")) == 1
    assert len(sampling.queue(con, COACH, "demo-trainer")) >= 20
    con.close()
