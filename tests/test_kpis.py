"""Every KPI against hand-computed expectations, edge cases, sources and intervals."""

import dataclasses
import datetime as dt

import pytest

from lib.app.stores import open_store
from lib.metrics import kpis
from lib.metrics.kpis import Catalogue, load_catalogue
from tests.kpi_fixtures import MAY, D, daily_store, insert, service_store, t


def values(con, agent="A", **kw):
    frame = kpis.compute(con, *MAY, **kw)
    return {r.kpi: r for r in frame[frame["grp"] == agent].itertuples()}


# (kpi, expected value for agent A, expected sample size, source). Worked out by hand from
# tests/kpi_fixtures.py: T1–T5 are A's May tickets (T0 is April), O1–O4 its orders.
SERVICE = [
    ("first_response_time", 160.0, 4, "tickets"),  # replies 10, 120, 200, 3600 s → median 160
    ("reply_15s_rate", 1 / 4, 4, "tickets"),  # chat T1, T2, T4, T5; only T1 within 15 s
    ("reply_3min_rate", 2 / 4, 4, "tickets"),  # T1 (10 s), T2 (120 s)
    ("reply_rate", 4 / 5, 5, "tickets"),  # T4 never answered
    ("resolution_time", 3900.0, 4, "tickets"),  # 300, 600, 7200, 108000 → (600+7200)/2
    ("resolution_rate", 4 / 5, 5, "tickets"),  # T4 still open
    ("aht", 600.0, 3, "tickets"),  # handle times 300, 900, 600 (T4, T5 have none)
    ("sla_breach_rate", 2 / 5, 5, "tickets"),  # T3 took 30 h > 24 h; T4 urgent, open > 4 h
    ("fcr_rate", 2 / 4, 4, "tickets"),  # T2 two contacts, T3 reopened
    ("escalation_rate", 1 / 5, 5, "tickets"),
    ("transfer_rate", 1 / 5, 5, "tickets"),
    ("independent_resolution_rate", 2 / 4, 4, "tickets"),  # T2 transferred, T3 escalated
    # Rubric weights: greeting 1, attitude 2, compliance 1. R1 = (1·4/5 + 2·5/5 + 1·1/1) ÷ 4,
    # R2 has a critical failure → 0, R3 has greeting N/A → attitude alone, 4/5.
    ("qa_score", (95 + 0 + 80) / 3, 3, "qa_review_scores"),
    ("qa_attitude", (100 + 60 + 80) / 3, 3, "qa_reviews"),
    ("csat", 2 / 3, 3, "tickets"),  # ratings 5, 2, 4
    ("csat_response_rate", 3 / 4, 4, "tickets"),
    ("complaint_rate", 2 / 5, 5, "tickets"),
    ("repeat_complaint_rate", 1 / 1, 1, "tickets"),  # C2 complained twice
    ("negative_comment_rate", 1 / 3, 3, "ticket_comments"),  # 很好谢谢 +, 太慢了 −, OK 0
    ("sales_amount", 380.0, 3, "orders"),  # paid O1 + O2 + O4
    ("orders_count", 3.0, 3, "orders"),
    ("aov", 190.0, 4, "orders"),  # 380 ÷ paying customers C1, C3
    ("order_loss_rate", 2 / 4, 4, "orders"),  # O3 closed, O4 refunded
    ("refund_ratio", 130 / 680, 4, "orders"),
    ("unpaid_followup_rate", 1 / 2, 2, "orders"),  # O3 never paid, O2 paid after 60 min
    ("receptions", 5.0, 5, "tickets"),
    ("peer_score", 4.5, 2, "peer_review_scores"),  # May only
]

