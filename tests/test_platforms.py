"""The platforms' own exports, one fixture per preset (tests/data/platforms, rebuilt by its
make_fixtures.py): each is ingested with its preset, and the stored rows, the summary rows set
aside and the benchmarks kept are compared with values worked out by hand from the fixture."""

import datetime as dt
from pathlib import Path

import pytest

from lib.ingest import mapping
from lib.ingest.pipeline import Scope, ingest_file
from lib.ingest.reader import read_table
from lib.metrics import kpis

DATA = Path(__file__).resolve().parent / "data" / "platforms"
D1, D2, D31 = dt.date(2026, 10, 1), dt.date(2026, 10, 2), dt.date(2026, 10, 31)
OCT = (D1, D31)  # a period report's stated period, first and last day
SCORED = (D1, dt.date(2026, 11, 1))  # kpis.compute's period, end excluded


def ingest(con, name: str, preset: str, **scope):
    return ingest_file(con, DATA / name, mapping.load(preset), scope=Scope(**scope))


def counts(result):
    return (result.rows_read, result.accepted, result.skipped_rows, result.quarantined)


def stored(con, columns: str):
    """Each stored row: where it belongs and who, then the named columns."""
    return con.execute(
        f"SELECT platform, shop, account, agent, date, period_end, {columns} "
        "FROM agent_daily ORDER BY account, date"
    ).fetchall()


def benchmarks(con, where: str = "TRUE"):
    return con.execute(
        f"""SELECT kind, label, "column", value FROM benchmarks WHERE {where}
            ORDER BY kind, "column" """
    ).fetchall()


def shop_value(con, kpi: str, shop: str):
    frame = kpis.compute(con, *SCORED, by="shop", kpi_ids=[kpi])
    row = frame[(frame["grp"] == shop) & (frame["kpi"] == kpi)]
    return None if row.empty else float(row["value"].iloc[0])


TAOBAO_SHOP = "星辰家居旗舰店"


def test_taobao_performance_is_a_period_report_with_six_summary_rows(con):
    r = ingest(con, "taobao_performance.csv", "taobao_performance", period=OCT)
    # three agents; 汇总值, 平均值, 全店汇总值, 全店平均值, 同行同层优秀, 同行同层均值 set aside
    assert counts(r) == (9, 3, 6, 0)
    assert any("row 2" in n for n in r.notes)  # the title line above the header
    got = stored(
        con,
        "inquiries, paying_customers, conversion_rate, first_response_s, avg_response_s, "
        "satisfaction_rate, reply_rate, sales_amount, refund_amount, receptions",
    )
    # The shop comes from the sub-account (店铺:客服); the period stands in for the dates.
    where = ("taobao", TAOBAO_SHOP)
    assert got == [
        (*where, "星辰家居旗舰店:小王", "小王", D1, D31,
         100, 38, 0.38, 10.0, 25.0, 0.97, 0.998, 7654.4, 150.0, None),
        (*where, "星辰家居旗舰店:小美", "小美", D1, D31,
         120, 54, 0.45, 8.5, 20.25, 0.985, 1.0, 12345.6, 300.0, None),
        (*where, "星辰家居旗舰店:阿杰", "阿杰", D1, D31,
         80, 28, 0.35, 12.0, 31.5, 0.96, 0.995, 5600.0, 0.0, None),
    ]  # fmt: skip
    kinds = con.execute(
        "SELECT kind, count(*) FROM benchmarks WHERE platform = 'taobao' AND date = ? "
        "AND period_end = ? GROUP BY kind ORDER BY kind",
        [D1, D31],
    ).fetchall()
    # Nine numeric columns in each of the shop's four rows; the peer rows leave the counts and
    # amounts blank (-), so five each: conversion, two response times, satisfaction, reply.
    assert kinds == [("average", 9), ("peer_average", 5), ("peer_best", 5),
                     ("shop_average", 9), ("shop_total", 9), ("total", 9)]  # fmt: skip
    assert benchmarks(con, "kind LIKE 'peer%'") == [
        ("peer_average", "同行同层均值", "avg_response_s", 24.7),
        ("peer_average", "同行同层均值", "conversion_rate", 0.416),
        ("peer_average", "同行同层均值", "first_response_s", 9.4),
        ("peer_average", "同行同层均值", "reply_rate", 0.991),
        ("peer_average", "同行同层均值", "satisfaction_rate", 0.975),
        ("peer_best", "同行同层优秀", "avg_response_s", 15.8),
        ("peer_best", "同行同层优秀", "conversion_rate", 0.523),
        ("peer_best", "同行同层优秀", "first_response_s", 5.1),
        ("peer_best", "同行同层优秀", "reply_rate", 1.0),
        ("peer_best", "同行同层优秀", "satisfaction_rate", 0.992),
    ]
    shop_rows = benchmarks(con, "kind = 'shop_total' AND \"column\" LIKE 's%'")
    assert shop_rows == [
        ("shop_total", "全店汇总值", "sales_amount", 31200.0),
        ("shop_total", "全店汇总值", "satisfaction_rate", 0.968),
    ]
    # The reference rows belong to the shop of the agents' sub-accounts, not to the shop ''
    # of the six summary rows, which name none.
    assert con.execute("SELECT DISTINCT shop FROM benchmarks").fetchall() == [(TAOBAO_SHOP,)]
    # Conversion from the paying customers: (54 + 28 + 38) / (120 + 80 + 100) = 120 / 300
    assert shop_value(con, "conversion_rate", f"taobao|{TAOBAO_SHOP}") == pytest.approx(0.4)


