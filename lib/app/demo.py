"""Demo data: a reproducible, realistic customer-service team to explore the app with.

`generate` writes export files as real tools would produce them — a helpdesk ticket CSV, a
CSAT survey export, orders, QA reviews, 360° peer reviews, a roster, and a 千牛-style
per-agent daily report in GB18030 with a title row and a 合计 line — and `load` ingests them
through the same path as any upload, flagged as demo data so they can be cleared in one go.

Two shops: the helpdesk and the 千牛 report are a 天猫 shop's, with its October 客服绩效 and the
platform's peer figures; four agents also serve a 拼多多 shop under their own sub-accounts
(see `lib.app.demo_shops`).

The team: 30 agents in three teams over six months (2026-05-18 to 2026-11-15) with strong
and weak agents, 阿杰 whose first response slows sharply from 2026-10-20, 小王 hired on
2026-07-01 who improves month by month, a 双11 (Nov 11) peak, and three QA reviewers of
whom 王芳 scores leniently. The same seed always gives the same files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lib.app import demo_shops, intake
from lib.auth import access, audit
from lib.auth.access import Viewer
from lib.coaching import notes, plans
from lib.core import paths, store
from lib.core.tables import TABLES
from lib.ingest.mapping import load as load_mapping
from lib.monitoring import alerts
from lib.quality import reviews, sampling

START = dt.date(2026, 5, 18)
END = dt.date(2026, 11, 15)
DEGRADE_AGENT, DEGRADE_FROM = "阿杰", dt.date(2026, 10, 20)
NEW_HIRE, NEW_HIRE_FROM = "小王", dt.date(2026, 7, 1)
LENIENT_REVIEWER = "王芳"
REVIEWERS = ("李娜", LENIENT_REVIEWER, "陈静")
TEAMS = {
    "售前组": ["小美", "晓彤", "子轩", "梓涵", "浩然", "欣怡", "思远", "雨桐", "宇航", "佳琪"],
    "售后组": ["阿杰", "俊杰", "诗涵", "博文", "梦瑶", "天佑", "可馨", "明轩", "雅婷", "志强"],
    "在线组": ["婉清", "嘉怡", "文博", "若曦", "晨阳", "乐乐", "安琪", "小林", "小雨", NEW_HIRE],
}
SUPERVISORS = {"售前组": "周主管", "售后组": "吴主管", "在线组": "郑主管"}
STRONG = {"小美", "诗涵", "若曦", "子轩"}
WEAK = {"宇航", "志强", "乐乐"}
CHANNELS = ["chat", "email", "phone", "social"]
CATEGORIES = {
    "售前组": ["售前咨询", "售前咨询", "产品", "物流"],
    "售后组": ["退款", "物流", "产品", "退换货"],
}
CRITERIA = [  # criterion, max score, critical
    ("问候与结束语 greeting", 5, False),
    ("服务态度 attitude", 5, False),
    ("产品准确性 accuracy", 5, False),
    ("问题解决 solved", 5, False),
    ("共情 empathy", 5, False),
    ("合规/禁忌语 compliance", 1, True),
]
POSITIVE_COMMENTS = [
    "回复很快，态度很好", "客服很耐心，问题解决了", "非常专业，谢谢", "Quick and friendly, thanks!",
    "Solved my issue in one go", "服务热情，推荐", "Very helpful agent",
]  # fmt: skip
NEGATIVE_COMMENTS = [
    "等了很久才回复", "态度不好，不耐烦", "问题没有解决", "Waited ages for a reply",
    "Agent was rude", "退款太慢了", "Not helpful at all, still broken",
]  # fmt: skip
NEUTRAL_COMMENTS = ["还可以", "一般般", "OK", "Fine I guess"]


@dataclass
class Agent:
    name: str
    team: str
    skill: float  # 0 weak … 1 strong
    hire: dt.date


def roster(rng: np.random.Generator) -> list[Agent]:
    agents = []
    for team, names in TEAMS.items():
        for name in names:
            skill = 0.85 if name in STRONG else 0.25 if name in WEAK else rng.uniform(0.45, 0.75)
            hire = (
                NEW_HIRE_FROM
                if name == NEW_HIRE
                else START - dt.timedelta(days=int(rng.integers(120, 1500)))
            )
            agents.append(Agent(name, team, float(skill), hire))
    return agents


def _skill_on(agent: Agent, day: dt.date) -> float:
    if agent.name == NEW_HIRE:  # from weak to solid over about four months
        months = (day - NEW_HIRE_FROM).days / 30.0
        return min(0.2 + 0.13 * months, 0.75)
    return agent.skill


def _volume_factor(day: dt.date) -> float:
    f = 0.8 if day.weekday() >= 5 else 1.0
    if dt.date(2026, 11, 1) <= day <= dt.date(2026, 11, 12):
        f *= 2.2
    if day == dt.date(2026, 11, 11):
        f *= 2.0
    return f


def generate(out_dir: Path, seed: int = 7) -> dict[str, Path]:
    """Write the demo export files into out_dir; return {mapping preset: file path}."""
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    agents = roster(rng)
    days = [START + dt.timedelta(days=i) for i in range((END - START).days + 1)]
    # One row per (agent, day) worked, then one row per ticket: all vectorised.
    pairs = [
        (ai, di) for di, day in enumerate(days) for ai, a in enumerate(agents) if day >= a.hire
    ]
    p_agent = np.array([p[0] for p in pairs])
    p_day = np.array([p[1] for p in pairs])
    p_peak = np.array([_volume_factor(days[d]) for d in p_day])
    p_skill = np.array([_skill_on(agents[a], days[d]) for a, d in pairs])
    p_slow = 1.0 + (p_peak - 1) * 0.6
    degrade = np.array(
        [agents[a].name == DEGRADE_AGENT and days[d] >= DEGRADE_FROM for a, d in pairs]
    )
    p_slow = np.where(degrade, p_slow * 3.5, p_slow)
    counts = rng.poisson(11 * p_peak)
    n = int(counts.sum())
    agent_i = np.repeat(p_agent, counts)
    day_i = np.repeat(p_day, counts)
    skill = np.repeat(p_skill, counts)
    slow = np.repeat(p_slow, counts)
    peak = np.repeat(p_peak, counts)
    names = np.array([a.name for a in agents])
    teams = np.array([a.team for a in agents])
    day_ts = pd.to_datetime(np.array(days, dtype="datetime64[D]"))[day_i]
    created = day_ts + pd.to_timedelta(rng.integers(9 * 3600, 23 * 3600, n), unit="s")
    channel = rng.choice(CHANNELS, n, p=[0.55, 0.2, 0.15, 0.1])
    base = np.select(
        [channel == "chat", channel == "email", channel == "phone"], [25, 5400, 20], 600
    )
    fr = base * np.exp(rng.normal(0, 0.6, n)) * (1.6 - skill) * slow
    unreplied = rng.random(n) < 0.01 + 0.03 * (1 - skill)
    res_base = np.select([channel == "chat", channel == "email"], [900, 20 * 3600], 4 * 3600)
    res = fr + res_base * np.exp(rng.normal(0, 0.8, n)) * (1.5 - skill)
    recent = np.array([(END - days[d]).days < 3 for d in range(len(days))])[day_i]
    open_ = unreplied | (rng.random(n) < np.where(recent, 0.08, 0.015))
    complaint = rng.random(n) < 0.015 * (1.8 - skill) * np.where(peak > 1.5, 1.5, 1.0)
    rated = ~open_ & (rng.random(n) < 0.35)
    p_sat = np.clip(0.55 + 0.45 * skill - 0.15 * (fr > base * 3) - 0.4 * complaint, 0.05, 0.98)
    sat = rng.random(n) < p_sat
    csat = np.where(sat, rng.choice([4, 5], n, p=[0.35, 0.65]), rng.choice([1, 2, 3], n))
    team = teams[agent_i]
    cat_all = ["售前咨询", "退款", "物流", "产品", "账户"]
    category = np.empty(n, dtype=object)
    for t in TEAMS:
        m = team == t
        category[m] = rng.choice(CATEGORIES.get(t, cat_all), int(m.sum()))
    customers = np.char.add("C", np.char.zfill(rng.integers(1, 25000, n).astype(str), 5))
    ids = np.char.add("T", np.arange(100001, 100001 + n).astype(str))
    kind = np.where(csat >= 4, 0, np.where(csat <= 2, 1, 2))
    pools = (POSITIVE_COMMENTS, NEGATIVE_COMMENTS, NEUTRAL_COMMENTS)
    pick = rng.random(n)
    say = rated & (rng.random(n) < 0.45)
    comments = [pools[k][int(v * len(pools[k]))] if w else "" for k, v, w in zip(kind, pick, say)]
    tickets_df = pd.DataFrame({
        "Ticket ID": ids,
        "Agent": names[agent_i],
        "Created At": created,
        "First Response At": (created + pd.to_timedelta(fr, unit="s")).where(~unreplied),
        "Resolved At": (created + pd.to_timedelta(res, unit="s")).where(~open_),
        "Channel": channel,
        "Priority": rng.choice(["normal", "high", "urgent", "low"], n, p=[0.68, 0.2, 0.05, 0.07]),
        "Status": np.where(open_, "open", "solved"),
        "Team": team,
        "Customer": customers,
        "Category": category,
        "Customer Contacts": 1 + rng.poisson(0.5 * (1.2 - skill)),
        "Agent Replies": 1 + rng.poisson(2 + (channel == "chat") * 3),
        "Reopens": (rng.random(n) < 0.08 * (1.4 - skill)).astype(int),
        "Transferred": np.where(rng.random(n) < 0.05 + 0.05 * (1 - skill), "yes", "no"),
        "Escalated": np.where(rng.random(n) < 0.06 * (1.5 - skill), "yes", "no"),
        "Complaint": np.where(complaint, "yes", "no"),
        "Handle Time": (60 + rng.gamma(2.0, 240, n) * (1.4 - skill)).astype(int),
        "CSAT": pd.Series(csat).astype("Int64").where(rated),
        "Comment": comments,
    }).sort_values(["Created At", "Ticket ID"], ignore_index=True)  # fmt: skip
    # Pre-sales chats convert into orders, more often for skilled agents.
    buys = (category == "售前咨询") & np.isin(channel, ["chat", "social"])
    buys &= rng.random(n) < 0.25 + 0.4 * skill
    k = int(buys.sum())
    amount = np.round(np.exp(rng.normal(5.1, 0.6, k)), 2)
    refunded = rng.random(k) < 0.07 + 0.05 * (1 - skill[buys])
    closed = ~refunded & (rng.random(k) < 0.04)
    c = created[buys]
    orders_df = pd.DataFrame({
        "Order ID": np.char.add("E", np.arange(500001, 500001 + k).astype(str)),
        "Agent": names[agent_i][buys],
        "Created At": c + pd.to_timedelta(rng.exponential(10, k), unit="m"),
        "Amount": amount,
        "Paid At": (c + pd.to_timedelta(rng.exponential(30, k), unit="m")).where(~closed),
        "Status": np.where(refunded, "refunded", np.where(closed, "closed", "paid")),
        "Refund Amount": np.where(refunded, amount, 0.0),
        "Customer": customers[buys],
        "Ticket ID": ids[buys],
    })  # fmt: skip
    files = {}
    files["demo_tickets"] = _write_csv(tickets_df, out_dir / "helpdesk_tickets.csv")
    csat = tickets_df[tickets_df["CSAT"].notna()].copy()
    responded = csat["Resolved At"] + pd.to_timedelta(rng.integers(300, 86400, len(csat)), unit="s")
    csat_df = pd.DataFrame({
        "Ticket ID": csat["Ticket ID"], "Rating": csat["CSAT"].astype(int), "Agent": csat["Agent"],
        "Responded At": responded, "Comment": csat["Comment"],
    })  # fmt: skip
    files["demo_csat"] = _write_csv(csat_df, out_dir / "csat_survey.csv")
    files["demo_orders"] = _write_csv(orders_df, out_dir / "orders.csv")
    files["qianniu_agent_daily"] = _write_qianniu(
        tickets_df, orders_df, out_dir / "千牛客服绩效.csv"
    )
    files["demo_qa_reviews"] = _write_csv(
        _qa_reviews(rng, agents, tickets_df), out_dir / "qa_reviews.csv"
    )
    files["demo_peer_reviews"] = _write_csv(
        _peer_reviews(rng, agents), out_dir / "peer_reviews.csv"
    )
    files["transcripts"] = _write_csv(
        _transcripts(rng, tickets_df), out_dir / "chat_transcripts.csv"
    )
    files["taobao_performance"] = demo_shops.taobao_period_report(tickets_df, orders_df, out_dir)
    files.update(demo_shops.pdd_reports(out_dir, {a.name: a.skill for a in agents}, seed))
    files["demo_roster"] = _write_csv(
        pd.DataFrame(
            {
                "Agent": [a.name for a in agents],
                "Display Name": [a.name for a in agents],
                "Team": [a.team for a in agents],
                "Supervisor": [SUPERVISORS[a.team] for a in agents],
                "Hire Date": [a.hire.isoformat() for a in agents],
                "Shift": ["早班" if i % 2 else "晚班" for i in range(len(agents))],
                "Active": ["yes"] * len(agents),
            }
        ),
        out_dir / "roster.csv",
    )
    return files


BLUNT_AGENT = "志强"  # in the demo transcripts, the agent who sometimes answers bluntly
OPENERS = [
    "在吗？我的快递到哪了",
    "这个能退款吗",
    "尺码偏大还是偏小？",
    "下单后多久发货",
    "赠品怎么没有收到",
]
GOOD_REPLIES = ["您好，我马上帮您查一下", "亲，已经帮您登记了，请放心", "好的，稍等我确认一下订单信息",
                "抱歉让您久等了，已经为您催促物流"]  # fmt: skip
BLUNT_REPLIES = ["这个不归我管，你找别人吧", "我也没办法", "你自己看详情页"]


def _transcripts(rng, tickets_df: pd.DataFrame) -> pd.DataFrame:
    """Chat transcripts for one answered chat ticket in ten: a customer question and two
    replies; the blunt agent uses a forbidden phrase in one reply in five, the others rarely."""
    chats = tickets_df[(tickets_df["Channel"] == "chat") & tickets_df["First Response At"].notna()]
    chats = chats.iloc[::10]
    rows = []
    for tid, agent, created in zip(chats["Ticket ID"], chats["Agent"], chats["Created At"]):
        rows.append((tid, 1, "买家", OPENERS[rng.integers(len(OPENERS))], created, agent))
        for seq in (2, 3):
            blunt = rng.random() < (0.2 if agent == BLUNT_AGENT else 0.003)
            text = (BLUNT_REPLIES if blunt else GOOD_REPLIES)[rng.integers(3 if blunt else 4)]
            at = created + pd.Timedelta(seconds=int(30 * seq + rng.integers(0, 60)))
            rows.append((tid, seq, "客服", text, at, agent))
    return pd.DataFrame(rows, columns=["工单号", "序号", "发送方", "内容", "发送时间", "客服"])


def _write_csv(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M:%S")
    return path


def _fmt_duration_zh(seconds: float) -> str:
    if pd.isna(seconds):
        return "--"
    seconds = int(round(seconds))
    return f"{seconds // 60}分{seconds % 60}秒" if seconds >= 60 else f"{seconds}秒"


def _write_qianniu(tickets: pd.DataFrame, orders: pd.DataFrame, path: Path) -> Path:
    """A 千牛-style daily report from the chat tickets: title row, Chinese headers, 合计, GB18030."""
    chat = tickets[tickets["Channel"] == "chat"].copy()
    chat["日期"] = chat["Created At"].dt.date
    chat["fr"] = (chat["First Response At"] - chat["Created At"]).dt.total_seconds()
    chat["inq"] = chat["Category"] == "售前咨询"
    chat["fast"] = chat["fr"] <= 180
    chat["sat"] = chat["CSAT"] >= 4
    chat["rated"] = chat["CSAT"].notna()
    g = chat.groupby(["Agent", "日期"])
    daily = pd.DataFrame({
        "接待人数": g.size(),
        "询单人数": g["inq"].sum(),
        "平均响应时长(秒)": g["fr"].mean().round(1),
        "首次响应时长": g["fr"].median().map(_fmt_duration_zh),
        "旺旺回复率": (g["fr"].count() / g.size()).map(lambda r: f"{r:.2%}"),
        "3分钟回复率": (g["fast"].sum() / g.size()).map(lambda r: f"{r:.2%}"),
        "客户满意率": (g["sat"].sum() / g["rated"].sum().replace(0, np.nan)).map(
            lambda r: "--" if pd.isna(r) else f"{r:.2%}"
        ),
    })  # fmt: skip
    chat_orders = orders.merge(chat[["Ticket ID", "日期"]], on="Ticket ID")
    og = chat_orders.groupby(["Agent", "日期"])
    daily["最终付款人数"] = og["Customer"].nunique()
    daily["客服销售额"] = og["Amount"].sum().round(2)
    daily["退款金额"] = og["Refund Amount"].sum().round(2)
    daily = daily.fillna({"最终付款人数": 0, "客服销售额": 0.0, "退款金额": 0.0})
    daily["最终付款人数"] = daily["最终付款人数"].astype(int)
    daily["客单价"] = (daily["客服销售额"] / daily["最终付款人数"].replace(0, np.nan)).round(2)
    daily["询单→最终付款成功率"] = (
        daily["最终付款人数"] / daily["询单人数"].replace(0, np.nan)
    ).map(lambda r: "--" if pd.isna(r) else f"{r:.2%}")
    daily = daily.reset_index().rename(columns={"Agent": "客服昵称"})
    daily["客服昵称"] = "星辰旗舰店:" + daily["客服昵称"]
    daily["日期"] = daily["日期"].map(lambda d: d.strftime("%Y/%m/%d"))
    cols = ["客服昵称", "日期", "接待人数", "询单人数", "最终付款人数", "询单→最终付款成功率",
            "客服销售额", "客单价", "平均响应时长(秒)", "首次响应时长", "旺旺回复率",
            "3分钟回复率", "客户满意率", "退款金额"]  # fmt: skip
    daily = daily[cols]
    total = {c: "" for c in cols}
    total.update({"客服昵称": "合计", "接待人数": int(daily["接待人数"].sum()),
                  "客服销售额": round(float(daily["客服销售额"].sum()), 2)})  # fmt: skip
    body = pd.concat([daily, pd.DataFrame([total])], ignore_index=True)
    title = f"客服绩效报表（{START:%Y-%m-%d} 至 {END:%Y-%m-%d}）\n"
    with open(path, "w", encoding="gb18030", newline="") as fh:
        fh.write(title)
        body.to_csv(fh, index=False)
    return path


def _qa_reviews(rng, agents: list[Agent], tickets: pd.DataFrame) -> pd.DataFrame:
    rows = []
    rid = 0
    by_agent = {name: grp for name, grp in tickets.groupby("Agent")}
    bias = {"李娜": 0.0, LENIENT_REVIEWER: 0.9, "陈静": -0.1}
    months = pd.period_range(START, END, freq="M")
    for month in months:
        calib = 0
        for k, a in enumerate(agents):
            pool = by_agent.get(a.name)
            if pool is None:
                continue
            pool = pool[
                (pool["Created At"].dt.to_period("M") == month) & (pool["Status"] == "solved")
            ]
            if pool.empty:
                continue
            picks = pool.sample(min(6, len(pool)), random_state=int(rng.integers(1 << 30)))
            for j, (_, t) in enumerate(picks.iterrows()):
                reviewers = [REVIEWERS[(j + k) % 3]]
                if calib < 3 and j == 0:  # three calibration tickets a month, scored by all
                    calib, reviewers = calib + 1, list(REVIEWERS)
                for reviewer in reviewers:
                    rid += 1
                    skill = _skill_on(a, t["Created At"].date())
                    reviewed = t["Resolved At"] + pd.Timedelta(days=float(rng.uniform(1, 6)))
                    for crit, max_score, critical in CRITERIA:
                        if critical:
                            failed = rng.random() < 0.04 * (1.2 - skill)
                            score = 0 if failed else 1
                        else:
                            failed = False
                            raw = 1.5 + 2.6 * skill + bias[reviewer] + rng.normal(0, 0.5)
                            score = int(np.clip(round(raw), 1, max_score))
                        rows.append({
                            "Review ID": f"QA{rid:05d}", "Agent": a.name, "Reviewer": reviewer,
                            "Criterion": crit, "Score": score, "Max Score": max_score,
                            "Ticket ID": t["Ticket ID"], "Reviewed At": reviewed,
                            "Critical Failed": "yes" if failed else "no", "Comment": "",
                        })  # fmt: skip
    return pd.DataFrame(rows)


def _peer_reviews(rng, agents: list[Agent]) -> pd.DataFrame:
    rows = []
    for month in pd.period_range(START, END, freq="M"):
        for a in agents:
            if month.end_time.date() < a.hire:
                continue
            mates = [
                b
                for b in agents
                if b.team == a.team and b.name != a.name and b.hire <= month.end_time.date()
            ]
            for b in rng.choice(len(mates), size=min(3, len(mates)), replace=False):
                reviewer = mates[b]
                score = float(
                    np.clip(
                        round(
                            2.5 + 2.2 * _skill_on(a, month.end_time.date()) + rng.normal(0, 0.4), 1
                        ),
                        1,
                        5,
                    )
                )
                rows.append({"Period": str(month), "Reviewer": reviewer.name, "Agent": a.name,
                             "Score": score, "Comment": ""})  # fmt: skip
    return pd.DataFrame(rows)


def load(con, out_dir: Path | None = None, seed: int = 7, progress=None,
         viewer: access.Viewer = access.SYSTEM) -> list:  # fmt: skip
    """Generate the demo files and ingest them as demo data (by `viewer`, who must be allowed
    to upload; the uploads are logged as the demo's); return the ingest results."""
    access.require(viewer, "upload")
    as_demo = access.Viewer("demo", viewer.role)
    out_dir = out_dir or paths.ROOT / "data" / "demo"
    files = generate(out_dir, seed)
    uploads = [intake.Upload(path, load_mapping(label.partition(":")[0]), is_demo=True,
                             scope=demo_shops.scope_for(label)) for label, path in files.items()]  # fmt: skip
    results = intake.store_uploads(con, as_demo, uploads, progress=progress)
    demo_shops.link_accounts(con)
    _coaching(con)
    alerts.refresh(con, viewer)  # the linked accounts and coaching data changed it again
    with store.WRITE_LOCK:
        con.cursor().execute("DELETE FROM schema_meta WHERE key = 'demo_cleared'")
    return results


def _coaching(con) -> None:
    """Notes and plans a trainer would have written: 小王's onboarding plan (finished, so the
    app judges it) and the plan opened for 阿杰 after his first response slowed down; a review
    queue for the demo trainer and 阿杰's dispute of his latest QA review."""

    coach = Viewer("demo-trainer", "trainer")
    at = lambda d, h=10: dt.datetime.combine(d, dt.time(h))  # noqa: E731
    notes.add(con, coach, NEW_HIRE, "agreement", "入职第一个月：先熟悉退换货规则，每天复盘 3 个低分工单。",
              period="2026-07", kpi="csat", now=at(dt.date(2026, 7, 3)), is_demo=True)  # fmt: skip
    notes.add(con, coach, NEW_HIRE, "praise", "满意度比上月明显提高，继续保持！", period="2026-08",
              kpi="csat", now=at(dt.date(2026, 9, 2)), is_demo=True)  # fmt: skip
    notes.add(con, coach, "子轩", "knowledge", "整理了“尺码推荐”快捷短语，已共享给售前组。",
              period="2026-09", now=at(dt.date(2026, 9, 15)), is_demo=True)  # fmt: skip
    notes.add(con, coach, DEGRADE_AGENT, "concern", "最近首次响应明显变慢（约 3 倍），请说明原因，我们一起看看怎么改进。",
              period="2026-10", kpi="first_response_time", now=at(DEGRADE_FROM + dt.timedelta(days=3)),
              is_demo=True)  # fmt: skip
    plans.create(con, coach, NEW_HIRE, "新人成长：满意度与一次解决", {"csat": 0.85, "fcr_rate": 0.75},
                 dt.date(2026, 8, 1), dt.date(2026, 9, 30), mentor="若曦", owner="demo-trainer",
                 modules=["empathy_tone", "problem_solving", "mentoring"], now=at(dt.date(2026, 8, 1)),
                 is_demo=True)  # fmt: skip
    plans.create(con, coach, DEGRADE_AGENT, "恢复响应速度", {"first_response_time": 60},
                 DEGRADE_FROM + dt.timedelta(days=7), END + dt.timedelta(days=14), mentor="诗涵",
                 owner="demo-trainer", modules=["efficiency", "efficiency_shadow"],
                 now=at(DEGRADE_FROM + dt.timedelta(days=7)), is_demo=True)  # fmt: skip
    month = f"{END:%Y-%m}"
    sampling.build(con, coach, month, "targeted", 1, ["demo-trainer"], seed=1, now=at(END))
    review_id, reviewed = con.cursor().execute(
        "SELECT review_id, max(reviewed_at) FROM qa_reviews WHERE agent = ? "
        "GROUP BY review_id ORDER BY 2 DESC LIMIT 1", [DEGRADE_AGENT]).fetchone()  # fmt: skip
    reviews.open_dispute(con, Viewer("demo-ajie", "agent", DEGRADE_AGENT), review_id,
                         "这单客户一开始就要求退款，我按流程先核实订单，态度分打低了。",
                         now=reviewed + dt.timedelta(days=1))  # fmt: skip


def has_demo(con) -> bool:
    return bool(con.cursor().execute("SELECT count(*) FROM uploads WHERE is_demo").fetchone()[0])


def load_again(con, viewer) -> list:
    """Load the demo data again after it was cleared (managers and admins, who may upload);
    the user's own data stays as it is. Audited."""

    access.require(viewer, "upload")
    results = load(con)
    audit.record(audit.log_of(con), viewer.username, "demo.load", "demo data",
                 {"rows": sum(r.accepted for r in results)})  # fmt: skip
    return results


def was_cleared(con) -> bool:
    row = con.cursor().execute("SELECT 1 FROM schema_meta WHERE key = 'demo_cleared'").fetchone()
    return row is not None


def clear(con, viewer: access.Viewer) -> int:
    """Remove every row that demo uploads wrote, in one transaction; return rows removed.
    (The demo accounts go too: `users.remove_demo`, called beside this.)"""
    access.require(viewer, "upload")

    removed = 0
    with store.transaction(con) as cur:
        demo_ids = "SELECT upload_id FROM uploads WHERE is_demo"
        for name in TABLES:
            removed += cur.execute(
                f"DELETE FROM {store.quote_ident(name)} WHERE upload_id IN ({demo_ids})"
            ).fetchone()[0]
        cur.execute(f"DELETE FROM quarantine WHERE upload_id IN ({demo_ids})")
        demo_plans = "SELECT plan_id FROM plans WHERE is_demo"
        for table in ("plan_kpis", "plan_checkins"):
            cur.execute(f"DELETE FROM {table} WHERE plan_id IN ({demo_plans})")
        cur.execute("DELETE FROM plans WHERE is_demo")
        cur.execute(
            "DELETE FROM note_history WHERE note_id IN (SELECT note_id FROM notes WHERE is_demo)"
        )
        cur.execute("DELETE FROM notes WHERE is_demo")
        # Review work on demo tickets goes with them.
        gone = "NOT IN (SELECT review_id FROM qa_reviews)"
        cur.execute(f"DELETE FROM qa_disputes WHERE review_id {gone}")
        cur.execute(f"DELETE FROM qa_review_history WHERE review_id {gone}")
        cur.execute("DELETE FROM qa_queue WHERE ticket_id NOT IN (SELECT ticket_id FROM tickets)")
        # Alerts about people and teams the store no longer has go too, with their history.
        people = " UNION ".join(
            f"SELECT agent FROM {store.quote_ident(n)}" for n in TABLES if TABLES[n].has("agent")
        )
        cur.execute(
            f"""DELETE FROM alerts WHERE (agent IS NOT NULL AND agent NOT IN ({people}))
                OR (scope = 'team' AND subject NOT IN
                    (SELECT team FROM ({paths.sql_file("agent_teams")}) WHERE team IS NOT NULL))"""
        )
        for table in ("alert_events", "alert_deliveries"):
            cur.execute(
                f"DELETE FROM {table} WHERE alert_key NOT IN (SELECT alert_key FROM alerts)"
            )
        cur.execute("DELETE FROM uploads WHERE is_demo")
        cur.execute("DELETE FROM accounts WHERE linked_by = 'demo'")
        cur.execute("DELETE FROM benchmarks WHERE upload_id NOT IN (SELECT upload_id FROM uploads)")
        cur.execute("INSERT OR REPLACE INTO schema_meta VALUES ('demo_cleared', 'true')")
        store.bump_data_version(cur)
    audit.record(
        audit.log_of(con), viewer.username, "demo.clear", "demo data", {"rows_removed": removed}
    )
    return removed