DAILY_CASES = [  # days 1 and 2 of agent A in tests/kpi_fixtures.py DAILY
    ("first_response_time", (20 * 20 + 50 * 40) / 60, 60, "agent_daily"),
    ("avg_response_time", (30 * 20 + 60 * 40) / 60, 60, "agent_daily"),  # weighted by receptions
    ("reply_3min_rate", (0.8 * 20 + 0.5 * 40) / 60, 60, "agent_daily"),
    ("reply_rate", (0.9 * 20 + 1.0 * 40) / 60, 60, "agent_daily"),
    ("transfer_rate", 2 / 60, 60, "agent_daily"),
    ("csat", 27 / 30, 30, "agent_daily"),  # good ÷ (good + bad)
    ("conversion_rate", 10 / 40, 40, "agent_daily"),
    ("sales_amount", 1000.0, 2, "agent_daily"),
    ("orders_count", 10.0, 2, "agent_daily"),  # no order counts: paying customers
    ("aov", 100.0, 2, "agent_daily"),
    ("refund_ratio", 40 / 1000, 2, "agent_daily"),
    ("receptions", 60.0, 2, "agent_daily"),
    ("reply_30s_rate", (0.7 * 20 + 0.4 * 40) / 60, 60, "agent_daily"),
    ("no_service_rate", (0.1 * 20 + 0.05 * 40) / 60, 60, "agent_daily"),
    ("answer_ratio", (1.2 * 20 + 1.5 * 40) / 60, 60, "agent_daily"),
    ("platform_service_score", (4.8 * 20 + 4.5 * 40) / 60, 60, "agent_daily"),
    ("bad_review_rate", 3 / 30, 30, "agent_daily"),  # bad ÷ (good + bad)
    ("inquiry_loss_rate", (2 + 6) / 40, 40, "agent_daily"),
]


@pytest.mark.parametrize(("kpi", "expected", "n", "source"), SERVICE)
def test_service_kpis(tmp_path, kpi, expected, n, source):
    got = values(service_store(tmp_path / "s.duckdb"))[kpi]
    assert got.value == pytest.approx(expected)
    assert (got.n, got.source) == (n, source)


@pytest.mark.parametrize(("kpi", "expected", "n", "source"), DAILY_CASES)
def test_daily_report_kpis(tmp_path, kpi, expected, n, source):
    got = values(daily_store(tmp_path / "d.duckdb"))[kpi]
    assert got.value == pytest.approx(expected)
    assert (got.n, got.source) == (n, source)


def test_each_agent_keeps_the_source_it_has_when_others_have_another(tmp_path):
    """A 千牛 agent (C, daily reports only) beside ticket agents (A, B): each agent's KPI comes
    from the first source that has data for that agent, and names it; none is left with no
    data because another agent's source comes first."""
    from tests.kpi_fixtures import DAILY

    con = service_store(tmp_path / "mixed.duckdb")
    insert(con, "agent_daily", [{**row, "agent": "C"} for row in DAILY if row["agent"] == "A"])
    a, b, c = (values(con, agent) for agent in ("A", "B", "C"))
    assert (a["first_response_time"].value, a["first_response_time"].source) == (160.0, "tickets")
    assert (b["csat"].value, b["csat"].n, b["csat"].source) == (1.0, 1, "tickets")  # T6: 5
    got = c["first_response_time"]  # days 1 and 2, weighted by receptions 20 and 40
    assert (got.value, got.n, got.source) == (pytest.approx((20 * 20 + 50 * 40) / 60), 60,
                                              "agent_daily")  # fmt: skip
    assert (c["csat"].value, c["csat"].source) == (pytest.approx(27 / 30), "agent_daily")
    assert (a["sales_amount"].value, a["sales_amount"].source) == (380.0, "orders")
    assert (c["sales_amount"].value, c["sales_amount"].source) == (1000.0, "agent_daily")


def test_a_teams_headline_counts_agents_of_every_source(tmp_path):
    """Team X holds A (tickets) and C (千牛 reports only). Its CSAT pools both: A's 2 of 3
    satisfied ratings (T1 5, T2 2, T5 4) with C's 27 good of 30 reviews, not A's alone."""
    from lib.auth.access import SYSTEM
    from lib.core.periods import parse
    from lib.metrics import schemes, scoring
    from lib.present import views
    from tests.kpi_fixtures import DAILY

    con = service_store(tmp_path / "team.duckdb")
    insert(con, "agent_daily", [{**row, "agent": "C"} for row in DAILY if row["agent"] == "A"])
    insert(con, "roster", [{"agent": "C", "team": "X"}])
    period = parse("2026-05")
    card = scoring.scorecard(con, schemes.resolve(con, schemes.DEFAULT, period.end), period,
                             viewer=SYSTEM)  # fmt: skip
    head = views.headline(con, SYSTEM, card, "X", "en").set_index("kpi")["value"]
    assert head["csat"] == pytest.approx((2 + 27) / (3 + 30))
    everyone = views.headline(con, SYSTEM, card, None, "en").set_index("kpi")["value"]
    assert everyone["csat"] == pytest.approx((2 + 1 + 27) / (3 + 1 + 30))  # B: T6 rated 5


