"""Numbers you can trust on real exports: missing data is never a score, and nothing crashes.

The first test holds every KPI source against an export missing each of its inputs; the others
are small hand-written files for the problems real exports showed, with hand-computed results.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pandas as pd
import pytest

from lib.app import demo
from lib.app.stores import open_store
from lib.auth import access
from lib.auth.access import SYSTEM
from lib.core import periods
from lib.ingest.mapping import from_dict
from lib.ingest.pipeline import NOTHING_STORED, ingest_file
from lib.metrics import kpis, schemes, scoring
from lib.metrics.kpis import load_catalogue
from lib.monitoring import alerts
from lib.present import views
from tests.kpi_fixtures import MAY, insert
from tests.test_export import cli

D = dt.datetime


def _ticket(i: int) -> dict:
    created = D(2026, 5, 1 + i % 20, 10)
    return {"ticket_id": f"T{i}", "agent": "A", "created_at": created,
            "first_response_at": created + dt.timedelta(seconds=60 + 100 * (i % 3)),
            "resolved_at": created + dt.timedelta(hours=2 + 20 * (i % 2)),
            "channel": "chat", "priority": "normal", "status": "solved", "team": "X",
            "customer_id": f"C{i % 4}", "category": "delivery", "contacts": 1 + i % 2,
            "agent_replies": 2, "reopens": int(i % 3 == 0), "transferred": i % 4 == 0,
            "escalated": i % 5 == 0, "is_complaint": i % 3 == 0, "handle_time_s": 200 + i,
            "csat": 2 + i % 4, "comment": "太慢了，很差" if i % 2 else "很好，谢谢",
            "answered": True, "resolved": i % 3 > 0}  # fmt: skip


# One full export per uploaded table: every column present, so every source has data.
FULL = {
    "tickets": [_ticket(i) for i in range(24)],
    "agent_daily": [
        {
            "date": dt.date(2026, 5, d),
            "agent": "A",
            "inquiries": 30,
            "receptions": 40,
            "paying_customers": 9,
            "orders": 10,
            "sales_amount": 900.0,
            "refund_amount": 50.0,
            "avg_response_s": 25.0,
            "first_response_s": 12.0,
            "reply_rate": 0.98,
            "reply_3min_rate": 0.9,
            "satisfaction_rate": 0.95,
            "good_reviews": 8,
            "bad_reviews": 1,
            "unreplied": 1,
            "transfers": 2,
            "reply_30s_rate": 0.7,
            "no_service_rate": 0.02,
            "answer_ratio": 1.3,
            "service_score": 4.7,
            "bad_review_rate": 0.01,
            "lost_inquiries": 5,
            "conversion_rate": 0.3,
        }
        for d in range(1, 11)
    ],  # fmt: skip
    "orders": [
        {
            "order_id": f"O{i}",
            "agent": "A",
            "created_at": D(2026, 5, 2 + i, 9),
            "amount": 100.0 + i,
            "paid_at": D(2026, 5, 2 + i, 9, 5 + 40 * (i % 2)),
            "status": "closed" if i % 4 == 0 else "paid",
            "refund_amount": 10.0 * (i % 3),
            "customer_id": f"C{i % 3}",
            "ticket_id": f"T{i}",
        }
        for i in range(12)
    ],  # fmt: skip
    "csat_responses": [
        {
            "ticket_id": f"T{i}",
            "rating": 1 + i % 5,
            "agent": "A",
            "responded_at": D(2026, 5, 3 + i, 12),
            "scale": 5,
            "comment": "ok",
        }
        for i in range(12)
    ],  # fmt: skip
    "qa_reviews": [
        {
            "review_id": f"R{i}",
            "agent": "A",
            "reviewer": "Q",
            "criterion": "服务态度 attitude",
            "score": 3 + i % 3,
            "ticket_id": f"T{i}",
            "reviewed_at": D(2026, 5, 4 + i),
            "max_score": 5,
            "critical_failed": False,
            "comment": "ok",
        }
        for i in range(6)
    ],  # fmt: skip
}


def _upload(con, tmp_path, table: str, rows: list[dict], drop=(), name: str = "export.csv"):
    """Write rows as a CSV with canonical headers, less the `drop` columns, and ingest it."""
    frame = pd.DataFrame(rows).drop(columns=list(drop))
    path = tmp_path / name
    frame.to_csv(path, index=False)
    mapping = from_dict({"name": "plain", "kind": table,
                         "columns": {c: c for c in frame.columns}})  # fmt: skip
    return ingest_file(con, path, mapping)


def _cases():
    """(kpi, source index, input entry) for every input of every uploaded source."""
    out = []
    for kpi in load_catalogue().kpis.values():
        for i, source in enumerate(kpi.sources):
            table = kpis.coverage.base_table(source.table)
            if table is None:
                continue
            for need in source.inputs:
                out.append(pytest.param(kpi.id, i, need, id=f"{kpi.id}#{i}-{need}"))
    return out


@pytest.mark.parametrize(("kpi_id", "index", "need"), _cases())
def test_an_export_without_an_input_gives_no_data_with_the_reason(tmp_path, kpi_id, index, need):
    catalogue = load_catalogue()
    kpi = catalogue.get(kpi_id)
    source = kpi.sources[index]
    only = dataclasses.replace(kpi, sources=(source,))  # this source alone
    cat = dataclasses.replace(catalogue, kpis={kpi_id: only})
    table = kpis.coverage.base_table(source.table)
    group = need if isinstance(need, tuple) else (need,)

    full = open_store(tmp_path / "full.duckdb")
    _upload(full, tmp_path, table, FULL[table])
    got = kpis.compute(full, *MAY, kpi_ids=[kpi_id], catalogue=cat)
    assert len(got) == 1 and got["n"].iloc[0] > 0  # with every column the source has data

    lacking = open_store(tmp_path / "lacking.duckdb")
    _upload(lacking, tmp_path, table, FULL[table], drop=group)
    got = kpis.compute(lacking, *MAY, kpi_ids=[kpi_id], catalogue=cat)
    assert got.empty  # no data: never 0 % or 100 %
    [gap] = kpis.gaps(lacking, *MAY, [kpi_id], got, cat)
    assert gap.code == "no_column" and gap.table == table
    assert " / ".join(group) in gap.columns
    words = views.gap_text(gap, "en")
    assert words.startswith(f"no data: your {table.replace('_', ' ')}") or "export has no" in words


def test_rows_of_an_export_without_the_column_are_left_out_and_counted(tmp_path):
    con = open_store(tmp_path / "s.duckdb")
    first = [_ticket(i) for i in range(4)]  # resolved after 2 h (even) or 22 h (odd)
    second = [{**_ticket(i), "ticket_id": f"U{i}"} for i in range(4, 10)]
    _upload(con, tmp_path, "tickets", first, name="a.csv")
    _upload(con, tmp_path, "tickets", second, drop=("resolved_at",), name="b.csv")
    got = kpis.compute(con, *MAY, kpi_ids=["resolution_time", "sla_breach_rate"])
    res = got.set_index("kpi").loc["resolution_time"]
    assert (res["n"], res["median"]) == (4, (2 + 22) / 2 * 3600)  # the 6 others left out
    sla = got.set_index("kpi").loc["sla_breach_rate"]
    assert (sla["num"], sla["den"]) == (0, 4)  # not 6 "still open past their limit"
    [gap, _] = kpis.gaps(con, *MAY, ["resolution_time", "sla_breach_rate"], got)
    assert (gap.code, gap.rows, gap.columns) == ("partial", 6, ("resolved_at",))
    assert views.gap_text(gap, "en") == (
        "6 tickets rows left out: the export they came from has no resolution time"
    )
    assert views.gap_text(gap, "zh") == "未计入 6 行工单：它们所在的导出文件没有“解决时间”列"


def test_a_ticket_export_without_times_scores_on_what_it_has(tmp_path):
    """A scorecard from an export with no reply, resolution, contact or transfer columns: those
    KPIs are 'no data' with the reason, and the composite rests on the rest."""
    con = open_store(tmp_path / "s.duckdb")
    lean = ("first_response_at", "resolved_at", "contacts", "reopens", "transferred",
            "escalated", "status")  # fmt: skip
    _upload(con, tmp_path, "tickets", FULL["tickets"], drop=lean)
    scheme = schemes.get(con, "after_sales")
    card = scoring.scorecard(con, scheme, periods.parse("2026-05"), viewer=access.SYSTEM)
    status = card.details.set_index("kpi")["status"]
    for kid in ("sla_breach_rate", "first_response_time", "fcr_rate"):
        if kid in status:
            assert status[kid] == "no data"
    gaps = views.data_gaps(con, card, "en").set_index("kpi")["Why"]
    assert gaps["sla_breach_rate"] == "no data: your tickets export has no resolution time"


def test_csat_and_orders_without_an_agent_take_the_tickets_agent_or_are_set_aside(tmp_path):
    con = open_store(tmp_path / "s.duckdb")
    _upload(con, tmp_path, "tickets", FULL["tickets"][:3])
    rows = [{"ticket_id": "T1", "rating": 5, "agent": None, "responded_at": D(2026, 5, 3)},
            {"ticket_id": "T2", "rating": 2, "agent": "B", "responded_at": D(2026, 5, 3)},
            {"ticket_id": "X9", "rating": 4, "agent": "", "responded_at": D(2026, 5, 3)}]  # fmt: skip
    result = _upload(con, tmp_path, "csat_responses", rows, name="csat.csv")
    assert (result.accepted, result.quarantined) == (2, 1)
    assert result.errors[0].row == 4 and "ticket X9 is not stored" in result.errors[0].reason
    stored = con.execute("SELECT ticket_id, agent FROM csat_responses ORDER BY 1").fetchall()
    assert stored == [("T1", "A"), ("T2", "B")]
    # A store written before this check, with an empty agent, still scores without a crash.
    insert(con, "csat_responses", [{"ticket_id": "T0", "rating": 1, "scale": 5,
                                    "responded_at": D(2026, 5, 4)}])  # fmt: skip
    card = scoring.scorecard(con, schemes.get(con, "csat_first"), periods.parse("2026-05"),
                             viewer=access.SYSTEM)  # fmt: skip
    assert set(card.agents["agent"]) <= {"A", "B"}


def test_a_daily_report_feeds_response_time_in_the_small_shop_scheme(tmp_path):
    con = open_store(tmp_path / "s.duckdb")
    text = ("客服昵称,日期,接待人数,平均响应时长\n"
            "店铺:小美,2026-05-01,10,20\n店铺:小美,2026-05-02,30,40\n"
            "店铺:小美,2026-05-03,0,99\n")  # fmt: skip
    path = tmp_path / "qianniu.csv"
    path.write_text(text, encoding="gb18030")
    ingest_file(con, path, from_dict(_qianniu()))
    card = scoring.scorecard(con, schemes.get(con, "small_shop"), periods.parse("2026-05"),
                             viewer=access.SYSTEM)  # fmt: skip
    row = card.details.set_index("kpi").loc["avg_response_time"]
    assert row["value"] == pytest.approx((20 * 10 + 40 * 30) / 40)  # weighted by receptions
    assert (row["source"], row["status"]) == ("agent_daily", "scored")
    trend = views.trend(con, access.SYSTEM, "first_response_time", periods.parse("2026-05"))
    assert trend.empty  # a KPI without data gives an empty trend, not an error
    assert views.kpis_with_data(card) == ["avg_response_time"]


def _qianniu() -> dict:
    from lib.ingest.mapping import load

    preset = load("qianniu_agent_daily")
    return {"name": preset.name, "kind": preset.kind, "columns": preset.columns,
            "options": preset.options}  # fmt: skip


def test_a_file_whose_rows_are_all_set_aside_is_not_stored_and_exits_3(tmp_path):
    db = tmp_path / "s.duckdb"
    open_store(db).close()
    bad = tmp_path / "bad.csv"
    bad.write_text("Ticket ID,Agent,Created at\n1,A,not a date\n2,B,\n", encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("name: m\nkind: tickets\ncolumns: {ticket_id: Ticket ID, agent: Agent, "
                       "created_at: Created at}\n", encoding="utf-8")  # fmt: skip
    out = cli("ingest", str(bad), "--mapping", str(mapping), "--json", db=db)
    assert out.returncode == 3, out.stderr
    summary = json.loads(out.stdout)["files"][0]
    assert (summary["status"], summary["quarantined"], summary["accepted"]) == (
        NOTHING_STORED, 2, 0)  # fmt: skip
    good = tmp_path / "good.csv"
    good.write_text("Ticket ID,Agent,Created at\n3,A,2026-05-01 10:00\n", encoding="utf-8")
    assert cli("ingest", str(good), "--mapping", str(mapping), db=db).returncode == 0
    again = cli("ingest", str(good), "--mapping", str(mapping), db=db)
    assert again.returncode == 0  # every row already stored: nothing lost, nothing to notice
    missing = tmp_path / "other.csv"
    missing.write_text("Name\nx\n", encoding="utf-8")
    assert cli("ingest", str(missing), "--mapping", str(mapping), db=db).returncode == 2


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json", "table"])
def test_a_scorecard_for_an_empty_period_has_headers_in_every_format(tmp_path, fmt):
    db = tmp_path / "s.duckdb"
    con = open_store(db)
    _upload(con, tmp_path, "tickets", FULL["tickets"])
    con.close()
    out_file = tmp_path / f"card.{fmt}"
    args = ["scorecard", "--period", "2024-01", "--format", fmt, "--scheme", "small_shop"]
    if fmt == "xlsx":
        args += ["--out", str(out_file)]
    out = cli(*args, db=db)
    assert out.returncode == 0, out.stderr
    assert "No agent has data for 2024-01" in out.stderr and "2026-05" in out.stderr
    if fmt == "csv":
        header = out.stdout.splitlines()[0].split(",")
        assert header[:3] == ["agent", "team", "composite"] and "csat value" in header
    elif fmt == "xlsx":
        frame = pd.read_excel(out_file)
        assert frame.empty and "csat score" in frame.columns
    elif fmt == "json":
        assert json.loads(out.stdout)["agents"] == []


def test_json_output_is_strict(tmp_path):
    db = tmp_path / "s.duckdb"
    con = open_store(db)
    rows = [{**t, "csat": None} for t in FULL["tickets"][:3]]  # too few for most KPIs
    _upload(con, tmp_path, "tickets", rows)
    con.close()
    out = cli("scorecard", "--period", "2026-05", "--format", "json", db=db)
    assert out.returncode == 0, out.stderr
    assert "NaN" not in out.stdout
    data = json.loads(out.stdout, parse_constant=lambda c: pytest.fail(f"bare {c}"))
    kpi = data["agents"][0]["kpis"]["csat"]
    assert kpi["value"] is None and kpi["status"] == "no data"


def test_clearing_the_demo_removes_its_alerts(demo_copy):
    con = open_store(demo_copy)
    alerts.refresh(con, SYSTEM)
    assert con.execute("SELECT count(*) FROM alerts").fetchone()[0] > 0
    demo.clear(con, SYSTEM)
    assert con.execute("SELECT count(*) FROM alerts").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM alert_events").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM plans").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM notes").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM qa_queue").fetchone()[0] == 0
    alerts.refresh(con, SYSTEM)
    assert con.execute("SELECT count(*) FROM alerts").fetchone()[0] == 0


def test_line_items_sum_adds_up_each_order(tmp_path):
    con = open_store(tmp_path / "s.duckdb")
    text = ("order_id,order_item_id,seller_id,purchased,price,freight\n"
            "o1,1,s1,2026-05-01 10:00,10.00,2.50\n"
            "o1,2,s1,2026-05-01 10:00,10.00,2.50\n"  # the same item twice: not a duplicate
            "o1,3,s1,2026-05-01 10:00,5.00,1.00\n"
            "o2,1,s2,2026-05-02 11:00,40.00,0\n"
            "o3,1,s2,2026-05-03 12:00,-3,0\n"  # a negative price: the order is set aside
            "o3,2,s2,2026-05-03 12:00,8,0\n")  # fmt: skip
    path = tmp_path / "items.csv"
    path.write_text(text, encoding="utf-8")
    mapping = from_dict({"name": "items", "kind": "orders",
                         "columns": {"order_id": "order_id", "agent": "seller_id",
                                     "created_at": "purchased", "amount": "price",
                                     "refund_amount": "freight"},
                         "options": {"line_items": "sum"}})  # fmt: skip
    result = ingest_file(con, path, mapping)
    assert (result.rows_read, result.accepted, result.duplicates, result.quarantined) == (
        6,
        4,
        0,
        2,
    )
    assert result.inserted == 2
    stored = con.execute("SELECT order_id, amount, refund_amount FROM orders ORDER BY 1").fetchall()
    assert stored == [("o1", 25.0, 6.0), ("o2", 40.0, 0.0)]
    reasons = {e.row: e.reason for e in result.errors}
    assert reasons[7] == "another line of this order was rejected (row 6)"
    again = ingest_file(con, path, mapping)  # the same file: every stored order's rows repeat
    assert (again.accepted, again.duplicates, again.quarantined) == (0, 4, 2)
    with pytest.raises(ValueError, match="line_items"):
        from_dict({"name": "items", "kind": "orders", "options": {"line_items": "each"},
                   "columns": {"order_id": "order_id", "agent": "seller_id",
                               "created_at": "purchased", "amount": "price"}})  # fmt: skip


@pytest.mark.parametrize(("created", "first", "resolved", "reason"), [
    ("2026-05-01 10:00", "2026-05-01 12:00", "2026-05-01 11:00", "resolved before the first reply"),
    ("2024-05-01 10:00", "2026-04-18 10:00", "",
     "first response more than 90 days after the ticket was created"),
    ("2026-05-01 10:00", "", "2026-09-01 10:00",
     "resolved more than 90 days after the ticket was created"),
    ("1969-12-31 23:00", "", "", "date outside the accepted range 1970-01-01 to 2100-12-31"),
    ("2101-01-01 00:00", "", "", "date outside the accepted range 1970-01-01 to 2100-12-31"),
    ("1970-01-01 00:00", "", "", None),
    ("2100-12-31 23:00", "", "", None),
])  # fmt: skip
def test_impossible_tickets_are_set_aside_with_the_reason(
    tmp_path, created, first, resolved, reason
):
    con = open_store(tmp_path / "s.duckdb")
    path = tmp_path / "t.csv"
    path.write_text(f"id,agent,created,first,resolved\nT1,A,{created},{first},{resolved}\n",
                    encoding="utf-8")  # fmt: skip
    mapping = from_dict({"name": "t", "kind": "tickets", "columns": {
        "ticket_id": "id", "agent": "agent", "created_at": "created",
        "first_response_at": "first", "resolved_at": "resolved"}})  # fmt: skip
    result = ingest_file(con, path, mapping)
    if reason is None:
        assert result.accepted == 1 and not result.errors
    else:
        assert result.quarantined == 1 and result.errors[0].reason == reason


def test_the_plausibility_limit_can_be_set_per_mapping(tmp_path):
    con = open_store(tmp_path / "s.duckdb")
    path = tmp_path / "t.csv"
    path.write_text("id,agent,created,resolved\nT1,A,2026-01-01 10:00,2026-05-01 10:00\n",
                    encoding="utf-8")  # fmt: skip
    columns = {"ticket_id": "id", "agent": "agent", "created_at": "created",
               "resolved_at": "resolved"}  # fmt: skip
    mapping = from_dict({"name": "t", "kind": "tickets", "columns": columns,
                         "options": {"max_duration_days": 180}})  # fmt: skip
    assert ingest_file(con, path, mapping).accepted == 1


QIANNU = ("客服昵称,日期,接待人数,询单人数,最终付款人数,客服销售额,平均响应时长,3分钟回复率,客户满意率\n"
          + "".join(f"旗舰店:{name},2026-05-{d:02d},{40 + d},{20 + d},{5 + d % 4},{900 + 10 * d},"
                    f"{speed + d % 5},{88 + d % 7}%,{93 + d % 5}%\n"
                    for name, speed in (("小美", 18), ("阿杰", 35), ("小王", 26))
                    for d in range(1, 29)))  # fmt: skip


def owner_store(demo_copy, tmp_path):
    """The demo cleared, then a 千牛 daily report for May 2026: an owner's first upload."""
    con = open_store(demo_copy)
    demo.clear(con, SYSTEM)
    path = tmp_path / "千牛客服绩效.csv"
    path.write_text(QIANNU, encoding="gb18030")
    result = ingest_file(con, path, from_dict(_qianniu()))
    assert result.accepted == 84
    alerts.refresh(con, SYSTEM)
    con.close()
    return demo_copy


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_page_renders_after_an_owners_first_upload(demo_copy, tmp_path, monkeypatch,
                                                         accounts, lang):  # fmt: skip
    from tests.test_app import PAGES, new_app

    db = owner_store(demo_copy, tmp_path)
    for page in PAGES:
        at = new_app(db, monkeypatch, "admin", lang=lang).run()
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, (page, at.exception)
        assert not at.error, (page, [e.value for e in at.error])
        if page == "overview":
            fed = {"avg_response_time", "reply_3min_rate", "csat", "conversion_rate",
                   "sales_amount", "orders_count", "aov", "receptions"}  # fmt: skip
            assert (
                at.selectbox(key=f"trend_kpi_choice_{lang}").value in fed
            )  # the default trend has data
            label = "Average response time" if lang == "en" else "平均响应时长"
            [speed] = [m.value for m in at.metric if m.label == label]
            unit = "s" if lang == "en" else "秒"  # the 千牛 figure, weighted by receptions
            assert speed == f"{_qianniu_speed():.0f} {unit}"


def _qianniu_speed() -> float:
    rows = [(speed + d % 5, 40 + d) for speed in (18, 35, 26) for d in range(1, 29)]
    return sum(s * w for s, w in rows) / sum(w for _, w in rows)