def test_taobao_daily_detail(con):
    r = ingest(con, "taobao_daily.csv", "taobao_daily")
    assert counts(r) == (4, 4, 0, 0)
    got = stored(
        con,
        "receptions, inquiries, paying_customers, sales_amount, lost_inquiries, "
        "first_response_s, avg_response_s, answer_ratio, satisfaction_rate, conversion_rate",
    )
    where = ("taobao", TAOBAO_SHOP)
    # sales are 销售额 (2,160.00), not 净销售额 (2,100.00); '--' is no value, not 0
    assert got == [
        (*where, "星辰家居旗舰店:小美", "小美", D1, None,
         60, 40, 18, 2160.0, 22, 9.2, 21.4, 1.35, 0.98, 0.45),
        (*where, "星辰家居旗舰店:小美", "小美", D2, None,
         52, 35, 14, 1680.0, 21, 8.8, 19.9, 1.42, 1.0, 0.40),
        (*where, "星辰家居旗舰店:阿杰", "阿杰", D1, None,
         45, 30, 9, 900.0, 21, 13.6, 30.2, 1.10, 0.9556, 0.30),
        (*where, "星辰家居旗舰店:阿杰", "阿杰", D2, None,
         38, 20, 5, 500.0, 15, None, 28.7, 0.95, None, 0.25),
    ]  # fmt: skip
    # The platform's 客单价 again: 销售额 ÷ 销售人数 = (2160 + 1680 + 900 + 500) / (18 + 14 + 9 + 5)
    # = 5240 / 46
    frame = kpis.compute(con, *SCORED, by="shop", kpi_ids=["aov"])
    assert float(frame["value"].iloc[0]) == pytest.approx(5240 / 46)
    # 询单流失率 = (22 + 21 + 21 + 15) / (40 + 30 + 35 + 20) = 79 / 125
    assert shop_value(con, "inquiry_loss_rate", f"taobao|{TAOBAO_SHOP}") == pytest.approx(0.632)


def test_pdd_service_from_an_xls_named_xlsx_with_three_header_rows(con):
    r = ingest(con, "pdd_service.xlsx", "pdd_service", period=OCT)
    assert counts(r) == (3, 3, 0, 0)
    assert any("row 3" in n for n in r.notes)  # title and group headings above the header
    got = stored(
        con,
        "receptions, inquiries, paying_customers, conversion_rate, sales_amount, "
        "reply_3min_rate, reply_30s_rate, avg_response_s, service_score, unreplied",
    )
    where = ("pdd", "小美家居")  # the shop from 店铺名
    # receptions are 人工接待人数 (300), not 咨询人数 (320); 3分钟未回复人数 is not unreplied
    assert got == [
        (*where, "小林-pdd", "小林-pdd", D1, D31, 48, 0, 0, None, 0.0, 0.99, 0.95, 12.0, 4.9, None),
        (*where, "小美-pdd", "小美-pdd", D1, D31,
         300, 150, 60, 0.40, 9000.0, 0.965, 0.882, 18.6, 4.85, None),
        (*where, "阿杰-pdd", "阿杰-pdd", D1, D31,
         190, 100, 32, 0.32, 4160.0, 0.921, 0.80, 25.4, 4.62, None),
    ]  # fmt: skip
    # 30秒应答率 by volume: (0.882 × 300 + 0.80 × 190 + 0.95 × 48) / 538 = 462.2 / 538
    assert shop_value(con, "reply_30s_rate", "pdd|小美家居") == pytest.approx(462.2 / 538)


JD_SHOP = "星辰京东店"  # the service, sales and reviews reports have no 店铺名: stated at upload