def test_a_teams_figure_pools_its_agents_when_they_draw_on_different_sources(tmp_path):
    """By team, as the digest, trends, plans and shrinkage read it: X (A on tickets, C on 千牛
    reports) pools A's 2 of 3 satisfied ratings with C's 27 of 30; Y (B alone) keeps its own."""
    from tests.kpi_fixtures import DAILY

    con = service_store(tmp_path / "teams.duckdb")
    insert(con, "agent_daily", [{**row, "agent": "C"} for row in DAILY if row["agent"] == "A"])
    insert(con, "roster", [{"agent": "C", "team": "X"}])
    x, y = (values(con, team, by="team") for team in ("X", "Y"))
    assert x["csat"].value == pytest.approx(29 / 33) and x["csat"].n == 33
    assert x["csat"].source == "agent_daily + tickets"
    assert (y["csat"].value, y["csat"].source) == (1.0, "tickets")
    assert x["sales_amount"].value == pytest.approx(380.0 + 1000.0)  # A's orders, C's reports


def test_each_month_of_a_trend_takes_the_source_that_month_has(tmp_path):
    """A has 千牛 reports in April and tickets in May: each month of a monthly trend reads
    the source it has, as that month's own scorecard does."""
    from tests.kpi_fixtures import DAILY

    con = service_store(tmp_path / "trend.duckdb")
    april = [{**row, "date": row["date"].replace(month=4)} for row in DAILY if row["agent"] == "A"]
    insert(con, "agent_daily", april)
    frame = kpis.compute(con, dt.date(2026, 4, 1), MAY[1], grain="month", kpi_ids=["csat"])
    got = {str(r.bucket)[:7]: (r.value, r.source) for r in frame[frame["grp"] == "A"].itertuples()}
    assert got["2026-04"] == (pytest.approx(27 / 30), "agent_daily")
    assert got["2026-05"] == (pytest.approx(2 / 3), "tickets")


def test_every_kpi_has_a_hand_computed_case():
    covered = {c[0] for c in SERVICE} | {c[0] for c in DAILY_CASES}
    covered |= {"feedback_closure", "knowledge_contributions"}  # test_coaching: from notes
    assert covered == set(load_catalogue().kpis)


def test_times_report_median_mean_and_p90(tmp_path):
    got = values(service_store(tmp_path / "s.duckdb"))["first_response_time"]
    assert (got.median, got.mean) == (160.0, pytest.approx(3930 / 4))
    assert got.p90 == pytest.approx(200 + 0.7 * (3600 - 200))  # linear interpolation
    # Order-statistic interval of the median of 4 values: ranks 1 and 4.
    assert (got.lo, got.hi) == (10.0, 3600.0)


def test_rates_have_wilson_intervals(tmp_path):
    got = values(service_store(tmp_path / "s.duckdb"))["reply_rate"]  # 4 of 5
    # Wilson 95 %: centre (p + z²/2n)/(1 + z²/n), half z·sqrt(p(1-p)/n + z²/4n²)/(1 + z²/n)
    assert (got.lo, got.hi) == (pytest.approx(0.3755, abs=1e-4), pytest.approx(0.9638, abs=1e-4))
    assert (got.num, got.den) == (4, 5)


def test_edge_cases_leave_the_kpi_out(tmp_path):
    con = service_store(tmp_path / "s.duckdb")
    b = values(con, "B")
    assert b["first_response_time"].value == 5 and b["first_response_time"].n == 1  # one ticket
    for kpi in ("qa_score", "sales_amount", "peer_score", "repeat_complaint_rate"):
        assert kpi not in b  # no rows: no value, not 0
    insert(con, "tickets", [t("U1", "U", D(2026, 5, 5, 9)), t("U2", "U", D(2026, 5, 5, 10))])
    u = values(con, "U")  # all unresolved, none rated
    assert "fcr_rate" not in u and "resolution_time" not in u and "csat" not in u
    assert u["reply_rate"].value == 0.0
    z = values(daily_store(tmp_path / "d.duckdb"), "Z")  # zero inquiries
    assert "conversion_rate" not in z and z["receptions"].value == 5


