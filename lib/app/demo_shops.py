"""The demo's shops: a 天猫 shop and a 拼多多 shop, with agents who work both.

The 天猫 shop (星辰旗舰店) is the demo's helpdesk, its 千牛 daily report, and a 客服绩效 period
report for October whose closing rows carry the platform's peer figures (同行同层优秀/均值).
The 拼多多 shop (星辰拼多多店) sends a monthly 客服数据 report per agent, for four agents of the
team under their own sub-accounts (`晓彤-pdd` …), which the demo links to the people.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lib.auth.access import Viewer
from lib.core import shops
from lib.ingest import accounts
from lib.ingest.pipeline import Scope

TMALL = ("taobao", "星辰旗舰店")
PDD = ("pdd", "星辰拼多多店")
PDD_AGENTS = ("晓彤", "子轩", "梓涵", "婉清")
PDD_MONTHS = ("2026-06", "2026-07", "2026-08", "2026-09", "2026-10")
PERIOD_MONTH = "2026-10"


def pdd_account(name: str) -> str:
    return f"{name}-pdd"


def scope_for(label: str) -> Scope | None:
    """Where a demo file's rows belong: its label is the preset, with the month after a colon
    for monthly reports."""
    preset, _, month = label.partition(":")
    if preset in ("demo_tickets", "demo_csat", "demo_orders"):
        return Scope(platform=TMALL[0], shop=TMALL[1])
    if preset == "qianniu_agent_daily":
        return Scope(platform=TMALL[0])  # the shop is the sub-accounts' prefix
    if preset == "taobao_performance":
        return Scope(platform=TMALL[0], period=shops.month_span(PERIOD_MONTH))
    if preset == "pdd_service":
        return Scope(platform=PDD[0], period=shops.month_span(month))
    return None


def pdd_reports(out_dir: Path, skills: dict[str, float], seed: int) -> dict[str, Path]:
    """One 拼多多 客服数据 file per month, laid out as the back end writes it (a title row, group
    headings, then the headers), by label "pdd_service:<month>"."""
    rng = np.random.default_rng(
        seed + 101
    )  # its own stream: the other demo files stay as they were
    out = {}
    for month in PDD_MONTHS:
        first, last = shops.month_span(month)
        rows = []
        for name in PDD_AGENTS:
            skill = skills[name]
            consult = int(rng.integers(520, 900))
            people = int(consult * rng.uniform(0.86, 0.95))
            inquiries = int(people * rng.uniform(0.35, 0.5))
            paid = int(inquiries * (0.18 + 0.25 * skill) * rng.uniform(0.9, 1.1))
            sales = round(paid * rng.uniform(45, 80), 2)
            rows.append({
                "店铺名": PDD[1], "客服账号": pdd_account(name), "咨询人数": consult,
                "询单人数": inquiries, "最终成团人数": paid, "询单转化率": f"{paid / inquiries:.2%}",
                "客服销售额": sales, "去退销售额": round(sales * rng.uniform(0.9, 0.98), 2),
                "3分钟人工回复率(8-23点)": f"{min(0.72 + 0.25 * skill + rng.normal(0, 0.02), 1):.2%}",
                "30秒应答率(8-23点)": f"{min(0.45 + 0.4 * skill + rng.normal(0, 0.03), 1):.2%}",
                "平均人工响应时长": round(float(40 - 25 * skill + rng.normal(0, 2)), 1),
                "人工接待人数": people, "3分钟未回复人数": int(people * (0.2 - 0.15 * skill)),
                "客服服务分": round(float(4.2 + 0.7 * skill + rng.normal(0, 0.05)), 2),
            })  # fmt: skip
        frame = pd.DataFrame(rows)
        groups = ["基础数据"] * 2 + ["询单转化"] * 6 + ["服务数据"] * 6
        path = out_dir / f"拼多多客服数据_{month}.csv"
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            fh.write(f"客服数据 {first:%Y-%m-%d}~{last:%Y-%m-%d}\n")
            fh.write(",".join(groups) + "\n")
            frame.to_csv(fh, index=False)
        out[f"pdd_service:{month}"] = path
    return out


def taobao_period_report(tickets: pd.DataFrame, orders: pd.DataFrame, out_dir: Path) -> Path:
    """The 天猫 shop's 客服绩效 for October from its chat tickets, with the summary rows the
    back end adds, the platform's peer figures among them."""
    first, last = shops.month_span(PERIOD_MONTH)
    chat = tickets[(tickets["Channel"] == "chat")
                   & (tickets["Created At"].dt.date.between(first, last))].copy()  # fmt: skip
    chat["fr"] = (chat["First Response At"] - chat["Created At"]).dt.total_seconds()
    chat["inq"] = chat["Category"] == "售前咨询"
    chat["sat"] = chat["CSAT"] >= 4
    chat["rated"] = chat["CSAT"].notna()
    g = chat.groupby("Agent")
    paid = orders.merge(chat[["Ticket ID"]], on="Ticket ID").groupby("Agent")
    report = pd.DataFrame({
        "询单人数": g["inq"].sum(),
        "询单最终付款人数": paid["Customer"].nunique(),
        "首次响应时长（秒)": g["fr"].mean().round(1),
        "平均响应时长（秒)": (g["fr"].mean() * 1.6).round(1),
        "客户满意率": g["sat"].sum() / g["rated"].sum().replace(0, np.nan),
        "旺旺回复率": g["fr"].count() / g.size(),
        "询单最终付款金额": paid["Amount"].sum().round(2),
        "成功退款金额": paid["Refund Amount"].sum().round(2),
    }).fillna({"询单最终付款人数": 0, "询单最终付款金额": 0.0, "成功退款金额": 0.0})  # fmt: skip
    report["询单最终付款人数"] = report[["询单最终付款人数", "询单人数"]].min(axis=1).astype(int)
    report["询单最终付款转化率"] = report["询单最终付款人数"] / report["询单人数"].replace(
        0, np.nan
    )
    report = report.reset_index().rename(columns={"Agent": "旺旺昵称"})
    report["旺旺昵称"] = f"{TMALL[1]}:" + report["旺旺昵称"]
    team = report.mean(numeric_only=True)
    # The platform's figures for shops of the same tier: a little ahead of this team on
    # speed, a little behind on satisfaction, as a real comparison tends to look.
    peers = {
        "同行同层优秀": {"首次响应时长（秒)": team["首次响应时长（秒)"] * 0.55,
                   "平均响应时长（秒)": team["平均响应时长（秒)"] * 0.6, "客户满意率": 0.97,
                   "旺旺回复率": 0.995, "询单最终付款转化率": min(team["询单最终付款转化率"] * 1.3, 1)},
        "同行同层均值": {"首次响应时长（秒)": team["首次响应时长（秒)"] * 0.9,
                   "平均响应时长（秒)": team["平均响应时长（秒)"] * 0.95, "客户满意率": 0.86,
                   "旺旺回复率": 0.96, "询单最终付款转化率": team["询单最终付款转化率"] * 0.95},
    }  # fmt: skip
    summary = [
        {"旺旺昵称": "汇总值", "询单人数": report["询单人数"].sum(),
         "询单最终付款人数": report["询单最终付款人数"].sum(),
         "询单最终付款金额": round(report["询单最终付款金额"].sum(), 2)},
        {"旺旺昵称": "平均值", **team.round(4).to_dict()},
        {"旺旺昵称": "全店汇总值", "询单人数": report["询单人数"].sum(),
         "询单最终付款人数": report["询单最终付款人数"].sum(),
         "询单最终付款金额": round(report["询单最终付款金额"].sum(), 2)},
        {"旺旺昵称": "全店平均值", **team.round(4).to_dict()},
        *({"旺旺昵称": label, **values} for label, values in peers.items()),
    ]  # fmt: skip
    body = pd.concat([report, pd.DataFrame(summary)], ignore_index=True)
    for col in ("客户满意率", "旺旺回复率", "询单最终付款转化率"):
        body[col] = body[col].map(lambda r: "--" if pd.isna(r) else f"{r:.2%}")
    cols = ["旺旺昵称", "询单人数", "询单最终付款人数", "询单最终付款转化率", "首次响应时长（秒)",
            "平均响应时长（秒)", "客户满意率", "旺旺回复率", "询单最终付款金额", "成功退款金额"]  # fmt: skip
    path = out_dir / f"客服绩效_{PERIOD_MONTH}.csv"
    with open(path, "w", encoding="gb18030", newline="") as fh:
        fh.write(f"客服绩效（{first:%Y-%m-%d} 至 {last:%Y-%m-%d}）\n")
        body[cols].to_csv(fh, index=False, float_format="%.2f")
    return path


def link_accounts(con) -> None:
    """Link the 拼多多 sub-accounts to the people, as a manager would on the upload page."""
    demo = Viewer("demo", "admin")
    for name in PDD_AGENTS:
        accounts.link(con, demo, PDD[0], PDD[1], pdd_account(name), name)