def test_jd_service(con):
    r = ingest(con, "jd_service.xlsx", "jd_service", shop=JD_SHOP)
    assert counts(r) == (3, 3, 0, 0)
    got = stored(con, "receptions, first_response_s, avg_response_s, reply_30s_rate")
    assert got == [
        ("jd", JD_SHOP, "jd_ajie", "jd_ajie", D1, None, 60, 20.1, 35.0, 0.8333),
        ("jd", JD_SHOP, "jd_xiaomei", "jd_xiaomei", D1, None, 85, 12.35, 28.4, 0.9176),
        ("jd", JD_SHOP, "jd_xiaomei", "jd_xiaomei", D2, None, 90, 10.8, 26.75, 0.9444),
    ]


def test_jd_sales(con):
    r = ingest(con, "jd_sales.xlsx", "jd_sales", shop=JD_SHOP)
    assert counts(r) == (2, 2, 0, 0)
    got = stored(con, "sales_amount, paying_customers, inquiries, receptions")
    assert got == [
        ("jd", JD_SHOP, "jd_ajie", "jd_ajie", D1, None, 458.5, 2, 25, None),
        ("jd", JD_SHOP, "jd_xiaomei", "jd_xiaomei", D1, None, 1299.0, 6, 40, None),
    ]
    # JD's conversion: 促成下单人数 ÷ 售前接待人数 = (6 + 2) / (40 + 25)
    assert shop_value(con, "conversion_rate", f"jd|{JD_SHOP}") == pytest.approx(8 / 65)


def test_jd_reviews(con):
    r = ingest(con, "jd_reviews.xlsx", "jd_reviews", shop=JD_SHOP)
    assert counts(r) == (2, 2, 0, 0)
    got = stored(con, "good_reviews, bad_reviews")
    assert got == [
        ("jd", JD_SHOP, "jd_ajie", "jd_ajie", D1, None, 5, 0),
        ("jd", JD_SHOP, "jd_xiaomei", "jd_xiaomei", D1, None, 12, 1),
    ]


def test_jd_service_sales_and_reviews_of_one_day_keep_a_row_each_and_add_up(con):
    for preset in ("jd_service", "jd_sales", "jd_reviews"):
        ingest(con, f"{preset}.xlsx", preset, shop=JD_SHOP)
    got = con.execute(
        "SELECT report, receptions, sales_amount, inquiries, good_reviews FROM agent_daily "
        "WHERE account = 'jd_xiaomei' AND date = ? ORDER BY report",
        [D1],
    ).fetchall()
    assert got == [
        ("jd_reviews", None, None, None, 12),
        ("jd_sales", None, 1299.0, 40, None),
        ("jd_service", 85, None, None, None),
    ]
    frame = kpis.compute(con, *SCORED, kpi_ids=["receptions", "sales_amount", "conversion_rate"])
    mei = frame[frame["grp"] == "jd_xiaomei"].set_index("kpi")["value"]
    # receptions 85 + 90 over two days; sales 1,299.00; conversion 6 / 40
    assert (mei["receptions"], mei["sales_amount"]) == (175, 1299.0)
    assert mei["conversion_rate"] == pytest.approx(6 / 40)


FEIGE_SHOP = "星辰抖音店"


def test_feige_performance_with_shop_rows_among_the_agents(con):
    r = ingest(con, "feige_performance.xlsx", "feige_performance", shop=FEIGE_SHOP, period=OCT)
    assert counts(r) == (5, 3, 2, 0)
    got = stored(
        con,
        "receptions, inquiries, paying_customers, conversion_rate, sales_amount, "
        "first_response_s, avg_response_s, reply_3min_rate, satisfaction_rate, good_reviews, "
        "bad_reviews",
    )
    where = ("douyin", FEIGE_SHOP)
    # sales are 客服询单支付额 (4,000), not 退款后销售额 (3,800); 1分02秒 is 62 s
    assert got == [
        (*where, "小林", "小林", D1, D31, 150, 60, 20, 0.3333, 4000.0, 12.0, 28.0, 0.9733, 0.98,
         45, 1),
        (*where, "小雨", "小雨", D1, D31, 90, 35, 10, 0.2857, 2200.0, 18.0, 36.0, 0.9333, 0.96,
         24, 1),
        (*where, "阿杰", "阿杰", D1, D31, 60, 25, 6, 0.24, 1000.0, 62.0, 40.0, 0.9167, 0.97, 12,
         1),
    ]  # fmt: skip
    # The shop rows sit on rows 2 and 4 of the sheet (sorted by 已接待人数 with the agents).
    set_aside = con.execute(
        "SELECT row_number, reason FROM quarantine ORDER BY row_number"
    ).fetchall()
    assert set_aside == [
        (2, "summary row '店铺汇总值', not an agent"),
        (4, "summary row '店铺平均值', not an agent"),
    ]
    # Eleven numeric columns in each of the two rows, under the stated shop and period.
    assert con.execute(
        "SELECT kind, count(*) FROM benchmarks WHERE platform = 'douyin' AND shop = ? "
        "AND date = ? AND period_end = ? GROUP BY kind ORDER BY kind",
        [FEIGE_SHOP, D1, D31],
    ).fetchall() == [("shop_average", 11), ("shop_total", 11)]
    assert benchmarks(con, "\"column\" IN ('receptions', 'good_reviews')") == [
        ("shop_average", "店铺平均值", "good_reviews", 27.0),
        ("shop_average", "店铺平均值", "receptions", 100.0),
        ("shop_total", "店铺汇总值", "good_reviews", 81.0),
        ("shop_total", "店铺汇总值", "receptions", 300.0),
    ]