def test_first_source_with_data_is_used_and_named(tmp_path):
    con = service_store(tmp_path / "s.duckdb")
    assert values(con)["csat"].source == "tickets"
    insert(con, "csat_responses", [
        {"ticket_id": "T1", "agent": "A", "rating": 5, "scale": 5, "responded_at": D(2026, 5, 2)},
        {"ticket_id": "T2", "agent": "A", "rating": 3, "scale": 5, "responded_at": D(2026, 5, 2)},
    ])  # fmt: skip
    got = values(con)["csat"]
    assert (got.source, got.value, got.n) == ("csat_responses", 0.5, 2)


def test_team_values_pool_their_agents(tmp_path):
    con = service_store(tmp_path / "s.duckdb")
    insert(con, "roster", [{"agent": "B2", "team": "Y"}])
    insert(con, "tickets", [t("T7", "B2", D(2026, 5, 6, 10), fr=200, res=400, csat=1)])
    team = kpis.compute(con, *MAY, by="team")
    y = {r.kpi: r for r in team[team["grp"] == "Y"].itertuples()}
    assert (y["csat"].num, y["csat"].den) == (1, 2)  # B's 5 and B2's 1
    assert y["first_response_time"].value == pytest.approx((5 + 200) / 2)
    only_y = kpis.compute(con, *MAY, team="Y")
    assert set(only_y["grp"]) == {"B", "B2"}


def test_daily_series(tmp_path):
    con = service_store(tmp_path / "s.duckdb")
    series = kpis.compute(con, *MAY, grain="day", kpi_ids=["receptions", "complaint_rate"])
    a = series[(series["grp"] == "A") & (series["kpi"] == "receptions")]
    assert dict(zip(a["bucket"].astype(str), a["value"])) == {
        "2026-05-01": 2, "2026-05-02": 1, "2026-05-03": 2,
    }  # fmt: skip


def test_results_are_cached_until_the_data_changes(tmp_path):
    con = service_store(tmp_path / "s.duckdb")
    first = kpis.compute(con, *MAY, kpi_ids=["receptions"])
    assert kpis.compute(con, *MAY, kpi_ids=["receptions"]).equals(first)
    insert(con, "tickets", [t("T8", "A", D(2026, 5, 7, 9), fr=1, res=2)])
    again = kpis.compute(con, *MAY, kpi_ids=["receptions"])
    assert again[again["grp"] == "A"]["value"].item() == 6


def only_source(catalogue: Catalogue, table: str) -> Catalogue:
    return dataclasses.replace(catalogue, kpis={
        k: dataclasses.replace(v, sources=tuple(s for s in v.sources if s.table == table))
        for k, v in catalogue.kpis.items() if any(s.table == table for s in v.sources)
    })  # fmt: skip


def test_tickets_and_daily_reports_agree_on_the_same_work(tmp_path):
    """Two days of chat tickets, and the daily report a platform would export for them."""
    con = service_store(tmp_path / "s.duckdb")
    con.execute("DELETE FROM tickets")
    day1, day2 = D(2026, 5, 11, 9), D(2026, 5, 12, 9)
    tickets = [  # day 1: 4 tickets, 3 answered within 3 min, 1 transferred; 2 of 3 rated satisfied
        t("A1", "A", day1, fr=30, res=600, csat=5), t("A2", "A", day1, fr=60, res=900, csat=2),
        t("A3", "A", day1, fr=400, res=1200, transferred=True, csat=4), t("A4", "A", day1, fr=90),
        # day 2: 2 tickets, 1 answered, within 3 min; 1 rated, satisfied
        t("A5", "A", day2, fr=20, res=300, csat=5), t("A6", "A", day2),
    ]  # fmt: skip
    insert(con, "tickets", tickets)
    insert(con, "agent_daily", [
        {"date": day1.date(), "agent": "A", "receptions": 4, "reply_rate": 1.0,
         "reply_3min_rate": 0.75, "transfers": 1, "good_reviews": 2, "bad_reviews": 1},
        {"date": day2.date(), "agent": "A", "receptions": 2, "reply_rate": 0.5,
         "reply_3min_rate": 0.5, "transfers": 0, "good_reviews": 1, "bad_reviews": 0},
    ])  # fmt: skip
    cat = load_catalogue()
    ids = ["reply_rate", "reply_3min_rate", "transfer_rate", "csat", "receptions"]
    from_tickets = kpis.compute(con, *MAY, kpi_ids=ids, catalogue=only_source(cat, "tickets"))
    from_daily = kpis.compute(con, *MAY, kpi_ids=ids, catalogue=only_source(cat, "agent_daily"))
    a = from_tickets[from_tickets["grp"] == "A"].set_index("kpi")["value"]
    b = from_daily[from_daily["grp"] == "A"].set_index("kpi")["value"]
    assert a.to_dict() == pytest.approx(b.to_dict())
    assert a["reply_3min_rate"] == pytest.approx(4 / 6)


