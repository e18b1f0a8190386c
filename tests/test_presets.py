"""Each preset on a file laid out like the real export, with hand-computed stored values."""

import datetime as dt

import openpyxl
import pytest

from lib.ingest import mapping
from lib.ingest.pipeline import ingest_file

D = dt.datetime


def rows(con, sql):
    return con.cursor().execute(sql).fetchall()


def test_zendesk_tickets(con, write):
    text = (
        "ID,Assignee,Group,Status,Priority,Via,Created at,Solved at,Satisfaction Score,Reopens,"
        "Replies,First reply time in minutes,First reply time in minutes within business hours,"
        "Full resolution time in minutes,Full resolution time in minutes within business hours\n"
        "101,Ann Lee,Support,Solved,Normal,Web form,2026-05-01 09:00:00,2026-05-01 11:00:00,Good,"
        "0,2,15,15,120,120\n"
        "102,Bob Wu,Support,Solved,High,Email,2026-05-01 10:00:00,2026-05-02 10:00:00,Bad,1,4,"
        "90,60,1440,600\n"
        "103,Ann Lee,Support,Open,Low,Chat,2026-05-02 08:00:00,,Offered,0,1,2,2,,\n"
    )
    result = ingest_file(con, write("zendesk.csv", text), mapping.load("zendesk"))
    assert (result.rows_read, result.accepted, result.quarantined) == (3, 3, 0)
    got = rows(
        con,
        "SELECT ticket_id, agent, channel, first_response_at, resolved_at, csat, reopens "
        "FROM tickets ORDER BY ticket_id",
    )
    assert got == [
        ("101", "Ann Lee", "Web form", D(2026, 5, 1, 9, 15), D(2026, 5, 1, 11), 5.0, 0),
        ("102", "Bob Wu", "Email", D(2026, 5, 1, 11, 30), D(2026, 5, 2, 10), 1.0, 1),
        ("103", "Ann Lee", "Chat", D(2026, 5, 2, 8, 2), None, None, 0),
    ]


def test_freshdesk_tickets_fill_first_response_from_hh_mm_ss(con, write):
    text = (
        "Ticket ID,Subject,Status,Priority,Source,Type,Agent,Group,Created time,Resolved time,"
        "Initial response time,First response time (in hrs),Agent interactions,"
        "Customer interactions,Survey results\n"
        "7,Refund,Closed,Medium,Email,Refund,Cara,Billing,2026-05-03 08:00:00,"
        "2026-05-03 12:00:00,2026-05-03 08:20:00,00:20:00,3,2,Extremely Happy\n"
        "8,Late,Resolved,High,Portal,Delivery,Dan,Billing,2026-05-03 09:00:00,"
        "2026-05-04 09:00:00,,01:30:00,5,4,Unhappy\n"
    )
    ingest_file(con, write("freshdesk.csv", text), mapping.load("freshdesk"))
    got = rows(con, "SELECT ticket_id, first_response_at, contacts, csat FROM tickets ORDER BY 1")
    assert got == [("7", D(2026, 5, 3, 8, 20), 2, 5.0), ("8", D(2026, 5, 3, 10, 30), 4, 1.0)]


def test_zammad_xlsx_with_a_title_row(con, tmp_path):
    path = tmp_path / "zammad.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Zammad ticket report 2026-05"])
    ws.append(["#", "Title", "Owner", "Group", "Priority", "State", "Create Channel",
               "Created At", "First Response At", "Closed At", "First Response In Min",
               "Close In Min", "Article Count"])  # fmt: skip
    ws.append([31001, "Broken", "Eve", "Users", "2 normal", "closed", "email",
               dt.datetime(2026, 5, 4, 9), None, dt.datetime(2026, 5, 4, 17), 45, 480, 4])  # fmt: skip
    wb.save(path)
    result = ingest_file(con, path, mapping.load("zammad"))
    assert result.accepted == 1
    assert any("row 2" in n for n in result.notes)
    got = rows(con, "SELECT ticket_id, agent, first_response_at, resolved_at FROM tickets")
    assert got == [("31001", "Eve", D(2026, 5, 4, 9, 45), D(2026, 5, 4, 17))]


def test_chatwoot_csat_with_reporting_period_footer(con, write):
    text = (
        "Agent Name,Rating,Feedback Comment,Contact Name,Contact Email Address,"
        "Contact Phone Number,Link to the conversation,Recorded date\n"
        "Ann Lee (ann@shop.example),5,Great,Zoe,z@x.example,,"
        "https://chat.example/app/accounts/1/conversations/812,2026-05-05 10:00:00 UTC\n"
        "Bob Wu (bob@shop.example),2,,Yan,y@x.example,,"
        "https://chat.example/app/accounts/1/conversations/813,2026-05-05 11:00:00 UTC\n"
        "Reporting period 2026-05-01 to 2026-05-31\n"
    )
    result = ingest_file(con, write("csat.csv", text), mapping.load("chatwoot_csat"))
    assert (result.rows_read, result.accepted, result.quarantined) == (2, 2, 0)
    assert [s.reason for s in result.skipped] == ["footer line"]
    got = rows(
        con, "SELECT ticket_id, agent, rating, scale, responded_at FROM csat_responses ORDER BY 1"
    )
    assert got == [  # UTC times moved into the store's zone (UTC+8 in the tests)
        ("812", "Ann Lee", 5.0, 5, D(2026, 5, 5, 18)),
        ("813", "Bob Wu", 2.0, 5, D(2026, 5, 5, 19)),
    ]


