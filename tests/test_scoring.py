"""Scoring and schemes: normalisation, weights, gates, grades, missing data, ranks, versions."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from lib.app.stores import open_store
from lib.auth.access import SYSTEM, Viewer
from lib.core.errors import ConflictError, SchemeError
from lib.core.periods import parse
from lib.metrics import schemes, scoring
from tests.kpi_fixtures import service_store

GRADES = [{"min": 90, "code": "A", "zh": "优秀", "en": "Excellent"},
          {"min": 75, "code": "B", "zh": "良好", "en": "Good"},
          {"min": 60, "code": "C", "zh": "合格", "en": "Pass"},
          {"min": 0, "code": "D", "zh": "待改进", "en": "Needs improvement"}]  # fmt: skip


def body(**dims) -> dict:
    return {"name": "t", "zh": "测试", "en": "Test", "grades": GRADES,
            "dimensions": dims or {"experience": {"weight": 1, "kpis": {
                "csat": {"weight": 1, "floor": 0.6, "target": 1.0}}}}}  # fmt: skip


def vals(rows) -> pd.DataFrame:
    """KPI values as kpis.compute returns them: (agent, kpi, value, n[, lo, hi, num, den])."""
    out = []
    for r in rows:
        agent, kpi, value, n, *rest = r
        lo, hi = (rest + [value, value])[:2] if rest else (value, value)
        out.append({"grp": agent, "bucket": None, "kpi": kpi, "source": "tickets", "value": value,
                    "lo": lo, "hi": hi, "n": n, "num": value * n, "den": n})  # fmt: skip
    return pd.DataFrame(out)


def run(b, rows, **kw):
    agents, details = scoring.score(vals(rows), schemes.from_dict(b), **kw)
    return agents.set_index("agent"), details.set_index(["agent", "kpi"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.6, 0.0), (0.5, 0.0), (0.8, 50.0), (0.9, 75.0), (1.0, 100.0)],  # floor 0.6, target 1.0
)
def test_linear_score_between_floor_and_target_clipped(value, expected):
    agents, details = run(body(), [("A", "csat", value, 50)])
    assert details.loc[("A", "csat"), "score"] == pytest.approx(expected)
    assert agents.loc["A", "composite"] == pytest.approx(expected)


def test_lower_is_better_runs_the_other_way():
    b = body(timeliness={"weight": 1, "kpis": {
        "first_response_time": {"weight": 1, "floor": 300, "target": 30}}})  # fmt: skip
    _, d = run(b, [("A", "first_response_time", 30, 50), ("B", "first_response_time", 165, 50),
                   ("C", "first_response_time", 600, 50)])  # fmt: skip
    assert list(d.xs("first_response_time", level="kpi")["score"]) == [100.0, 50.0, 0.0]


def test_step_bands():
    b = body(experience={"weight": 1, "kpis": {"csat": {
        "weight": 1, "floor": 0.6, "target": 1.0, "bands": [[0.9, 100], [0.8, 80], [0.7, 50]]}}})  # fmt: skip
    _, d = run(b, [("A", "csat", 0.95, 50), ("B", "csat", 0.85, 50), ("C", "csat", 0.72, 50),
                   ("E", "csat", 0.5, 50)])  # fmt: skip
    assert list(d.xs("csat", level="kpi")["score"]) == [100, 80, 50, 0]


def two_dims(**overrides):
    dims = {
        "experience": {"weight": 3, "kpis": {
            "csat": {"weight": 1, "floor": 0.5, "target": 1.0},
            "complaint_rate": {"weight": 3, "floor": 0.1, "target": 0.0}}},
        "capability": {"weight": 1, "kpis": {"fcr_rate": {"weight": 5, "floor": 0.5, "target": 1.0}}},
    }  # fmt: skip
    dims.update(overrides)
    return body(**dims)


def test_two_level_weights_are_shares_of_whatever_numbers_are_typed():
    s = schemes.from_dict(two_dims())
    shares = {r.kpi: r.share for r in s.rules}
    assert shares == pytest.approx({"csat": 0.75 * 0.25, "complaint_rate": 0.75 * 0.75,
                                    "fcr_rate": 0.25})  # fmt: skip
    assert sum(shares.values()) == pytest.approx(1.0)
    # csat 0.9 → 80, complaints 0.02 → 80, fcr 0.6 → 20
    agents, details = run(two_dims(), [("A", "csat", 0.9, 50), ("A", "complaint_rate", 0.02, 50),
                                       ("A", "fcr_rate", 0.6, 50)])  # fmt: skip
    assert agents.loc["A", "composite"] == pytest.approx(0.1875 * 80 + 0.5625 * 80 + 0.25 * 20)
    assert details["contribution"].sum() == pytest.approx(agents.loc["A", "composite"])


def test_a_kpi_without_enough_data_is_left_out_and_the_rest_renormalised():
    # csat has 4 ratings < its minimum of 10: not 0, not 100, but left out and named.
    agents, details = run(two_dims(), [("A", "csat", 1.0, 4), ("A", "complaint_rate", 0.02, 50),
                                       ("A", "fcr_rate", 0.6, 50)])  # fmt: skip
    assert details.loc[("A", "csat"), "status"] == "too little data"
    assert details.loc[("A", "csat"), "contribution"] == 0
    w_c, w_f = 0.5625, 0.25
    assert agents.loc["A", "composite"] == pytest.approx((w_c * 80 + w_f * 20) / (w_c + w_f))
    assert agents.loc["A", "kpis_left_out"] == "csat (n=4 < 10)"
    assert agents.loc["A", "kpis_scored"] == 2


def test_no_data_at_all_means_no_score_grade_or_rank():
    agents, details = run(two_dims(), [("A", "csat", 0.9, 3), ("B", "csat", 0.9, 50)])
    assert np.isnan(agents.loc["A", "composite"]) and pd.isna(agents.loc["A", "grade"])
    assert pd.isna(agents.loc["A", "rank"]) and agents.loc["B", "rank"] == 1
    assert details.loc[("A", "fcr_rate"), "status"] == "no data"


@pytest.mark.parametrize(("value", "grade"), [(0.95, "A"), (0.949, "B"), (0.8, "C"), (0.79, "D")])
def test_grade_bands(value, grade):
    b = body(experience={"weight": 1, "kpis": {"csat": {"weight": 1, "floor": 0.5, "target": 1.0}}})
    # score = 200 × (value − 0.5): 0.95 → 90 (A), 0.949 → 89.8 (B), 0.8 → 60 (C), 0.79 → 58 (D)
    agents, _ = run(b, [("A", "csat", value, 50)])
    assert agents.loc["A", "grade"] == grade


@pytest.mark.parametrize(("action", "expected"), [("cap", 59.0), ("zero", 0.0)])
def test_critical_qa_failure_gate(action, expected):
    b = body()
    b["gates"] = {"critical_qa_failure": {"action": action, "value": 59}}
    agents, _ = run(b, [("A", "csat", 1.0, 50), ("B", "csat", 1.0, 50)], critical={"A": 1})
    assert agents.loc["A", "composite"] == expected and agents.loc["B", "composite"] == 100
    assert agents.loc["A", "gate"] == ("cap:59" if action == "cap" else "zero")
    assert agents.loc["B", "gate"] == ""
    assert agents.loc["A", "grade"] == "D"


def test_shrinkage_pulls_small_samples_toward_the_team_rate():
    b = body()
    b["shrinkage"] = 10
    team = pd.DataFrame([{"grp": "X", "kpi": "csat", "value": 0.8}])
    agents, details = run(b, [("A", "csat", 1.0, 10), ("B", "csat", 0.9, 1000)],
                          teams={"A": "X", "B": "X"}, team_values=team)  # fmt: skip
    a, bb = details.loc[("A", "csat")], details.loc[("B", "csat")]
    # The observed value stays as it is; the adjusted one sits beside it and is what scores.
    assert (a["value"], bb["value"]) == (1.0, 0.9)
    assert a["adjusted"] == pytest.approx((10 + 10 * 0.8) / (10 + 10))
    assert bb["adjusted"] == pytest.approx((900 + 8) / 1010)
    assert bool(a["shrunk"])
    expected = 100 * (a["adjusted"] - a["floor"]) / (a["target"] - a["floor"])
    assert a["score"] == pytest.approx(min(max(expected, 0), 100))
    plain = run(body(), [("A", "csat", 1.0, 10)], teams={"A": "X"}, team_values=team)[1]
    assert pd.isna(plain.loc[("A", "csat"), "adjusted"])  # no shrinkage: nothing adjusted


def test_totals_scale_with_the_period_length():
    b = body(
        sales={"weight": 1, "kpis": {"sales_amount": {"weight": 1, "floor": 0, "target": 30437.5}}}
    )
    _, monthly = run(b, [("A", "sales_amount", 15218.75, 10)])
    _, weekly = run(b, [("A", "sales_amount", 3500, 10)], period_days=7)  # weekly target 7000
    assert monthly.loc[("A", "sales_amount"), "score"] == pytest.approx(50)
    assert weekly.loc[("A", "sales_amount"), "score"] == pytest.approx(50)


def test_ties_share_a_rank_and_intervals_give_a_rank_range():
    rows = [("A", "csat", 0.95, 50, 0.94, 0.96), ("B", "csat", 0.9, 50, 0.7, 0.99),
            ("C", "csat", 0.9, 50, 0.7, 0.99), ("E", "csat", 0.65, 50, 0.6, 0.68)]  # fmt: skip
    agents, _ = run(body(), rows)
    assert agents["rank"].to_dict() == {"A": 1, "B": 2, "C": 2, "E": 4}
    assert bool(agents.loc["B", "tied"]) and not bool(agents.loc["A", "tied"])
    # Scores: A 87.5 (85–90), B and C 75 (25–97.5), E 12.5 (0–20).
    # A's interval overlaps B's and C's: A may be 1st–3rd; E's is below all: surely last.
    assert (agents.loc["A", "rank_best"], agents.loc["A", "rank_worst"]) == (1, 3)
    assert (agents.loc["E", "rank_best"], agents.loc["E", "rank_worst"]) == (4, 4)
    assert agents.loc["A", "percentile"] == 100 and agents.loc["E", "percentile"] == 0


def test_composite_interval_combines_kpi_intervals_as_independent():
    b = two_dims()
    agents, d = run(b, [("A", "csat", 0.9, 50, 0.8, 1.0), ("A", "complaint_rate", 0.02, 50),
                        ("A", "fcr_rate", 0.6, 50, 0.5, 0.7)])  # fmt: skip
    down = np.hypot(0.1875 * (80 - 60), 0.25 * (20 - 0))
    up = np.hypot(0.1875 * (100 - 80), 0.25 * (40 - 20))
    c = agents.loc["A", "composite"]
    assert (agents.loc["A", "composite_lo"], agents.loc["A", "composite_hi"]) == (
        pytest.approx(c - down), pytest.approx(c + up))  # fmt: skip


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (lambda b: b["dimensions"]["experience"]["kpis"]["csat"].update(weight=-1), "scheme.weight_valid"),
        (lambda b: b["dimensions"]["experience"]["kpis"]["csat"].update(target=0.6), "scheme.thresholds_distinct"),
        (lambda b: b["dimensions"]["experience"]["kpis"]["csat"].update(target=0.5), "scheme.thresholds_direction"),
        (lambda b: b["dimensions"]["experience"]["kpis"]["csat"].update(target=95), "scheme.rate_range"),
        (lambda b: b["dimensions"]["experience"].update(weight=0), "scheme.weights_not_all_zero"),
        (lambda b: b["dimensions"]["experience"]["kpis"].update(magic={"floor": 0, "target": 1}), "scheme.kpi_known"),
        (lambda b: b["dimensions"].update(luck={"weight": 1, "kpis": {}}), "scheme.dimension_known"),
        (lambda b: b.update(grades=list(reversed(GRADES))), "scheme.grades_ordered"),
        (lambda b: b.update(gates={"critical_qa_failure": {"action": "fire"}}), "scheme.gate_action"),
        (lambda b: b.update(shrinkage=-1), "scheme.shrinkage"),
    ],
)  # fmt: skip
def test_scheme_rules_refuse_invalid_input(change, rule):
    b = body()
    change(b)
    assert rule in {r for r, _ in schemes.check(b)}
    with pytest.raises(SchemeError):
        schemes.from_dict(b)


@pytest.mark.parametrize("name", schemes.preset_names())
def test_presets_are_valid_and_described(name):
    s = schemes.from_dict(schemes.preset_body(name))
    assert s.description["zh"] and s.description["en"]
    assert sum(r.share for r in s.rules) == pytest.approx(1.0)


def test_big_seller_has_twelve_points():
    assert len(schemes.from_dict(schemes.preset_body("big_seller_12")).rules) == 12


def test_versions_in_force_what_if_diff_and_conflicts(tmp_path):
    con = service_store(tmp_path / "s.duckdb")
    assert schemes.get(con, "small_shop").version == 1  # the preset
    changed = schemes.preset_body("small_shop")
    changed["dimensions"]["experience"]["weight"] = 90
    v2 = schemes.save(con, Viewer("周主管", "manager"), changed, reason="CSAT matters more",
                      now=dt.datetime(2026, 6, 10, 9))  # fmt: skip
    assert v2 == 2
    history = schemes.versions(con, "small_shop")
    assert list(history["version"]) == [2, 1]
    assert (
        history.iloc[0]["saved_by"] == "周主管" and history.iloc[0]["reason"] == "CSAT matters more"
    )
    assert history.iloc[0]["diff"] == "dimensions.experience.weight: 55 → 90"
    may, june = parse("2026-05"), parse("2026-06")
    assert schemes.resolve(con, "small_shop", may.end).version == 1  # May ended before the save
    assert schemes.resolve(con, "small_shop", june.end).version == 2
    assert schemes.resolve(con, "small_shop", may.end, what_if=True).version == 2
    with pytest.raises(ConflictError, match="saved as version 2"):
        schemes.save(con, Viewer("吴主管", "manager"), changed, reason="x", base_version=1)
    with pytest.raises(SchemeError, match="say why"):
        schemes.save(con, Viewer("吴主管", "manager"), changed, reason=" ")
    assert len(schemes.versions(con, "small_shop")) == 2  # refused saves wrote nothing


def test_rank_changes_between_two_versions(tmp_path):
    rows = [("A", "csat", 0.9, 50), ("A", "fcr_rate", 0.6, 50),
            ("B", "csat", 0.7, 50), ("B", "fcr_rate", 1.0, 50)]  # fmt: skip
    light = two_dims(
        capability={"weight": 0.1, "kpis": {"fcr_rate": {"weight": 1, "floor": 0.5, "target": 1.0}}}
    )
    before, _ = scoring.score(vals(rows), schemes.from_dict(light))
    heavy = two_dims(
        capability={"weight": 9, "kpis": {"fcr_rate": {"weight": 1, "floor": 0.5, "target": 1.0}}}
    )
    after, _ = scoring.score(vals(rows), schemes.from_dict(heavy))
    moves = scoring.rank_changes(before, after).set_index("agent")
    assert moves["move"].to_dict() == {"A": -1, "B": 1}


def test_scorecard_on_a_store(tmp_path):
    con = service_store(tmp_path / "s.duckdb")
    card = scoring.scorecard(con, schemes.get(con, "after_sales"), parse("2026-05"), viewer=SYSTEM)
    a = card.agent("A")
    assert a["team"] == "X"
    assert a["gate"] == "cap:59" and a["composite"] <= 59  # R2 failed critically
    assert set(card.agents["agent"]) == {"A", "B"}


def test_scheme_as_tables_round_trip():
    body = schemes.preset_body("small_shop")
    dims, rows = schemes.to_tables(body, lang="zh")
    assert list(dims["name"]) == ["体验", "能力", "时效"]
    assert rows.set_index("kpi").loc["csat", "min_sample"] == 10  # the KPI's own minimum
    assert schemes.from_tables(body, dims, rows) == body  # unchanged tables, unchanged scheme
    rows.loc[rows["kpi"] == "csat", ["weight", "min_sample"]] = [5, 30]
    dims.loc[dims["dimension"] == "capability", "weight"] = 10
    changed = schemes.from_tables(body, dims, rows)
    assert schemes.diff(body, changed) == [
        "dimensions.capability.weight: 25 → 10",
        "dimensions.experience.kpis.csat.min_sample: added 30",
        "dimensions.experience.kpis.csat.weight: 2 → 5",
    ]


def test_rank_move_arrows():
    from lib.present.views import arrow

    assert [arrow(m) for m in (3, -2, 0, None, pd.NA)] == ["▲3", "▼2", "–", "", ""]


def test_changes_are_shown_in_the_kpis_own_units():
    from lib.metrics.kpis import load_catalogue
    from lib.present.views import change_text

    cat = load_catalogue()
    assert change_text(cat.get("csat"), 0.82, 0.80) == "+2.0 pp"
    assert change_text(cat.get("first_response_time"), 30, 45) == "-15 s"
    assert change_text(cat.get("first_response_time"), 32.0, 32.04) is None  # shows as zero
    assert change_text(cat.get("sales_amount"), 900, 1200) == "-¥300"
    assert change_text(cat.get("peer_score"), 3.81, 3.8) is None
    assert change_text(cat.get("csat"), 0.8, float("nan")) is None


def test_grade_bands_edit_as_a_table():
    body = schemes.preset_body("small_shop")
    dims, rows = schemes.to_tables(body)
    grades = schemes.grades_table(body)
    assert schemes.from_tables(body, dims, rows, grades) == body
    grades.loc[grades["code"] == "A", "min"] = 85
    changed = schemes.from_tables(body, dims, rows, grades)
    assert schemes.diff(body, changed) == ["grades.0.min: 90 → 85"]
    assert list(scoring.grades_of(schemes.from_dict(changed), [86, 84.96, 84.94])) == [
        "A",
        "A",
        "B",
    ]
    grades.loc[grades["code"] == "B", "min"] = 95  # out of order: refused by the rules
    assert "scheme.grades_ordered" in {
        r for r, _ in schemes.check(schemes.from_tables(body, dims, rows, grades))
    }


def test_a_version_counts_from_the_day_it_is_in_force(tmp_path):
    con = service_store(tmp_path / "s.duckdb")
    changed = schemes.preset_body("small_shop")
    changed["dimensions"]["experience"]["weight"] = 90
    # Saved on 10 June while discussing May: in force from 1 May, on purpose.
    v2 = schemes.save(con, Viewer("周主管", "manager"), changed, reason="CSAT matters more",
                      now=dt.datetime(2026, 6, 10, 9), in_force_from=dt.date(2026, 5, 1))  # fmt: skip
    april, may, june = parse("2026-04"), parse("2026-05"), parse("2026-06")
    assert schemes.resolve(con, "small_shop", april.end).version == 1
    assert schemes.resolve(con, "small_shop", may.end).version == v2 == 2
    assert schemes.resolve(con, "small_shop", june.end).version == 2
    words = schemes.in_force_words(schemes.resolve(con, "small_shop", may.end), "zh")
    assert words == "第 2 版，自 2026-05-01 起生效"
    assert schemes.in_force_words(schemes.resolve(con, "small_shop", april.end), "en") == (
        "version 1, the built-in preset"
    )
    # Saved on the first day after a period, with no date: not in force for that period.
    schemes.save(con, Viewer("周主管", "manager"), schemes.preset_body("small_shop"), reason="back",
                 now=dt.datetime(2026, 7, 1, 8))  # fmt: skip
    assert schemes.resolve(con, "small_shop", june.end).version == 2
    assert schemes.resolve(con, "small_shop", parse("2026-07").end).version == 3
    history = schemes.versions(con, "small_shop")
    assert [str(d)[:10] for d in history["in_force_from"][:2]] == ["2026-07-01", "2026-05-01"]


def test_the_biggest_movers_are_named_with_the_kpi_that_moved_them(demo_copy):
    from lib.auth import access
    from lib.present import views

    con = open_store(demo_copy)
    saved = schemes.get(con, "balanced")
    body = schemes.preset_body("balanced")
    body["dimensions"]["experience"]["weight"] = 1  # the experience dimension hardly counts
    edited = schemes.from_dict(body)
    table, movers = views.rerank_with_movers(con, access.SYSTEM, parse("2026-10"), None, saved,
                                             edited, "en")  # fmt: skip
    moves = table.set_index("agent")["move"]
    assert 0 < len(movers) <= 5
    biggest = moves[moves.str.len() > 1].str[1:].astype(int).max()
    for agent, words in movers.items():
        assert words.startswith(f"{agent} {moves[agent]} (")  # the move, then the KPI
    assert max(int(moves[a][1:]) for a in movers) == biggest
    assert any("CSAT" in w or "Complaint" in w or "Negative" in w for w in movers.values())


def test_dimension_scores_weigh_each_kpi_by_its_share_and_fall_back_to_the_plain_mean():
    details = pd.DataFrame(
        [  # agent, dimension, score, weight share, status
            ("a", "speed", 80.0, 0.3, "scored"),
            ("a", "speed", 50.0, 0.1, "scored"),
            ("a", "speed", 10.0, 0.6, "too_few"),  # not scored: left out
            ("a", "quality", 90.0, 0.0, "scored"),  # no weight in this dimension: plain mean
            ("a", "quality", 70.0, 0.0, "scored"),
            ("b", "speed", 40.0, 0.2, "scored"),
        ],
        columns=["agent", "dimension", "score", "weight_share", "status"],
    )
    got = scoring.dimension_scores(details).set_index(["agent", "dimension"])["score"]
    assert got[("a", "speed")] == pytest.approx((80 * 0.3 + 50 * 0.1) / 0.4)  # 72.5
    assert got[("a", "quality")] == pytest.approx(80.0)
    assert got[("b", "speed")] == pytest.approx(40.0)
    assert len(got) == 3


def test_a_slope_chart_of_hundreds_of_agents_is_two_traces_with_names_escaped():
    from lib.present import charts

    ranking = pd.DataFrame({"agent": [f"agent {i}" for i in range(300)] + ["<a href='x'>m</a>"],
                            "rank": range(1, 302), "saved_rank": range(301, 0, -1)})  # fmt: skip
    fig = charts.rank_moves(ranking, "moves", "saved", "edited", {"agent 7", "<a href='x'>m</a>"})
    others, movers = fig.data
    assert len(others.y) == 299 * 3 and len(movers.y) == 2 * 3  # a point each side, then a gap
    assert list(movers.y) == [294, 8, None, 1, 301, None]  # saved rank, then the edited rank
    assert "<a" not in "".join(movers.text) and "&lt;a href=" in movers.text[4]
    assert movers.text[0] == "" and movers.text[1] == "agent 7"  # named at the edited end
    assert fig.layout.template.layout.plot_bgcolor == "white"  # the shared template
