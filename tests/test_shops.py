"""Shops, platforms, accounts and period reports: two shops never collide, one person's
accounts combine by volume, a period report counts only in periods that contain it."""

import datetime as dt

import pandas as pd
import pytest

from lib.app.stores import open_store
from lib.auth.access import SYSTEM, Viewer
from lib.ingest import accounts, mapping
from lib.ingest.pipeline import Scope, ingest_file
from lib.metrics import kpis

DAILY = mapping.load("qianniu_agent_daily")
OCT = (dt.date(2026, 10, 1), dt.date(2026, 11, 1))


def value(frame, group, kpi):
    row = frame[(frame["grp"] == group) & (frame["kpi"] == kpi)]
    return None if row.empty else float(row["value"].iloc[0])


def test_one_agent_in_two_shops_on_the_same_day_keeps_both_rows_and_combines_by_volume(con, write):
    tmall = write(
        "tmall.csv", "日期,客服昵称,接待人数,3分钟回复率\n2026-10-01,旗舰店:小美,100,90%\n"
    )
    pdd = write("pdd.csv", "日期,客服昵称,接待人数,3分钟回复率\n2026-10-01,小美,50,60%\n")
    ingest_file(con, tmall, DAILY, scope=Scope(platform="天猫"))
    r = ingest_file(con, pdd, DAILY, scope=Scope(platform="pdd", shop="小美家居"))
    assert (r.inserted, r.duplicates) == (1, 0)  # not a duplicate of the other shop's row
    rows = con.execute(
        "SELECT platform, shop, account, agent, receptions FROM agent_daily ORDER BY platform"
    ).fetchall()
    assert rows == [
        ("pdd", "小美家居", "小美", "小美", 50),
        ("taobao", "旗舰店", "旗舰店:小美", "小美", 100),
    ]
    both = kpis.compute(con, *OCT, kpi_ids=["reply_3min_rate", "receptions"])
    # (0.9 × 100 + 0.6 × 50) / 150 = 0.8, not the plain average 0.75
    assert value(both, "小美", "reply_3min_rate") == pytest.approx(0.8)
    assert value(both, "小美", "receptions") == 150
    per_shop = kpis.compute(con, *OCT, by="shop", kpi_ids=["reply_3min_rate"])
    assert value(per_shop, "taobao|旗舰店", "reply_3min_rate") == pytest.approx(0.9)
    assert value(per_shop, "pdd|小美家居", "reply_3min_rate") == pytest.approx(0.6)
    one = kpis.compute(con, *OCT, shops=["pdd|小美家居"], kpi_ids=["reply_3min_rate"])
    assert value(one, "小美", "reply_3min_rate") == pytest.approx(0.6)


def test_three_accounts_linked_to_one_person(con, write):
    header = "日期,客服昵称,接待人数,客户满意率\n"
    files = [
        ("tmall.csv", "2026-10-02,旗舰店:小美,40,100%\n", Scope(platform="taobao")),
        ("pdd.csv", "2026-10-02,小美-pdd,20,50%\n", Scope(platform="pdd", shop="小美家居")),
        ("jd.csv", "2026-10-02,jd_xiaomei,40,75%\n", Scope(platform="jd", shop="京东店")),
    ]
    for name, row, scope in files:
        ingest_file(con, write(name, header + row), DAILY, scope=scope)
    todo = accounts.unlinked(con).set_index("account")
    assert todo.loc["小美-pdd", "suggestion"] == "小美"  # same name once the platform tag goes
    assert pd.isna(todo.loc["jd_xiaomei", "suggestion"])  # no name in common: a manager picks
    assert accounts.link(con, SYSTEM, "pdd", "小美家居", "小美-pdd", "小美") == 1
    assert accounts.link(con, SYSTEM, "jd", "京东店", "jd_xiaomei", "小美") == 1
    frame = kpis.compute(con, *OCT, kpi_ids=["csat", "receptions"])
    assert sorted(frame["grp"].unique()) == ["小美"]
    # (1.0 × 40 + 0.5 × 20 + 0.75 × 40) / 100 = 0.8
    assert value(frame, "小美", "csat") == pytest.approx(0.8)
    assert value(frame, "小美", "receptions") == 100
    # Later uploads of a linked account are stored under the person at once.
    ingest_file(con, write("jd2.csv", header + "2026-10-03,jd_xiaomei,10,100%\n"), DAILY,
                scope=Scope(platform="jd", shop="京东店"))  # fmt: skip
    assert con.execute("SELECT agent FROM agent_daily WHERE date = '2026-10-03'").fetchone() == (
        "小美",
    )
    # Undo: the account's rows go back to the name they had.
    assert accounts.unlink(con, SYSTEM, "jd", "京东店", "jd_xiaomei") == 2
    assert con.execute(
        "SELECT DISTINCT agent FROM agent_daily WHERE account = 'jd_xiaomei'"
    ).fetchall() == [("jd_xiaomei",)]
    with pytest.raises(Exception, match="not allowed|may not|denied"):
        accounts.link(con, Viewer("ann", "agent", "小美"), "jd", "京东店", "jd_xiaomei", "小美")