def test_catalogue_rules_catch_mistakes():
    import yaml

    data = yaml.safe_load(kpis.CATALOGUE.read_text(encoding="utf-8"))
    data["kpis"][1]["id"] = data["kpis"][0]["id"]
    data["kpis"][2]["en"] = ""
    data["kpis"][3]["kind"] = "median"
    by_id = {k["id"]: k for k in data["kpis"]}
    by_id["resolution_time"]["sources"][0].pop("value")
    by_id["sla_breach_rate"]["sources"][0]["table"] = "invoices"
    by_id["fcr_rate"]["direction"] = "up"
    by_id["escalation_rate"]["sources"][0].pop("inputs")  # reads `escalated` undeclared
    by_id["complaint_rate"]["sources"][0]["inputs"] = ["is_complaint", "complaint_flag"]
    by_id["qa_score"]["sources"][0]["inputs"] = ["score_pct"]  # derived: no upload to check
    problems = kpis.check(data)
    rules = {rule for rule, _ in problems}
    assert {"kpi.unique_id", "kpi.has_labels", "kpi.kind_known", "source.fields_for_kind",
            "source.table_known", "kpi.direction_known", "source.inputs_declared",
            "source.inputs_known", "source.inputs_uploaded"} <= rules  # fmt: skip
    declared = [m for r, m in problems if r == "source.inputs_declared"]
    assert declared == ["escalation_rate (tickets): reads 'escalated' but declares it neither "
                        "as an input nor as optional"]  # fmt: skip


def test_catalogue_sql_is_checked_against_the_schema():
    cat = load_catalogue()
    assert kpis.check_sql(cat) == []
    broken = dataclasses.replace(cat, kpis={"x": dataclasses.replace(
        cat.get("fcr_rate"), id="x", sources=(kpis.Source("tickets", "count(nonexistent)", "count(*)"),))})  # fmt: skip
    problems = kpis.check_sql(broken)
    assert problems and "nonexistent" in problems[0][1]


def test_format_value():
    cat = load_catalogue()
    assert kpis.format_value(cat.get("csat"), 0.9345) == "93.5%"
    assert kpis.format_value(cat.get("first_response_time"), 65) == "1 min 05 s"
    assert kpis.format_value(cat.get("resolution_time"), 5400) == "1.5 h"
    assert kpis.format_value(cat.get("sales_amount"), 1234.4) == "¥1,234"
    assert kpis.format_value(cat.get("qa_score"), None) == "—"


def test_durations_read_in_chinese_on_chinese_pages():
    from lib.present.views import change_text

    frt, res = load_catalogue().get("first_response_time"), load_catalogue().get("resolution_time")
    assert kpis.format_value(frt, 129, "zh") == "2 分 09 秒"  # 129 s = 2 × 60 + 9
    assert kpis.format_value(frt, 129, "en") == "2 min 09 s"
    assert kpis.format_value(frt, 45, "zh") == "45 秒"
    assert kpis.format_value(res, 5400, "zh") == "1.5 小时"  # 5400 / 3600
    assert change_text(frt, 50, 38, "zh") == "+12 秒" and change_text(frt, 50, 38) == "+12 s"
    assert change_text(res, 3600, 9000, "zh") == "-1.5 小时"  # −5400 s
    assert change_text(frt, 38, 38, "zh") is None  # no change, no text