QIANNIU = (
    "客服绩效报表（2026-05-01 至 2026-05-02）\n"
    "客服昵称,日期,咨询人数,接待人数,询单人数,最终付款人数,询单→最终付款成功率,客服销售额,"
    "客单价,平均响应时长(秒),首次响应时长,旺旺回复率,3分钟回复率,客户满意率,答问比,退款金额\n"
    '星辰旗舰店:小美,2026/05/01,30,28,20,9,45.00%,"1,234.50",137.17,18.5,1分5秒,99.50%,'
    "97.00%,100.00%,1.2,0\n"
    "星辰旗舰店:阿杰,2026/05/01,25,25,10,3,30.00%,300,100,40,--,95%,88%,--,1.0,50\n"
    "合计,,55,53,30,12,,1534.5,,,,,,,,50\n"
)


def test_qianniu_gb18030_with_title_and_total_rows(con, write):
    path = write("千牛客服绩效.csv", QIANNIU, "gb18030")
    result = ingest_file(con, path, mapping.load("qianniu_agent_daily"))
    assert (result.rows_read, result.accepted, result.quarantined) == (2, 2, 0)
    assert [s.reason for s in result.skipped] == ["total row"]
    got = rows(
        con,
        "SELECT agent, date, receptions, inquiries, paying_customers, sales_amount, "
        "avg_response_s, first_response_s, reply_rate, reply_3min_rate, satisfaction_rate, "
        "refund_amount FROM agent_daily ORDER BY agent",
    )
    assert got == [
        ("小美", dt.date(2026, 5, 1), 28, 20, 9, 1234.5, 18.5, 65.0, 0.995, 0.97, 1.0, 0.0),
        ("阿杰", dt.date(2026, 5, 1), 25, 10, 3, 300.0, 40.0, None, 0.95, 0.88, None, 50.0),
    ]


def test_feige_daily(con, write):
    text = (
        "日期,客服昵称,接待会话量,待回复会话量,已接待人数,转出会话量,有效好评数,有效差评数,"
        "全天满意率,全天平响时长,全天首响时长,全天3分钟回复率,询单人数,支付人数,"
        "客服询单支付额,退款金额,询单转化率\n"
        "2026-05-01,抖店:小林,120,2,100,5,30,1,96.8%,25秒,1分02秒,98.1%,40,12,2400,0,30%\n"
    )
    ingest_file(con, write("feige.csv", text), mapping.load("feige_agent_daily"))
    got = rows(
        con,
        "SELECT agent, receptions, unreplied, transfers, good_reviews, bad_reviews, "
        "satisfaction_rate, avg_response_s, first_response_s, reply_3min_rate, sales_amount, "
        "conversion_rate, platform, shop, account FROM agent_daily",
    )
    assert got == [
        ("小林", 100, 2, 5, 30, 1, 0.968, 25.0, 62.0, 0.981, 2400.0, 0.3, "douyin", "抖店",
         "抖店:小林"),
    ]  # fmt: skip


def test_shopify_orders_one_row_per_line_item(con, write):
    text = (
        "Name,Email,Financial Status,Paid at,Fulfillment Status,Currency,Subtotal,Total,"
        "Created at,Lineitem quantity,Lineitem name,Refunded Amount,Employee\n"
        "#1001,a@x.example,paid,2026-05-01 10:05:00 +0800,fulfilled,CNY,200,210,"
        "2026-05-01 10:00:00 +0800,1,Tea,0,小美\n"
        "#1001,a@x.example,,,,,,,,2,Cup,,\n"
        "#1002,b@x.example,refunded,2026-05-02 12:00:00 +0800,,CNY,80,80,"
        "2026-05-02 11:50:00 +0800,1,Pot,80,阿杰\n"
    )
    result = ingest_file(con, write("orders_export.csv", text), mapping.load("shopify_orders"))
    # The item row is accepted with its order (never a duplicate); two orders are stored.
    counts = (result.rows_read, result.accepted, result.duplicates, result.quarantined)
    assert counts == (3, 3, 0, 0) and result.inserted == 2
    got = rows(
        con,
        "SELECT order_id, agent, amount, refund_amount, status, created_at FROM orders ORDER BY 1",
    )
    assert got == [
        ("#1001", "小美", 210.0, 0.0, "paid", D(2026, 5, 1, 10)),
        ("#1002", "阿杰", 80.0, 80.0, "refunded", D(2026, 5, 2, 11, 50)),
    ]
    # The same export again: each order is stored already, so each of its rows is a duplicate.
    again = ingest_file(con, write("orders_export.csv", text), mapping.load("shopify_orders"))
    assert (again.rows_read, again.accepted, again.duplicates, again.inserted) == (3, 0, 3, 0)


@pytest.mark.parametrize("name", mapping.preset_names())
def test_every_preset_is_valid_and_documented(name):
    m = mapping.load(name)
    assert m.describe("zh") and m.describe("en") != m.describe("zh"), (
        f"{name}: zh and en descriptions"
    )
    _, missing = m.resolve([h for alts in m.columns.values() for h in alts])
    assert missing == []


def test_a_qianniu_export_naming_the_sub_account_column_travels_with_the_preset(con, write):
    """千牛 exports name the agent column 旺旺子账号 (or 子账号) as often as 客服昵称; a file with few
    columns and that header is matched by the presets and stored."""
    text = "日期,旺旺子账号,接待人数,平均响应时长(秒)\n2026-11-02,星辰旗舰店:小美,30,41\n"
    path = write("子账号.csv", text, "gb18030")
    from lib.ingest.reader import read_table

    headers = read_table(path).headers
    assert "qianniu_agent_daily" in mapping.suggest_presets(headers)
    result = ingest_file(con, path, mapping.load("qianniu_agent_daily"))
    assert (result.rows_read, result.accepted) == (1, 1)
    assert rows(con, "SELECT agent, receptions, avg_response_s FROM agent_daily") == [
        ("小美", 30, 41.0)
    ]