def test_kuaishou_service_with_chinese_durations(con):
    r = ingest(con, "kuaishou_service.xlsx", "kuaishou_service", shop="星辰快手店", period=OCT)
    assert counts(r) == (3, 3, 0, 0)
    got = stored(
        con,
        "receptions, reply_3min_rate, no_service_rate, avg_response_s, satisfaction_rate, "
        "bad_review_rate, inquiries, paying_customers, conversion_rate, sales_amount",
    )
    where = ("kuaishou", "星辰快手店")
    # receptions are 咨询人数 (400), not 人工会话量 (520); the 3-minute rate is the per-buyer
    # one (92.5 %), not the per-chat one (90.1 %); 7小时41分52秒 = 7 × 3600 + 41 × 60 + 52
    assert got == [
        (*where, "小林", "小林", D1, D31, 50, 0.70, 0.10, 27712.0, 0.80, 0.0, 20, 4, 0.20, 960.0),
        (*where, "小美", "小美", D1, D31,
         400, 0.925, 0.0125, 38.0, 0.96, 0.015, 180, 63, 0.35, 15750.0),
        (*where, "阿杰", "阿杰", D1, D31,
         200, 0.85, 0.05, 65.0, 0.90, 0.04, 90, 27, 0.30, 6480.0),
    ]  # fmt: skip
    # 不服务率 by volume: (0.0125 × 400 + 0.05 × 200 + 0.10 × 50) / 650 = 20 / 650
    assert shop_value(con, "no_service_rate", "kuaishou|星辰快手店") == pytest.approx(20 / 650)


FIXTURES = {
    "taobao_performance.csv": "taobao_performance",
    "taobao_daily.csv": "taobao_daily",
    "pdd_service.xlsx": "pdd_service",
    "jd_service.xlsx": "jd_service",
    "jd_sales.xlsx": "jd_sales",
    "jd_reviews.xlsx": "jd_reviews",
    "feige_performance.xlsx": "feige_performance",
    "kuaishou_service.xlsx": "kuaishou_service",
}


@pytest.mark.parametrize("name, preset", FIXTURES.items())
def test_each_fixture_suggests_its_own_preset_first(name, preset):
    headers = read_table(DATA / name).headers  # read as the upload page reads it
    assert mapping.suggest_presets(headers)[0] == preset


def test_presets_that_would_find_only_the_agent_and_the_date_are_not_suggested():
    # jd_sales and jd_service find 日期 and 客服 in the reviews report, and nothing else.
    headers = read_table(DATA / "jd_reviews.xlsx").headers
    suggested = mapping.suggest_presets(headers)
    assert "jd_sales" not in suggested and "jd_service" not in suggested
    # Nor does naming the shop make a fit: 店铺名 and 客服账号 alone suggest nothing.
    assert mapping.suggest_presets(["店铺名", "客服账号", "技能组"]) == []


def test_every_platform_preset_has_a_fixture_and_sets_its_platform():
    platforms = {"taobao", "pdd", "jd", "douyin", "kuaishou"}
    for preset in [*FIXTURES.values(), "feige_agent_daily"]:
        m = mapping.load(preset)
        assert m.options["constants"]["platform"] in platforms, preset
    assert sorted(p.name for p in DATA.iterdir() if p.suffix != ".py") == sorted(FIXTURES)


def test_fixture_files_are_laid_out_as_the_platforms_write_them():
    # 淘宝/千牛 CSVs are GB18030 (not UTF-8) and keep the full-width parenthesis.
    for name in ("taobao_performance.csv", "taobao_daily.csv"):
        raw = (DATA / name).read_bytes()
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
        assert "首次响应时长（秒)" in raw.decode("gb18030")
    # 拼多多 writes an old BIFF workbook under a .xlsx name.
    assert (DATA / "pdd_service.xlsx").read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
