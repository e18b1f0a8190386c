"""The coaching loop: notes with history, recommendations, plans judged from data, rewards."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
import yaml

from lib.app.stores import open_store
from lib.auth import access, rulesets
from lib.auth.access import Viewer
from lib.coaching import notes, plans, rewards, training
from lib.core import errors
from lib.core.errors import AccessDenied
from lib.core.periods import parse
from lib.metrics import kpis, schemes, scoring
from tests.kpi_fixtures import insert, t

D = dt.datetime
COACH = Viewer("coach", "trainer")
BOSS = Viewer("boss", "manager")
AGENT_A = Viewer("a", "agent", "A")
AGENT_B = Viewer("b", "agent", "B")
AJIE = Viewer("ajie", "agent", "阿杰")


# --- notes ------------------------------------------------------------------------------


def test_notes_keep_their_history_and_refuse_stale_edits(con, tmp_path):
    nid = notes.add(con, COACH, "A", "concern", "Replies are slow", period="2026-05",
                    kpi="first_response_time", now=D(2026, 6, 1, 9))  # fmt: skip
    v2 = notes.edit(
        con, COACH, nid, "Replies are slow on Mondays", base_version=1, now=D(2026, 6, 1, 10)
    )
    with pytest.raises(errors.ConflictError, match="after you opened version 1"):
        notes.edit(con, BOSS, nid, "Someone else's change", base_version=1)
    v3 = notes.edit(
        con, BOSS, nid, "Slow on Mondays; better since", base_version=v2, kind="agreement"
    )
    hist = notes.history(con, COACH, nid)
    assert list(hist["version"]) == [3, 2, 1] and v3 == 3
    assert list(hist["body"]) == ["Slow on Mondays; better since", "Replies are slow on Mondays",
                                  "Replies are slow"]  # fmt: skip
    assert list(hist["edited_by"]) == ["boss", "coach", "coach"]
    assert list(hist["kind"]) == ["agreement", "concern", "concern"]
    log = [
        json.loads(x)["action"] for x in (tmp_path / "test.audit.jsonl").read_text().splitlines()
    ]
    assert log == ["note.create", "note.edit", "note.edit"]  # the refused edit wrote nothing


def test_agents_read_acknowledge_and_reply_to_their_own_notes_only(con):
    mine = notes.add(con, COACH, "A", "concern", "Check the refund rules")
    theirs = notes.add(con, COACH, "B", "praise", "Great week")
    assert list(notes.timeline(con, AGENT_A)["note_id"]) == [mine]
    with pytest.raises(AccessDenied):
        notes.timeline(con, AGENT_A, agent="B")
    with pytest.raises(AccessDenied):
        notes.acknowledge(con, AGENT_A, theirs)
    with pytest.raises(AccessDenied):
        notes.acknowledge(con, COACH, mine)  # only the agent acknowledges
    with pytest.raises(AccessDenied):
        notes.add(con, AGENT_A, "A", "praise", "I did well")
    notes.acknowledge(con, AGENT_A, mine, reply="Read them, thanks")
    row = notes.timeline(con, COACH, agent="A").iloc[0]
    assert row["reply"] == "Read them, thanks" and pd.notna(row["acknowledged_at"])
    with pytest.raises(errors.NoteError):
        notes.add(con, COACH, "A", "gossip", "x")
    notes.delete(con, COACH, theirs, base_version=1)
    assert notes.timeline(con, COACH, agent="B").empty


def test_collaboration_kpis_from_notes(con):
    """feedback_closure = concern/agreement notes acknowledged within 7 days ÷ such notes;
    knowledge_contributions = knowledge notes."""
    may = D(2026, 5, 4, 9)
    n1 = notes.add(con, COACH, "A", "concern", "one", now=may)
    n2 = notes.add(con, COACH, "A", "agreement", "two", now=may)
    notes.add(con, COACH, "A", "concern", "three (never acknowledged)", now=may)
    notes.add(con, COACH, "A", "praise", "praise is not counted", now=may)
    notes.add(con, COACH, "A", "knowledge", "wrote the refund FAQ", now=may)
    notes.add(con, COACH, "A", "knowledge", "shared a script", now=may)
    notes.acknowledge(con, AGENT_A, n1, now=D(2026, 5, 6))  # 2 days: in time
    notes.acknowledge(con, AGENT_A, n2, now=D(2026, 5, 20))  # 16 days: too late
    out = kpis.compute(con, dt.date(2026, 5, 1), dt.date(2026, 6, 1),
                       kpi_ids=["feedback_closure", "knowledge_contributions"]).set_index("kpi")  # fmt: skip
    assert out.loc["feedback_closure", "value"] == pytest.approx(1 / 3)
    assert out.loc["feedback_closure", "n"] == 3
    assert out.loc["knowledge_contributions", "value"] == 2
    assert out.loc["feedback_closure", "source"] == "notes"


# --- recommendations and mentors --------------------------------------------------------


def card_of(rows: list[tuple], teams: dict[str, str]) -> scoring.Scorecard:
    """A scorecard from (agent, kpi, score, n) rows, for recommendation tests."""
    scheme = schemes.from_dict(schemes.preset_body("balanced"))
    details = pd.DataFrame([{"agent": a, "kpi": k, "score": s, "n": n, "status": "scored",
                             "weight_share": 0.25, "value": s / 100, "target": 0.9,
                             "min_sample": 10, "dimension": "experience"} for a, k, s, n in rows])  # fmt: skip
    agents = pd.DataFrame({"agent": list(teams), "team": list(teams.values())})
    return scoring.Scorecard(scheme, parse("2026-05"), agents, details)


def test_rules_fire_with_their_reasons_and_the_best_mentor():
    teams = {"A": "T1", "B": "T1", "C": "T2", "E": "T1"}
    card = card_of([("A", "csat", 40, 50), ("A", "fcr_rate", 85, 50),
                    ("B", "csat", 88, 50), ("C", "csat", 97, 50), ("E", "csat", 99, 30)], teams)  # fmt: skip
    recs = training.recommend(card, "A", "en")
    assert list(recs["module"]) == ["empathy_tone"]
    assert recs.iloc[0]["impact"] == pytest.approx(0.25 * 60)
    assert recs.iloc[0]["reason"].startswith("Problems get solved")
    assert "40.0%" in recs.iloc[0]["reason"] and "90.0%" in recs.iloc[0]["reason"]
    # B (88) and E (99) are strong in A's team; C (97) is in another: E, the best of the team.
    assert recs.iloc[0]["mentor"] == "E"
    card = card_of([("A", "csat", 40, 50), ("A", "fcr_rate", 30, 50), ("C", "csat", 97, 50)], teams)
    recs = training.recommend(card, "A", "zh")
    assert list(recs["module"]) == ["problem_solving", "empathy_tone"]  # low_csat, then low_fcr
    assert recs.iloc[0]["mentor"] == "C"  # nobody strong in the team: the best elsewhere
    assert "先把问题解决好" in recs.iloc[0]["reason"]
    assert training.recommend(card_of([("A", "csat", 95, 50)], teams), "A").empty


def test_training_catalogue_rules():
    assert training.check(yaml.safe_load(rulesets.shipped("training"))) == []
    bad = {"modules": [{"id": "x", "zh": "x", "en": "x", "method": "lecture"},
                       {"id": "x", "zh": "y", "en": "y", "method": "education"}],
           "rules": [{"id": "r", "when": [{"kpi": "nope", "weak": True}], "modules": ["zz"],
                      "reason": {"en": "only English"}}]}  # fmt: skip
    names = {rule for rule, _ in training.check(bad)}
    assert names == {"module.method", "module.unique_id", "rule.kpi_known", "rule.module_known",
                     "rule.reason"}  # fmt: skip


# --- plans and their outcome ------------------------------------------------------------


def plan_store(con, a_before: int, a_after: int, b_before: int, b_after: int, n: int = 20):
    """Agents A and B in team T. FCR before (April) and during (May) a plan starting May 1:
    `x_before` of n resolved tickets with one contact, the rest needing two."""
    rows = []
    for agent, good_before, good_after in (("A", a_before, a_after), ("B", b_before, b_after)):
        for month, good in ((4, good_before), (5, good_after)):
            for i in range(n):
                rows.append(t(f"{agent}{month}-{i}", agent, D(2026, month, 2 + i, 10), fr=30,
                              res=600, contacts=1 if i < good else 2, team="T"))  # fmt: skip
    insert(con, "tickets", rows)


def make_plan(con, target=0.8):
    # 30 days from May 1: the baseline is the 30 days before, April 1 – 30.
    return plans.create(con, COACH, "A", "Solve it first time", {"fcr_rate": target},
                        dt.date(2026, 5, 1), dt.date(2026, 5, 31), modules=["problem_solving"])  # fmt: skip


def test_a_plan_that_worked_is_met(con):
    plan_store(con, a_before=10, a_after=18, b_before=10, b_after=10)
    pid = make_plan(con)
    base = con.execute(
        "SELECT baseline, baseline_n FROM plan_kpis WHERE plan_id = ?", [pid]
    ).fetchone()
    assert base == (pytest.approx(0.5), 20)  # measured when the plan was made
    out = plans.outcome(con, COACH, pid, as_of=dt.date(2026, 6, 1)).iloc[0]
    assert out["baseline"] == pytest.approx(0.5) and out["value"] == pytest.approx(0.9)
    # The team (A and B) went from 20/40 to 28/40: +0.2; A's own change is +0.4.
    assert out["team_change"] == pytest.approx(0.2) and out["net_change"] == pytest.approx(0.2)
    assert out["verdict"] == "met" and out["net_lo"] < out["net_change"] < out["net_hi"]


def test_a_team_wide_rise_is_not_credited_to_the_plan(con):
    # Everyone improved the same: A reaches the target, but the net change is 0.
    plan_store(con, a_before=10, a_after=17, b_before=10, b_after=17)
    out = plans.outcome(con, COACH, make_plan(con), as_of=dt.date(2026, 6, 1)).iloc[0]
    assert out["value"] == pytest.approx(0.85) and out["reached"]
    assert out["net_change"] == pytest.approx(0.0) and out["verdict"] == "not met"


def test_not_enough_data_and_in_progress(con):
    plan_store(con, a_before=1, a_after=2, b_before=1, b_after=1, n=3)  # 3 tickets < min 20
    pid = make_plan(con)
    assert (
        plans.outcome(con, COACH, pid, as_of=dt.date(2026, 6, 1)).iloc[0]["verdict"]
        == "not enough data"
    )
    assert (
        plans.outcome(con, COACH, pid, as_of=dt.date(2026, 5, 20)).iloc[0]["verdict"]
        == "not enough data"
    )
    assert plans.overall(["in progress", "met"]) == "in progress"
    assert plans.overall(["met", "not met"]) == "partly"
    assert plans.overall(["not enough data"]) == "not enough data"


def con_log(con):
    from lib.auth import audit

    return audit.log_of(con)


def test_plans_are_read_by_their_agent_only(con):
    plan_store(con, 10, 18, 10, 10)
    pid = make_plan(con)
    assert list(plans.listing(con, AGENT_A)["plan_id"]) == [pid]
    assert plans.listing(con, AGENT_B).empty
    with pytest.raises(AccessDenied):
        plans.outcome(con, AGENT_B, pid)
    with pytest.raises(AccessDenied):
        plans.create(
            con, AGENT_A, "A", "x", {"fcr_rate": 0.9}, dt.date(2026, 5, 1), dt.date(2026, 6, 1)
        )
    plans.check_in(con, COACH, pid, "Role-play done")
    assert list(plans.checkins(con, AGENT_A, pid)["body"]) == ["Role-play done"]
    with pytest.raises(errors.ConflictError):
        plans.set_status(con, COACH, pid, "closed", base_version=7)
    plans.set_status(con, COACH, pid, "closed", base_version=1)
    log = [json.loads(x)["action"] for x in (con_log(con)).read_text().splitlines()]
    assert log == ["plan.create", "plan.check_in", "plan.status"]  # every plan edit audited
    effects = plans.module_effects(con, COACH, as_of=dt.date(2026, 6, 1))
    assert effects.set_index("module").loc["problem_solving", "mean_progress"] == pytest.approx(
        0.2 / 0.3
    )


# --- recognition and bonus --------------------------------------------------------------


def bonus_card(rows: list[tuple]) -> scoring.Scorecard:
    """(agent, composite, grade, gate) rows."""
    scheme = schemes.from_dict(schemes.preset_body("balanced"))
    agents = pd.DataFrame([{"agent": a, "team": "T", "composite": c, "grade": g, "gate": gate,
                            "kpis_scored": 5} for a, c, g, gate in rows])  # fmt: skip
    return scoring.Scorecard(
        scheme, parse("2026-05"), agents, pd.DataFrame(columns=["agent", "kpi"])
    )


def test_bonus_tiers_gates_and_exact_cents():
    card = bonus_card([("A", 95, "A", ""), ("B", 80, "B", ""), ("C", 81, "B", ""),
                       ("D", 70, "C", ""), ("E", 92, "A", "zero"), ("F", 50, "D", "")])  # fmt: skip
    out = rewards.split(card, 1000, min_grade="C", tiers={"A": 1.5, "B": 1, "C": 0.5},
                        viewer=access.SYSTEM).lines.set_index("agent")  # fmt: skip
    # Weights 1.5 + 1 + 1 + 0.5 = 4: A 375, B 250, C 250, D 125; E failed a gate, F below C.
    assert out["amount"].to_dict() == {
        "A": 375.0,
        "B": 250.0,
        "C": 250.0,
        "D": 125.0,
        "E": 0.0,
        "F": 0.0,
    }
    assert out.loc["E", "reason"] == "failed a critical QA criterion"
    assert out.loc["F", "reason"] == "grade D is below C"
    odd = rewards.split(card, 100, min_grade="B", tiers={"A": 1, "B": 1}, viewer=access.SYSTEM)
    assert sorted(odd.lines["amount"].head(3)) == [33.33, 33.33, 33.34]  # 100 / 3, to the cent
    assert round(odd.lines["amount"].sum(), 2) == 100 and odd.unallocated == 0


def test_bonus_caps_hand_on_the_rest_and_proportional_split():
    card = bonus_card([("A", 90, "A", ""), ("B", 60, "C", ""), ("C", 50, "D", "")])
    out = rewards.split(card, 1000, method="proportional", cap=500, viewer=access.SYSTEM)
    amounts = out.lines.set_index("agent")["amount"].to_dict()
    # 90:60:50 of 1000 = 450, 300, 250: nobody over the cap.
    assert amounts == {"A": 450.0, "B": 300.0, "C": 250.0}
    out = rewards.split(card, 2000, method="proportional", cap=800, viewer=access.SYSTEM)
    amounts = out.lines.set_index("agent")["amount"].to_dict()
    # A would get 900 → 800; the 100 freed goes to B and C by 60:50 → 600 + 54.55, 500 + 45.45.
    assert amounts == {"A": 800.0, "B": 654.55, "C": 545.45} and sum(amounts.values()) == 2000
    everyone_capped = rewards.split(
        card, 2000, method="proportional", cap=500, viewer=access.SYSTEM
    )
    assert everyone_capped.allocated == 1500 and everyone_capped.unallocated == 500
    assert everyone_capped.notes
    with pytest.raises(AccessDenied):
        rewards.split(card, 100, viewer=COACH)
    with pytest.raises(errors.BonusError):
        rewards.split(card, 100, min_grade="Z", viewer=access.SYSTEM)


def test_honours_pick_the_best_and_share_ties():
    now = bonus_card(
        [("A", 91, "A", ""), ("B", 91, "A", ""), ("C", 70, "C", ""), ("G", 99, "A", "zero")]
    )
    before = bonus_card([("A", 90, "A", ""), ("B", 80, "B", ""), ("C", 50, "D", "")])
    config = {"min_kpis_scored": 3, "honours": [
        {"id": "gold", "zh": "金牌客服", "en": "Gold", "rule": "best_composite"},
        {"id": "up", "zh": "进步之星", "en": "Most improved", "rule": "most_improved"}]}  # fmt: skip
    got = rewards.honours(now, before, "zh", config)
    assert got[["honour", "agent", "figure"]].values.tolist() == [
        ["gold", "A", 91.0],
        ["gold", "B", 91.0],
        ["up", "C", 20.0],
    ]  # G failed a gate
    assert list(got["title"].unique()) == ["金牌客服", "进步之星"]


def test_an_in_progress_plan_is_not_judged_yet(con):
    plan_store(con, a_before=10, a_after=18, b_before=10, b_after=10)
    out = plans.outcome(con, COACH, make_plan(con), as_of=dt.date(2026, 5, 25)).iloc[0]
    assert out["verdict"] == "in progress"


def test_demo_agents_get_recommendations_and_measured_plans(demo_store):
    con = open_store(demo_store, read_only=True)
    scheme = schemes.get(con, "balanced")
    ajie = training.for_agent(con, COACH, scheme, parse("2026-11"), "阿杰", "en")
    assert "efficiency" in set(ajie["module"])  # his first response slowed down
    assert ajie.iloc[0]["mentor"] and ajie.iloc[0]["mentor"] != "阿杰"
    # The agent is not told which colleague scores well, unless that colleague agreed.
    own = training.for_agent(con, AJIE, scheme, parse("2026-11"), "阿杰", "en")
    assert set(own["mentor"]) - {""} == {"a colleague strong in this"}
    named = training.Training(training.load().modules, training.load().rules,
                              frozenset({ajie.iloc[0]["mentor"]}))  # fmt: skip
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(training, "load", lambda *a: named)
        again = training.for_agent(con, AJIE, scheme, parse("2026-11"), "阿杰", "en")
    assert again.iloc[0]["mentor"] == ajie.iloc[0]["mentor"]
    wang = training.for_agent(con, COACH, scheme, parse("2026-07"), "小王", "en")
    assert len(wang) > 0 and wang["reason"].str.len().gt(0).all()
    listing = plans.listing(con, COACH).set_index("agent")
    for agent in ("阿杰", "小王"):
        result = plans.outcome(con, COACH, int(listing.loc[agent, "plan_id"]))
        assert result["value"].notna().all() and result["baseline"].notna().all()
    ajie_plan = plans.outcome(con, COACH, int(listing.loc["阿杰", "plan_id"])).iloc[0]
    assert ajie_plan["verdict"] == "in progress" and ajie_plan["net_change"] > 0  # slower: worse
    con.close()


def test_a_rate_target_outside_0_to_100_percent_is_refused(tmp_path):
    from tests.kpi_fixtures import service_store

    con = service_store(tmp_path / "s.duckdb")
    with pytest.raises(errors.PlanError, match="between 0% and 100%, not 8500%"):
        plans.create(con, COACH, "A", "Typed as percent", {"csat": 85.0},
                     dt.date(2026, 5, 1), dt.date(2026, 6, 1))  # fmt: skip
    with pytest.raises(errors.PlanError, match="cannot be negative"):
        plans.create(con, COACH, "A", "Faster", {"first_response_time": -5.0},
                     dt.date(2026, 5, 1), dt.date(2026, 6, 1))  # fmt: skip


def test_a_plan_draft_and_its_form_defaults_come_from_lib():
    rec = pd.Series({"kpi": "csat", "module": "m1", "mentor": float("nan"), "kpi_label": "CSAT",
                     "title": "Empathy"})  # fmt: skip
    assert plans.draft_from(rec, "阿杰") == {"agent": "阿杰", "kpis": ["csat"], "modules": ["m1"],
                                             "mentor": "", "title": "CSAT · Empathy"}  # fmt: skip
    assert plans.draft_from(rec.replace(float("nan"), "小美"), "阿杰")["mentor"] == "小美"
    assert plans.listed("csat,,fcr_rate") == ["csat", "fcr_rate"] and plans.listed(None) == []
    scheme = schemes.from_dict(schemes.preset_body("small_shop"))
    rule = next(r for r in scheme.rules if kpis.load_catalogue().get(r.kpi).kind == "rate")
    unit, factor, typed = plans.target_inputs(scheme, kpis.load_catalogue(), [rule.kpi])[rule.kpi]
    assert (unit, factor) == ("%", 100) and typed == pytest.approx(rule.target * 100)


def test_a_new_plan_runs_thirty_days_either_side_of_where_the_data_ends(tmp_path):
    con = open_store(tmp_path / "s.duckdb")
    insert(con, "tickets", [t("T1", "A", "2026-05-20 10:00")])
    assert plans.window(con) == (dt.date(2026, 4, 21), dt.date(2026, 6, 20))