PERIOD = (
    "旺旺昵称,接待人数,3分钟回复率\n"
    "小美,100,90%\n"
    "小王,300,70%\n"
    "汇总值,400,75%\n"
    "同行同层优秀,,95%\n"
    "同行同层均值,,80%\n"
)


def test_a_period_report_counts_only_in_periods_that_contain_it(con, write):
    path = write("period.csv", PERIOD)
    scope = Scope(
        platform="taobao", shop="旗舰店", period=(dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    )
    r = ingest_file(con, path, DAILY, scope=scope)
    assert (r.rows_read, r.accepted, r.skipped_rows) == (5, 2, 3)  # three summary rows set aside
    assert con.execute(
        "SELECT agent, date, period_end FROM agent_daily ORDER BY agent"
    ).fetchall() == [("小王", dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
                     ("小美", dt.date(2026, 10, 1), dt.date(2026, 10, 31))]  # fmt: skip
    bench = con.execute(
        """SELECT kind, value FROM benchmarks WHERE "column" = 'reply_3min_rate' ORDER BY kind"""
    ).fetchall()
    assert bench == [("peer_average", 0.8), ("peer_best", 0.95), ("total", 0.75)]
    october = kpis.compute(con, *OCT, kpi_ids=["reply_3min_rate"])
    assert value(october, "小美", "reply_3min_rate") == pytest.approx(0.9)
    half = kpis.compute(
        con, dt.date(2026, 10, 1), dt.date(2026, 10, 16), kpi_ids=["reply_3min_rate"]
    )
    assert half.empty or value(half, "小美", "reply_3min_rate") is None
    again = ingest_file(con, path, DAILY, scope=scope)  # the same period again: no change
    assert (again.inserted, again.updated, again.duplicates) == (0, 0, 2)
    # replaced, not added: 汇总值's receptions and rate, and the two peer rates
    assert con.execute("SELECT count(*) FROM benchmarks").fetchall() == [(4,)]


def test_a_period_report_without_a_period_says_how_to_give_one(con, write):
    from lib.core.errors import UnusableFile

    with pytest.raises(UnusableFile, match="date"):
        ingest_file(con, write("period.csv", PERIOD), DAILY)


def test_daily_rows_win_over_a_period_report_of_the_same_account(con, write):
    from lib.core.periods import parse
    from lib.present import shopviews

    daily = write("daily.csv", "日期,旺旺昵称,接待人数,3分钟回复率\n2026-10-05,小美,40,50%\n")
    ingest_file(con, daily, DAILY, scope=Scope(platform="taobao", shop="旗舰店"))
    scope = Scope(
        platform="taobao", shop="旗舰店", period=(dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    )
    ingest_file(con, write("period.csv", PERIOD), DAILY, scope=scope)
    october = kpis.compute(con, *OCT, kpi_ids=["reply_3min_rate", "receptions"])
    assert value(october, "小美", "receptions") == 40  # her daily row, not 40 + 100
    assert value(october, "小美", "reply_3min_rate") == pytest.approx(0.5)
    assert value(october, "小王", "receptions") == 300  # no daily rows: the report counts
    left = shopviews.reports_left_out(con, parse("2026-10"))
    assert left[["file", "reason"]].values.tolist() == [["period.csv", "daily"]]
    weeks = shopviews.reports_left_out(con, parse("2026-W41"))  # 5–11 Oct: partly inside
    assert weeks[["file", "reason"]].values.tolist() == [["period.csv", "partial"]]


def test_the_team_is_set_against_the_platforms_peer_figures(con, write):
    from lib.core.periods import parse
    from lib.metrics import schemes
    from lib.metrics.scoring import scorecard
    from lib.present import shopviews

    scope = Scope(
        platform="taobao", shop="旗舰店", period=(dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    )
    ingest_file(con, write("period.csv", PERIOD), DAILY, scope=scope)
    card = scorecard(con, schemes.resolve(con, None, dt.date(2026, 11, 1)), parse("2026-10"),
                     viewer=SYSTEM)  # fmt: skip
    bench = shopviews.benchmarks(con, SYSTEM, card, "en").set_index("kpi")
    # team: (0.9 × 100 + 0.7 × 300) / 400 = 0.75; peers 80 % on average, 95 % at best
    assert bench.loc["reply_3min_rate", ["ours", "peer_average", "peer_best"]].tolist() == \
        pytest.approx([0.75, 0.8, 0.95])  # fmt: skip
    mine = shopviews.benchmarks(con, SYSTEM, card, "en", agent="小美").set_index("kpi")
    assert mine.loc["reply_3min_rate", "ours"] == pytest.approx(0.9)
    other = scorecard(con, card.scheme, parse("2026-10"), viewer=SYSTEM, shops=["pdd|x"])
    assert shopviews.benchmarks(con, SYSTEM, other, "en").empty  # another shop's peers don't count


def test_a_store_from_before_shops_migrates_and_a_restated_day_replaces_its_row(tmp_path, write):
    import duckdb

    from lib.core import store

    path = tmp_path / "old.duckdb"
    old = duckdb.connect(str(path))
    old.execute("CREATE TABLE schema_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    for version, sql in store.migrations():
        if version <= 10:
            old.execute(sql.read_text(encoding="utf-8"))
    old.execute("INSERT INTO schema_meta VALUES ('schema_version', '10')")
    old.execute("INSERT INTO uploads (file_name, kind, mapping, status) VALUES "
                "('old.csv', 'agent_daily', 'qianniu_agent_daily', 'stored')")  # fmt: skip
    old.execute("INSERT INTO agent_daily (date, agent, receptions, upload_id) VALUES "
                "('2026-10-01', '小美', 100, 1)")  # fmt: skip
    old.close()
    con = open_store(path)
    assert con.execute(
        "SELECT platform, shop, account, agent, report FROM agent_daily"
    ).fetchall() == [("", "", "小美", "小美", "qianniu_agent_daily")]
    # The same day exported again, now under its sub-account and platform: one row, not two.
    again = write("again.csv", "日期,客服昵称,接待人数\n2026-10-01,旗舰店:小美,100\n")
    ingest_file(con, again, DAILY, scope=Scope(platform="taobao"))
    assert con.execute(
        "SELECT platform, shop, account, receptions FROM agent_daily"
    ).fetchall() == [("taobao", "旗舰店", "旗舰店:小美", 100)]
    con.close()


def test_the_shop_views_follow_the_team_filter(con, write):
    from lib.core.periods import parse
    from lib.metrics import schemes
    from lib.metrics.scoring import scorecard
    from lib.present import shopviews

    roster = write("roster.csv", "Agent,Team\n小美,售前组\n小王,售后组\n")
    ingest_file(con, roster, mapping.load("demo_roster"))
    scope = Scope(
        platform="taobao", shop="旗舰店", period=(dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    )
    ingest_file(con, write("period.csv", PERIOD), DAILY, scope=scope)
    ingest_file(con, write("pdd.csv", "日期,客服昵称,接待人数,3分钟回复率\n2026-10-03,小王,50,60%\n"),
                DAILY, scope=Scope(platform="pdd", shop="小美家居"))  # fmt: skip
    scheme = schemes.resolve(con, None, dt.date(2026, 11, 1))
    card = scorecard(con, scheme, parse("2026-10"), viewer=SYSTEM, team="售前组")
    bench = shopviews.benchmarks(con, SYSTEM, card, "en").set_index("kpi")
    assert bench.loc["reply_3min_rate", "ours"] == pytest.approx(0.9)  # 小美 alone, not 0.75
    shops_seen = set(shopviews.per_shop(con, SYSTEM, card, "en")["shop"])
    assert shops_seen == set()  # 售前组 works one shop only: no breakdown to show
