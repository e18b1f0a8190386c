"""Write the platform fixtures: one export per preset, laid out as the platform writes it.

Run `python tests/data/platforms/make_fixtures.py` to rebuild them; the files are committed,
so tests never depend on this script. Layouts follow the platforms issue: 淘宝/千牛 CSVs in
GB18030 with a title line above the header and full-width parentheses in the headers, the six
summary rows at the end of the 淘宝 period report, 拼多多 as an old .xls workbook named .xlsx
(title on row 1, merged group headings on row 2, headers on row 3, data from row 4), 飞鸽 with
店铺汇总值/店铺平均值 sorted in among the agents, and 快手 durations such as 7小时41分52秒.
The numbers are chosen so that tests/test_platforms.py can state the stored values by hand.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

HERE = Path(__file__).resolve().parent

TAOBAO_PERFORMANCE = [
    ["客服绩效报表（2026-10-01 至 2026-10-31）"],
    ["旺旺昵称", "询单人数", "询单最终付款人数", "询单最终付款转化率", "首次响应时长（秒)",
     "平均响应时长（秒)", "客户满意率", "旺旺回复率", "询单最终付款金额", "成功退款金额"],
    ["星辰家居旗舰店:小美", "120", "54", "45.00%", "8.5", "20.25", "98.50%", "100.00%",
     "12,345.60", "300.00"],
    ["星辰家居旗舰店:阿杰", "80", "28", "35.00%", "12", "31.5", "96.00%", "99.50%", "5600.00",
     "0.00"],
    ["星辰家居旗舰店:小王", "100", "38", "38.00%", "10", "25", "97.00%", "99.80%", "7654.40",
     "150.00"],
    ["汇总值", "300", "120", "40.00%", "10.17", "25.58", "97.17%", "99.77%", "25600.00", "450.00"],
    ["平均值", "100", "40", "40.00%", "10.17", "25.58", "97.17%", "99.77%", "8533.33", "150.00"],
    ["全店汇总值", "420", "160", "38.10%", "11.2", "27.3", "96.80%", "99.60%", "31200.00",
     "600.00"],
    ["全店平均值", "105", "40", "38.10%", "11.2", "27.3", "96.80%", "99.60%", "7800.00", "150.00"],
    ["同行同层优秀", "-", "-", "52.30%", "5.1", "15.8", "99.20%", "100.00%", "-", "-"],
    ["同行同层均值", "-", "-", "41.60%", "9.4", "24.7", "97.50%", "99.10%", "-", "-"],
]  # fmt: skip

TAOBAO_DAILY = [
    ["淘宝客服绩效明细（2026-10-01 至 2026-10-02）"],
    ["日期", "旺旺昵称", "旺旺分组", "有效接待人数", "当日询单人数", "销售人数", "净销售额",
     "客单价", "询单流失人数", "首次响应时长（秒)", "平均响应时长（秒)", "淘宝答问比",
     "客户满意率", "销售额", "询单最终付款转化率"],
    ["2026-10-01", "星辰家居旗舰店:小美", "售前组", "60", "40", "18", "2,100.00", "120.00", "22",
     "9.2", "21.4", "1.35", "98.00%", "2,160.00", "45.00%"],
    ["2026-10-01", "星辰家居旗舰店:阿杰", "售前组", "45", "30", "9", "900.00", "100.00", "21",
     "13.6", "30.2", "1.10", "95.56%", "900.00", "30.00%"],
    ["2026-10-02", "星辰家居旗舰店:小美", "售前组", "52", "35", "14", "1,680.00", "120.00", "21",
     "8.8", "19.9", "1.42", "100.00%", "1,680.00", "40.00%"],
    ["2026-10-02", "星辰家居旗舰店:阿杰", "售后组", "38", "20", "5", "450.00", "100.00", "15",
     "--", "28.7", "0.95", "--", "500.00", "25.00%"],
]  # fmt: skip

PDD_GROUPS = [("基础信息", 0, 1), ("询单转化", 2, 7), ("服务质量", 8, 13)]
PDD_HEADERS = ["店铺名", "客服账号", "咨询人数", "询单人数", "最终成团人数", "询单转化率",
               "客服销售额", "去退销售额", "3分钟人工回复率(8-23点)", "30秒应答率(8-23点)",
               "平均人工响应时长", "人工接待人数", "3分钟未回复人数", "客服服务分"]  # fmt: skip
PDD_ROWS = [
    ["小美家居", "小美-pdd", 320, 150, 60, "40.00%", 9000.0, 8550.0, "96.50%", "88.20%", 18.6, 300,
     11, 4.85],
    ["小美家居", "阿杰-pdd", 210, 100, 32, "32.00%", 4160.0, 4160.0, "92.10%", "80.00%", 25.4, 190,
     15, 4.62],
    ["小美家居", "小林-pdd", 50, 0, 0, "-", 0.0, 0.0, "99.00%", "95.00%", 12.0, 48, 0, 4.9],
]  # fmt: skip

JD_SERVICE = [
    ["日期", "客服", "接待量", "首次平均响应时间", "平均响应时间", "30s应答率"],
    ["2026-10-01", "jd_xiaomei", 85, 12.35, 28.4, "91.76%"],
    ["2026-10-01", "jd_ajie", 60, 20.1, 35, "83.33%"],
    ["2026-10-02", "jd_xiaomei", 90, 10.8, 26.75, "94.44%"],
]
JD_SALES = [
    ["日期", "客服", "促成下单商品金额", "促成下单人数", "售前接待人数"],
    ["2026-10-01", "jd_xiaomei", "1,299.00", 6, 40],
    ["2026-10-01", "jd_ajie", 458.5, 2, 25],
]
JD_REVIEWS = [
    ["日期", "客服", "技能组", "好评量", "差评量"],
    ["2026-10-01", "jd_xiaomei", "售前", 12, 1],
    ["2026-10-01", "jd_ajie", "售后", 5, 0],
]

# Sorted by 已接待人数, as the back end shows it: the shop rows fall among the agents.
FEIGE_PERFORMANCE = [
    ["客服昵称", "已接待人数", "询单人数", "支付人数", "询单转化率", "客服询单支付额",
     "退款后销售额", "全天首响时长", "全天平响时长", "全天3分钟回复率", "全天满意率",
     "有效好评数", "有效差评数"],
    ["店铺汇总值", 300, 120, 36, "30.00%", "7200.00", "6900.00", "15秒", "32秒", "95.00%",
     "97.50%", 81, 3],
    ["小林", 150, 60, 20, "33.33%", "4000.00", "3800.00", "12秒", "28秒", "97.33%", "98.00%", 45,
     1],
    ["店铺平均值", 100, 40, 12, "30.00%", "2400.00", "2300.00", "15秒", "32秒", "95.00%",
     "97.50%", 27, 1],
    ["小雨", 90, 35, 10, "28.57%", "2200.00", "2200.00", "18秒", "36秒", "93.33%", "96.00%", 24,
     1],
    ["阿杰", 60, 25, 6, "24.00%", "1000.00", "900.00", "1分02秒", "40秒", "91.67%", "97.00%", 12,
     1],
]  # fmt: skip

KUAISHOU = [
    ["客服考核数据（2026-10-01 至 2026-10-31）"],
    ["客服昵称", "三分钟回复率（人维度）", "三分钟回复率（会话）", "不服务率", "咨询人数",
     "人工会话量", "人工平均回复时长", "好评率（人维度）", "差评率（人维度）",
     "IM不满意率（人维度）", "询单人数", "支付人数", "询单转化率", "客服销售额"],
    ["小美", "92.50%", "90.10%", "1.25%", 400, 520, "0小时0分38秒", "96.00%", "1.50%", "2.00%",
     180, 63, "35.00%", "15,750.00"],
    ["阿杰", "85.00%", "80.00%", "5.00%", 200, 260, "0小时1分5秒", "90.00%", "4.00%", "6.00%", 90,
     27, "30.00%", "6,480.00"],
    ["小林", "70.00%", "65.00%", "10.00%", 50, 55, "7小时41分52秒", "80.00%", "0.00%", "10.00%",
     20, 4, "20.00%", "960.00"],
]  # fmt: skip


def write_csv(name: str, rows: list[list[str]], encoding: str) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    (HERE / name).write_bytes(buf.getvalue().encode(encoding))


def write_xlsx(name: str, rows: list[list], title: str | None = None) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    if title:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(rows[0]))
    for row in rows:
        ws.append(row)
    wb.save(HERE / name)


def write_pdd(name: str) -> None:
    """An old BIFF .xls workbook, saved under a .xlsx name as the 拼多多 back end does."""
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("客服数据")
    ws.write_merge(0, 0, 0, len(PDD_HEADERS) - 1, "客服数据（2026-10-01 至 2026-10-31）")
    for label, first, last in PDD_GROUPS:
        ws.write_merge(1, 1, first, last, label)
    for j, header in enumerate(PDD_HEADERS):
        ws.write(2, j, header)
    for i, row in enumerate(PDD_ROWS, start=3):
        for j, value in enumerate(row):
            ws.write(i, j, value)
    wb.save(str(HERE / name))


def main() -> None:
    write_csv("taobao_performance.csv", TAOBAO_PERFORMANCE, "gb18030")
    write_csv("taobao_daily.csv", TAOBAO_DAILY, "gb18030")
    write_pdd("pdd_service.xlsx")
    write_xlsx("jd_service.xlsx", JD_SERVICE)
    write_xlsx("jd_sales.xlsx", JD_SALES)
    write_xlsx("jd_reviews.xlsx", JD_REVIEWS)
    write_xlsx("feige_performance.xlsx", FEIGE_PERFORMANCE)
    write_xlsx("kuaishou_service.xlsx", KUAISHOU[1:], title=KUAISHOU[0][0])


if __name__ == "__main__":
    main()