def test_periods():
    from lib.core import periods

    may = periods.parse("2026-05")
    assert (may.start, may.end, may.days) == (dt.date(2026, 5, 1), dt.date(2026, 6, 1), 31)
    assert periods.parse("2026-W19").start == dt.date(2026, 5, 4)
    assert periods.parse("2026-12").end == dt.date(2027, 1, 1)
    assert periods.between("2026-05-01", "2026-05-15").days == 15
    assert periods.parse("2026-05").previous().label == "2026-04"
    for bad in ("2026-13", "May", "2026-W60"):
        with pytest.raises(ValueError, match="not a period"):
            periods.parse(bad)


def test_kpis_from_tables_without_a_channel_are_split_by_channel(tmp_path):

    con = open_store(tmp_path / "ch.duckdb")
    insert(con, "tickets", [t("T1", "A", D(2026, 5, 2, 9)), t("T2", "A", D(2026, 5, 2, 10), channel="email"),
                            t("T3", "B", D(2026, 5, 3, 9), channel="email")])  # fmt: skip
    insert(con, "csat_responses", [
        {"ticket_id": "T1", "rating": 5, "agent": "A", "responded_at": D(2026, 5, 2, 12)},
        {"ticket_id": "T2", "rating": 1, "agent": "A", "responded_at": D(2026, 5, 2, 13)},
        {"ticket_id": "T3", "rating": 4, "agent": "B", "responded_at": D(2026, 5, 3, 12)},
        {"ticket_id": "T9", "rating": 5, "agent": "B", "responded_at": D(2026, 5, 4, 12)},  # no ticket
    ])  # fmt: skip
    paid = D(2026, 5, 5, 10)
    insert(con, "orders", [
        {"order_id": "O1", "agent": "A", "created_at": paid, "paid_at": paid, "amount": 100.0, "ticket_id": "T1"},
        {"order_id": "O2", "agent": "B", "created_at": paid, "paid_at": paid, "amount": 40.0, "ticket_id": "T3"},
        {"order_id": "O3", "agent": "A", "created_at": paid, "paid_at": paid, "amount": 60.0},
    ])  # fmt: skip
    insert(
        con,
        "agent_daily",
        [{"date": dt.date(2026, 5, 3), "agent": "A", "inquiries": 10, "paying_customers": 4}],
    )
    ids = ["csat", "sales_amount", "conversion_rate", "peer_score"]
    assert kpis.by_channel(load_catalogue())[:1] and "peer_score" not in kpis.by_channel(
        load_catalogue()
    )
    frame = kpis.compute(con, *MAY, by="channel", kpi_ids=ids)
    got = {(r.grp, r.kpi): round(r.value, 4) for r in frame.itertuples() if r.n > 0}
    assert got == {
        ("chat", "csat"): 1.0,  # T1: 5 of 5
        ("email", "csat"): 0.5,  # T2: 1, T3: 4 → one of two satisfied
        ("—", "csat"): 1.0,  # the rating whose ticket is not stored
        ("chat", "sales_amount"): 100.0,
        ("email", "sales_amount"): 40.0,
        ("—", "sales_amount"): 60.0,  # an order that names no ticket
        ("chat", "conversion_rate"): 0.4,  # daily reports come from chat platforms: 4 of 10
    }


@pytest.mark.parametrize("order", [1, -1])
def test_an_agent_on_two_teams_equally_often_belongs_to_the_team_of_their_latest_ticket(con, order):
    """The team comes from the roster, else the team on most of the agent's tickets; between
    teams on as many tickets, the latest ticket's, whatever order the rows were stored in, so
    the same data always gives the same team (and the same team figures)."""
    rows = [t("X1", "X", D(2026, 5, 1, 9), team="North"), t("X2", "X", D(2026, 5, 2, 9), team="North"),
            t("X3", "X", D(2026, 5, 3, 9), team="South"), t("X4", "X", D(2026, 5, 4, 9), team="South"),
            t("Y1", "Y", D(2026, 5, 1, 9), team="North"), t("Y2", "Y", D(2026, 5, 9, 9), team="South"),
            t("Y3", "Y", D(2026, 5, 2, 9), team="North")]  # fmt: skip
    for row in rows[::order]:
        insert(con, "tickets", [row])
    teams = dict(kpis.agent_teams(con).itertuples(index=False))
    assert teams == {"X": "South", "Y": "North"}  # X: a tie, South is later; Y: North, twice
