"""What the pages show, as tables: headline KPIs, leaderboard, trends, an agent's breakdown.

Pages call these and render the result; all shaping of numbers into rows, labels in the
chosen language and changes against the previous period happens here.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import NamedTuple

import pandas as pd

from lib.auth import access
from lib.coaching import plans
from lib.coaching.plans import overall
from lib.core import store
from lib.core.i18n import catalogue, message, t
from lib.core.periods import Period, parse
from lib.core.tables import TABLES
from lib.ingest.pipeline import WHOLE_ROW, upload_history
from lib.metrics import kpis as engine
from lib.metrics import scoring
from lib.metrics.kpis import DURATION_UNITS, Catalogue, format_value, load_catalogue, pooled_by
from lib.metrics.schemes import PRESET_SAVED_AT, unit_of
from lib.metrics.scoring import Scorecard, rank_changes
from lib.metrics.scoring import calendar_for as scoring_calendar
from lib.metrics.scoring import dimension_scores as scoring_dimension_scores
from lib.monitoring import alerts
from lib.present.overview import store_summary


def months_with_data(con) -> list[str]:
    """Months (YYYY-MM) that have tickets or daily reports, newest first."""
    sql = """SELECT DISTINCT strftime(d, '%Y-%m') AS m FROM (
               SELECT created_at AS d FROM tickets UNION ALL SELECT date FROM agent_daily
               UNION ALL SELECT created_at FROM orders)
             WHERE d IS NOT NULL ORDER BY m DESC"""
    rows = store.memo(con, "months_with_data", lambda: con.cursor().execute(sql).fetchall())
    return [r[0] for r in rows]


def teams(con) -> list[str]:
    frame = engine.agent_teams(con)
    return sorted(t for t in frame["team"].dropna().unique())


def kpi_names(lang: str, catalogue: Catalogue | None = None) -> dict[str, str]:
    """Every KPI's name in the language, by id: the one lookup pages label KPIs with."""
    catalogue = catalogue or load_catalogue()
    return {k: catalogue.get(k).label(lang) for k in catalogue.kpis}


def kpi_label(catalogue: Catalogue, kpi_id: str, lang: str) -> str:
    return catalogue.get(kpi_id).label(lang)


def dimension_label(catalogue: Catalogue, dim: str, lang: str) -> str:
    return catalogue.dimensions.get(dim, {}).get(lang, dim)


def gate_label(code: str, lang: str = "en") -> str:
    """A gate code from scoring ("cap:59", "zero") in words."""
    if not code:
        return ""
    if code.startswith("cap:"):
        return t("gate.cap", lang, limit=code.split(":", 1)[1])
    return t("gate.zero", lang)


def _better(kpi, now: float, before: float) -> bool | None:
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (now, before)):
        return None
    if now == before:
        return None
    return (now > before) == kpi.higher_is_better


def headline(con, viewer: access.Viewer, card: Scorecard, team: str | None, lang: str,
             catalogue=None) -> pd.DataFrame:  # fmt: skip
    """The team's value of each scheme KPI, now and in the previous period, with the change."""
    access.require(viewer, "team_views")
    catalogue = catalogue or load_catalogue()
    ids = card.scheme.kpi_ids
    prev = card.period.previous()
    calendar = scoring_calendar(card.scheme)

    def pooled(period: Period) -> dict:  # one team, or every team's numbers pooled
        frame = engine.compute(con, period.start, period.end, by="team", team=team, kpi_ids=ids,
                               catalogue=catalogue, service_hours=calendar,
                               shops=card.shops)  # fmt: skip
        return pool(frame, catalogue)

    now, before = pooled(card.period), pooled(prev)
    rows = []
    for kid in ids:
        kpi = catalogue.get(kid)
        v, b = now.get(kid), before.get(kid)
        rows.append({
            "kpi": kid, "label": kpi.label(lang), "value": v, "shown": format_value(kpi, v, lang),
            "previous": b, "previous_shown": format_value(kpi, b, lang), "better": _better(kpi, v, b),
            "change_shown": change_text(kpi, v, b, lang) or "", "higher_is_better": kpi.higher_is_better,
        })  # fmt: skip
    return pd.DataFrame(rows)


def change_text(kpi, now, before, lang: str = "en") -> str | None:
    """The change from the previous period in the KPI's own units: +1.2 pp, −3 s (−3 秒), +¥1,200.

    None when either period has no value, or when the change shows as zero (no arrow for it).
    """
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (now, before)):
        return None
    text = _signed_change(kpi, now - before, lang)
    return None if re.fullmatch(r"[+-]?¥?0(\.0)?( pp| \S+)?", text) else text


def _signed_change(kpi, diff: float, lang: str = "en") -> str:
    if kpi.kind == "rate" or kpi.unit == "share":
        return f"{diff * 100:+.1f} pp"
    if kpi.kind == "duration":
        s, _, h = DURATION_UNITS.get(lang, DURATION_UNITS["en"])
        if abs(diff) < 10:
            return f"{diff:+.1f} {s}"
        return f"{diff:+.0f} {s}" if abs(diff) < 600 else f"{diff / 3600:+.1f} {h}"
    if kpi.unit == "currency":
        return f"{'+' if diff >= 0 else '-'}¥{abs(diff):,.0f}"
    return f"{diff:+,.1f}" if kpi.unit != "count" else f"{diff:+,.0f}"


def pool(frame: pd.DataFrame, catalogue: Catalogue) -> dict:
    """Combine per-team results into one value per KPI (sums of numerators and samples)."""
    return {kid: pooled_by(part, catalogue.get(kid), None) for kid, part in frame.groupby("kpi")}


def grade_counts(card: Scorecard, lang: str) -> pd.DataFrame:
    grades = card.scheme.grades
    counts = card.agents["grade"].value_counts()
    return pd.DataFrame({"grade": [g.code for g in grades], "label": [g.label(lang) for g in grades],
                         "agents": [int(counts.get(g.code, 0)) for g in grades]})  # fmt: skip


def leaderboard(card: Scorecard, lang: str, previous: Scorecard | None = None) -> pd.DataFrame:
    """Rank, agent, team, score with its interval, grade, the rank range, and the move."""
    a = card.agents.copy()
    grade = {g.code: g.label(lang) for g in card.scheme.grades}
    out = pd.DataFrame({
        "rank": a["rank"], "agent": a["agent"], "team": a["team"].fillna("—"),
        "score": a["composite"].round(1), "low": a["composite_lo"].round(1),
        "high": a["composite_hi"].round(1), "grade": a["grade"].map(grade),
        "could_be": [f"{b}–{w}" if pd.notna(b) and b != w else ("" if pd.isna(b) else str(b))
                     for b, w in zip(a["rank_best"], a["rank_worst"])],
        "flags": [gate_label(g, lang) for g in a["gate"]],
    })  # fmt: skip
    if previous is not None:
        moves = rank_changes(previous.agents, card.agents).set_index("agent")["move"]
        out["move"] = out["agent"].map(moves).map(arrow)
    return out


def top_movers(board: pd.DataFrame, count: int = 3) -> tuple[list[str], list[str]]:
    """The agents who rose and fell most since the previous period, as "name ▲3"."""
    if "move" not in board:
        return [], []
    moves = board["move"].str.extract(r"([▲▼])(\d+)")
    moves = moves.assign(agent=board["agent"], n=pd.to_numeric(moves[1])).dropna(subset=["n"])
    up = moves[moves[0] == "▲"].nlargest(count, "n")
    down = moves[moves[0] == "▼"].nlargest(count, "n")
    return ([f"{a} ▲{int(n)}" for a, n in zip(up["agent"], up["n"])],
            [f"{a} ▼{int(n)}" for a, n in zip(down["agent"], down["n"])])  # fmt: skip


def arrow(move) -> str:
    """A rank move as ▲3 (up), ▼2 (down), – (same) or nothing (not ranked in one of the two)."""
    if move is None or pd.isna(move):
        return ""
    if move == 0:
        return "–"
    return f"▲{int(move)}" if move > 0 else f"▼{-int(move)}"


def trend(con, viewer: access.Viewer, kpi_id: str, end: Period, months: int = 6,
          team: str | None = None, grain: str = "week", agent: str | None = None,
          shops: list[str] | None = None) -> pd.DataFrame:  # fmt: skip
    """A KPI over the months up to `end`, per week (or day/month): team and, if given, agent.
    The team line is pooled, so an agent may compare with it; other agents' lines are not."""
    if agent:
        access.require_agent(viewer, agent)
    else:
        access.require(viewer, "own_data")
    start = end.start
    for _ in range(months - 1):
        start = parse(f"{start:%Y-%m}").previous().start
    frame = engine.compute(con, start, end.end, by="team", team=team, grain=grain,
                           kpi_ids=[kpi_id], shops=shops)  # fmt: skip
    if frame.empty:  # no data for this KPI in these months: an empty chart, not an error
        return pd.DataFrame({"bucket": [], "value": [], "series": []})
    part = frame[frame["kpi"] == kpi_id]
    rows = pooled_by(part, load_catalogue().get(kpi_id), "bucket").rename("value").reset_index()
    rows["series"] = "team"
    if agent:
        own = engine.compute(con, start, end.end, grain=grain, kpi_ids=[kpi_id], shops=shops)
        own = own[own["grp"] == agent][["bucket", "value"]].assign(series=agent)
        rows = pd.concat([rows, own], ignore_index=True)
    return rows.sort_values("bucket", ignore_index=True)


def kpis_with_data(card: Scorecard) -> list[str]:
    """The scheme's KPIs that have a value for someone in the card, in scheme order."""
    has = set(card.details.loc[card.details["status"] != "no data", "kpi"])
    return [k for k in card.scheme.kpi_ids if k in has]


def channels(con, viewer: access.Viewer, period: Period, team: str | None, kpi_ids: list[str],
             lang: str, catalogue=None, shops: list[str] | None = None) -> pd.DataFrame:  # fmt: skip
    """Ticket KPIs per channel (chat, email, phone, social…)."""
    access.require(viewer, "team_views")
    catalogue = catalogue or load_catalogue()
    frame = engine.compute(con, period.start, period.end, by="channel", team=team,
                           kpi_ids=kpi_ids, catalogue=catalogue, shops=shops)  # fmt: skip
    if frame.empty:
        return pd.DataFrame()
    frame["label"] = frame["kpi"].map(lambda k: kpi_label(catalogue, k, lang))
    frame["grp"] = [value_label("channel", c, lang) for c in frame["grp"]]
    frame["shown"] = [
        format_value(catalogue.get(k), v, lang) for k, v in zip(frame["kpi"], frame["value"])
    ]
    return frame[["grp", "kpi", "label", "value", "shown", "n"]].rename(columns={"grp": "channel"})


def _column_words(name: str, table: str, lang: str) -> str:

    names = []
    spec = TABLES[table]
    for part in name.split(" / "):
        if f"input.{part}" in catalogue(lang):
            names.append(t(f"input.{part}", lang))
        elif spec.has(part):
            names.append(spec.column(part).label(lang))
        else:
            names.append(part.replace("_", " "))
    return t("common.or_join", lang).join(names) if len(names) > 1 else names[0]


def gap_text(gap: engine.Gap, lang: str) -> str:
    """Why a KPI has no value, or which rows it left out, in the chosen language."""

    def table_words(name: str) -> str:
        spec = TABLES.get(name)
        if spec is None:
            return t(f"relation.{name}", lang)
        return spec.label_zh if lang == "zh" else spec.label_en.lower()

    sep = "、" if lang == "zh" else ", "
    if gap.code == "no_rows":
        return t("gap.no_rows", lang, tables=sep.join(table_words(x) for x in gap.columns))
    columns = sep.join(_column_words(c, gap.table, lang) for c in gap.columns)
    return t(f"gap.{gap.code}", lang, table=table_words(gap.table), columns=columns,
             rows=f"{gap.rows:,}")  # fmt: skip


def data_gaps(con, card: Scorecard, lang: str, catalogue=None) -> pd.DataFrame:
    """The scheme's KPIs that have no data in the card's period, or left rows out, and why."""
    catalogue = catalogue or load_catalogue()
    period = card.period
    found = card.details[card.details["status"] != "no data"]
    values = pd.DataFrame({"kpi": found["kpi"], "source": found["source"]}).drop_duplicates("kpi")
    gaps = engine.gaps(con, period.start, period.end, card.scheme.kpi_ids, values, catalogue)
    return pd.DataFrame({
        "kpi": [g.kpi for g in gaps],
        t("gap.kpi", lang): [kpi_label(catalogue, g.kpi, lang) for g in gaps],
        t("gap.reason", lang): [gap_text(g, lang) for g in gaps],
    })  # fmt: skip


def agent_breakdown(card: Scorecard, agent: str, lang: str, catalogue=None) -> pd.DataFrame:
    """One agent's KPIs: value, interval, floor/target, score, weight share and contribution."""
    catalogue = catalogue or load_catalogue()
    d = card.details[card.details["agent"] == agent].copy()
    status = {"scored": t("status.scored", lang), "too little data": t("status.too_little", lang),
              "no data": t("status.no_data", lang)}  # fmt: skip
    out = pd.DataFrame({
        "kpi": d["kpi"],
        "label": [kpi_label(catalogue, k, lang) for k in d["kpi"]],
        "dimension": [dimension_label(catalogue, x, lang) for x in d["dimension"]],
        "value": d["value"],
        "shown": [format_value(catalogue.get(k), v, lang) for k, v in zip(d["kpi"], d["value"])],
        "adjusted": [format_value(catalogue.get(k), v, lang) if pd.notna(v) else ""
                     for k, v in zip(d["kpi"], d["adjusted"])],
        "mean": [format_value(catalogue.get(k), v, lang)  # durations: the mean beside the median
                 if catalogue.get(k).kind == "duration" and pd.notna(v) else ""
                 for k, v in zip(d["kpi"], d["mean"])],
        "interval": [f"{format_value(catalogue.get(k), lo, lang)} – {format_value(catalogue.get(k), hi, lang)}"
                     if pd.notna(lo) else "" for k, lo, hi in zip(d["kpi"], d["lo"], d["hi"])],
        "n": d["n"].astype(int), "floor": d["floor"], "target": d["target"],
        "floor_shown": [format_value(catalogue.get(k), v, lang) for k, v in zip(d["kpi"], d["floor"])],
        "target_shown": [format_value(catalogue.get(k), v, lang) for k, v in zip(d["kpi"], d["target"])],
        "score": d["score"].where(d["status"] == "scored").round(1),
        "weight_share": d["weight_share"], "contribution": d["contribution"].round(1),
        "status": d["status"].map(status),
        "source": [table_label(s, lang) if isinstance(s, str) else "" for s in d["source"]],
    })  # fmt: skip
    return out.reset_index(drop=True)


def strengths_and_weaknesses(card: Scorecard, agent: str, lang: str, catalogue=None,
                             alerting: set[str] | frozenset = frozenset()) -> dict:  # fmt: skip
    """KPIs named in words: the agent's best three, and the weak ones ranked by what they cost.
    A KPI with an open critical alert (`alerting`) is never named a strength."""
    catalogue = catalogue or load_catalogue()
    d = card.details[(card.details["agent"] == agent) & (card.details["status"] == "scored")]
    strong = d[(d["score"] >= 80) & ~d["kpi"].isin(list(alerting))]
    strong = strong.sort_values("score", ascending=False).head(3)
    weak = d[d["score"] < 60].assign(cost=lambda x: x["weight_share"] * (100 - x["score"]))
    weak = weak.sort_values("cost", ascending=False)
    left_out = card.details[(card.details["agent"] == agent)
                            & (card.details["status"] == "too little data")]  # fmt: skip
    name = lambda k: kpi_label(catalogue, k, lang)  # noqa: E731
    return {"strong": [name(k) for k in strong["kpi"]], "weak": [name(k) for k in weak["kpi"]],
            "weak_ids": list(weak["kpi"]),
            "left_out": [f"{name(k)} (n={int(n)} < {int(m)})"
                         for k, n, m in zip(left_out["kpi"], left_out["n"], left_out["min_sample"])]}  # fmt: skip


def critical_kpis(feed: pd.DataFrame) -> set[str]:
    """The KPIs of the critical alerts in an alert feed."""
    if feed.empty:
        return set()
    critical = feed[feed["severity"] == "critical"]
    return {k for k in critical["kpi"] if isinstance(k, str) and k}


def dimension_scores(card: Scorecard, agent: str | None) -> pd.DataFrame:
    """Per dimension: the agent's score (weighted by KPI shares) and the team median."""
    out = pd.DataFrame(card.dimension_medians().rename("team_median"))
    if agent:  # dimensions where the agent has no data are left off, not drawn as 0
        per = scoring_dimension_scores(card.details)
        out["agent"] = per[per["agent"] == agent].set_index("dimension")["score"]
        out = out[out["agent"].notna()]
    order = [d for d in dict.fromkeys(r.dimension for r in card.scheme.rules) if d in out.index]
    return out.reindex(order).rename_axis("dimension").reset_index()


def rerank(
    con, viewer: access.Viewer, period: Period, team: str | None, before, after
) -> pd.DataFrame:
    """Every agent's rank and score under two schemes (saved and edited) and the move.

    KPI values come from the cache: only scoring runs again, which is what makes live
    editing fast.
    """
    return rerank_with_movers(con, viewer, period, team, before, after)[0]


def rerank_with_movers(con, viewer: access.Viewer, period: Period, team: str | None, before,
                       after, lang: str = "en", count: int = 5) -> tuple[pd.DataFrame, dict[str, str]]:  # fmt: skip
    """`rerank`, and the biggest movers (agent → words) named with the KPI that moved each most
    (the KPI whose contribution to the score changed most), e.g. "小美 ▲4 (满意度)"."""

    access.require(viewer, "edit_schemes")
    values, inputs = scoring.score_inputs(con, period, [before, after], team=team)
    a, da = scoring.score(values, before, **inputs)
    b, db = scoring.score(values, after, **inputs)
    moves = rank_changes(a, b)
    table = pd.DataFrame({
        "rank": moves["rank_after"], "agent": moves["agent"],
        "score": moves["composite_after"].round(1), "saved_score": moves["composite_before"].round(1),
        "saved_rank": moves["rank_before"], "move": moves["move"].map(arrow),
    })  # fmt: skip
    moved = moves.dropna(subset=["move"])
    moved = moved[moved["move"] != 0]
    moved = moved.reindex(moved["move"].abs().sort_values(ascending=False).index).head(count)
    if moved.empty:
        return table, {}
    change = (db.set_index(["agent", "kpi"])["contribution"]
              .sub(da.set_index(["agent", "kpi"])["contribution"], fill_value=0.0))  # fmt: skip
    catalogue = load_catalogue()
    names = {}
    for agent, move in zip(moved["agent"], moved["move"]):
        kpi = (
            change.loc[agent].abs().idxmax() if agent in change.index.get_level_values(0) else None
        )
        label = f" ({kpi_label(catalogue, kpi, lang)})" if kpi else ""
        names[agent] = f"{agent} {arrow(move)}{label}"
    return table, names


def default_month(con, months: list[str]) -> str | None:
    """The latest month the data covers to its end, else the latest month with data."""
    if not months:
        return None
    last = store.latest_day(con)
    for m in months:
        if last is None or parse(m).end <= last + dt.timedelta(days=1):
            return m
    return months[0]


def default_period(con) -> Period | None:
    """The period the app and the command line open on: `default_month` over the months with
    data (None for an empty store)."""
    month = default_month(con, months_with_data(con))
    return parse(month) if month else None


def column_names(frame: pd.DataFrame, table: str | None, lang: str) -> pd.DataFrame:
    """A table with readable headers: canonical columns by their labels, others from
    the catalogue (`column.<name>`), anything else as it is."""

    spec = TABLES.get(table) if table else None
    names = {}
    for col in frame.columns:
        if spec is not None and spec.has(col):
            names[col] = spec.column(col).label(lang)
        elif f"column.{col}" in catalogue(lang):
            names[col] = t(f"column.{col}", lang)
    return frame.rename(columns=names)


def quarantine_for_people(report: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The quarantine report (`pipeline.quarantine_report`) as a download for people: reasons
    in the language, the whole-row marker named, headers in words."""

    out = report.copy()
    out["reason"] = [message(r, lang) for r in out["reason"]]
    out["column"] = [message(c, lang) if c == WHOLE_ROW else c for c in out["column"]]
    return column_names(out, None, lang)


def scheme_history(history: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A scheme's versions for people: the built-in preset named as such, the day each is in
    force from, and the changes in words."""

    builtin = history["saved_at"] <= PRESET_SAVED_AT
    shown = pd.DataFrame({
        "version": history["version"],
        "saved_at": [t("scheme.builtin_short", lang) if b else f"{v:%Y-%m-%d %H:%M}"
                     for b, v in zip(builtin, history["saved_at"])],
        "in_force_from": ["" if b or pd.isna(v) else f"{pd.Timestamp(v):%Y-%m-%d}"
                          for b, v in zip(builtin, history["in_force_from"])],
        "saved_by": ["" if b else v for b, v in zip(builtin, history["saved_by"])],
        "reason": ["" if b else v for b, v in zip(builtin, history["reason"])],
    })  # fmt: skip
    return column_names(shown, None, lang)


def upload_log(con, viewer: access.Viewer, lang: str) -> pd.DataFrame:
    """The upload history with readable headers and messages in the chosen language."""

    access.require(viewer, "upload")
    history = upload_history(con)
    history["message"] = [
        message(m, lang) if isinstance(m, str) else "" for m in history["message"]
    ]
    return readable(history, None, lang)


def stored_tables(con, lang: str) -> pd.DataFrame:
    """What the store holds: each table with rows, date span and agents, readable headers."""

    summary = store_summary(con)
    label = "label_zh" if lang == "zh" else "label_en"
    view = summary[summary["rows"] > 0][[label, "rows", "from", "to", "agents"]]
    view.columns = [t(f"overview.{k}", lang) for k in ("table", "rows", "from", "to", "agents")]
    return view


class PlanOutcome(NamedTuple):
    table: pd.DataFrame  # one row per KPI, in words
    verdict: str  # the plan's overall verdict, in words
    team: str | None  # the team the plan's agent is compared with


def plan_outcome(con, viewer: access.Viewer, plan_id: int, lang: str) -> PlanOutcome:
    """A plan's KPIs for the page: baseline, now, target, change with interval, the team's
    change, the change net of the team, and the verdict, in the chosen language."""

    out = plans.outcome(con, viewer, plan_id)
    catalogue = load_catalogue()
    rows = []
    for r in out.itertuples():
        kpi = catalogue.get(r.kpi)
        fmt = lambda v, kpi=kpi: format_value(kpi, v, lang)  # noqa: E731
        rows.append({
            "kpi": kpi.label(lang), "baseline": fmt(r.baseline), "value": fmt(r.value),
            "target": fmt(r.target), "change": _signed_change(kpi, r.change, lang) if r.change == r.change else "–",
            "interval": (f"{_signed_change(kpi, r.change_lo, lang)} … {_signed_change(kpi, r.change_hi, lang)}"
                         if r.change == r.change else ""),
            "team_change": _signed_change(kpi, r.team_change, lang),
            "net_change": _signed_change(kpi, r.net_change, lang) if r.net_change == r.net_change else "–",
            "n": f"{int(r.baseline_n)} → {int(r.n)}", "verdict": t(f"verdict.{r.verdict}", lang),
        })  # fmt: skip
    team = out["team"].iloc[0] if len(out) else None
    return PlanOutcome(pd.DataFrame(rows), t(f"verdict.{_overall(out)}", lang), team)


def _overall(out: pd.DataFrame) -> str:

    return overall(list(out["verdict"])) if len(out) else "not enough data"


def alert_feed(con, viewer: access.Viewer, lang: str, *, status: str | None = None,
               agent: str | None = None, team: str | None = None,
               first: int | None = None) -> tuple[pd.DataFrame, int]:  # fmt: skip
    """Stored alerts, newest first, with a title, the period and the numbers behind each in
    words, and how many there are in all (of one team's, with `team`): only the `first` are
    returned (all with None), as a page that shows a few need not word thousands."""
    feed = alerts.feed(con, viewer, status=status, agent=agent, team=team)
    return _alert_words(feed if first is None else feed.head(first), lang), len(feed)


def _alert_words(feed: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Alert rows (`alerts.feed`) with their title, period and numbers in words."""
    import json

    catalogue = load_catalogue()
    titles, numbers, whens = [], [], []
    for a in feed.itertuples():
        detail = json.loads(a.detail or "{}")
        kpi = catalogue.get(a.kpi) if isinstance(a.kpi, str) and a.kpi else None
        fmt = (lambda v, k=kpi: format_value(k, v, lang)) if kpi else (lambda v: f"{v:,.0f}")
        if a.kind == "sudden_change":
            titles.append(
                t(f"alert.sudden_{detail.get('direction', 'worse')}", lang, kpi=kpi.label(lang))
            )
            numbers.append(t("alert.sudden_numbers", lang, value=fmt(a.value), baseline=fmt(a.baseline),
                             z=detail.get("z"), days=detail.get("days")))  # fmt: skip
        elif a.kind == "breach":
            side = "below" if a.value < a.threshold else "above"  # say which way it is off
            titles.append(t(f"alert.breach_{side}", lang, kpi=kpi.label(lang)))
            numbers.append(t(f"alert.breach_numbers_{side}", lang, value=fmt(a.value), threshold=fmt(a.threshold),
                             n=detail.get("n")))  # fmt: skip
        else:
            what = detail.get("what", "open")
            titles.append(t(f"alert.backlog_{what}", lang))
            numbers.append(t(f"alert.backlog_{what}_numbers", lang, count=int(a.value), limit=int(a.threshold),
                             hours=detail.get("sla_hours", 24)))  # fmt: skip
        whens.append(
            f"{a.first_day:%Y-%m-%d}"
            + (f" → {a.last_day:%Y-%m-%d}" if a.last_day != a.first_day else "")
        )
    return feed.assign(title=titles, numbers=numbers, when=whens,
                       severity_shown=[t(f"alert.{s}", lang) for s in feed["severity"]])  # fmt: skip


def channel_table(con, viewer: access.Viewer, period: Period, team: str | None, kpi_ids: list[str],
                  lang: str) -> pd.DataFrame:  # fmt: skip
    """KPIs (rows) by channel (columns), with an “all channels” column, values as shown."""
    per = channels(con, viewer, period, team, kpi_ids, lang)
    if per.empty:
        return pd.DataFrame()
    table = per.pivot_table(index="label", columns="channel", values="shown", aggfunc="first")
    headline_all = engine.compute(
        con, period.start, period.end, by="team", team=team, kpi_ids=kpi_ids
    )
    pooled = pool(headline_all, load_catalogue())
    catalogue = load_catalogue()
    table[t("monitor.all_channels", lang)] = [
        format_value(catalogue.get(k), pooled.get(k), lang)
        for k in [
            next(i for i in kpi_ids if catalogue.get(i).label(lang) == label)
            for label in table.index
        ]
    ]
    return table.reset_index().rename(columns={"label": t("outcome.kpi", lang)})


def table_label(name: str, lang: str) -> str:
    """A stored table or derived source (`tickets`, `qa_review_scores`) as people call it."""

    if not isinstance(name, str) or not name:
        return ""
    spec = TABLES.get(name)
    if spec is not None:
        return spec.label_zh if lang == "zh" else spec.label_en
    if f"relation.{name}" in catalogue(lang):
        words = t(f"relation.{name}", lang)
        return words[:1].upper() + words[1:] if lang == "en" else words
    return name


VALUE_COLUMNS = ("channel", "priority", "status", "role", "verdict")
TABLE_COLUMNS = ("kind", "source", "table")


def value_label(column: str, value, lang: str, table: str | None = None):
    """A stored value such as channel `chat` or status `solved` in the chosen language (a
    table's own word first: an open dispute is waiting, an open ticket unsolved); a value the
    catalogue does not know (a shop's own word) is shown as written."""

    if not isinstance(value, str):
        return value
    keys = [f"role.{value}"] if column == "role" else [f"value.{column}.{value}"]
    if table:
        keys.insert(0, f"value.{table}.{column}.{value}")
    return next((t(k, lang) for k in keys if k in catalogue(lang)), value)


def readable(frame: pd.DataFrame, table: str | None, lang: str) -> pd.DataFrame:
    """A table for people: stored values (channels, statuses, roles, table names) and headers
    in the chosen language."""
    return column_names(readable_values(frame, table, lang), table, lang)


def readable_values(frame: pd.DataFrame, table: str | None, lang: str) -> pd.DataFrame:
    """The table with its stored values (channels, statuses, roles, table names) in the chosen
    language; headers as they were."""
    shown = frame.copy()
    for column in shown.columns:
        if column in VALUE_COLUMNS:
            shown[column] = [value_label(column, v, lang, table) for v in shown[column]]
        elif column in TABLE_COLUMNS:
            shown[column] = [
                table_label(v, lang) if isinstance(v, str) else v for v in shown[column]
            ]
    return shown


def kpi_list(ids: str | list, lang: str, catalogue=None) -> str:
    """KPI ids such as "csat,fcr_rate" as their names, in the language's list style."""
    catalogue = catalogue or load_catalogue()
    ids = [k for k in (ids.split(",") if isinstance(ids, str) else ids or []) if k]
    names = [catalogue.get(k).label(lang) if k in catalogue.kpis else k for k in ids]
    return ("、" if lang == "zh" else ", ").join(names)


def detail_words(detail, lang: str) -> str:
    """An audit entry's details (JSON) as words: `角色：管理员；首次启动：是`."""
    import json

    if detail in (None, ""):
        return ""
    if isinstance(detail, str):
        try:
            detail = json.loads(detail)
        except ValueError:
            return detail
    if not isinstance(detail, dict):
        return str(detail)

    def word(key: str, value) -> str:
        if isinstance(value, bool):
            return t("common.yes" if value else "common.no", lang)
        if value is None:
            return "–"
        if isinstance(value, list):
            return ("、" if lang == "zh" else ", ").join(str(v) for v in value) or "–"
        if key in ("role", "from", "to"):
            return value_label("role", value, lang)
        if key == "table":
            return table_label(value, lang)
        if key == "kpi" or key == "kpis":
            return kpi_list(value, lang)
        if isinstance(value, str) and f"detail.value.{value}" in catalogue(lang):
            return t(f"detail.value.{value}", lang)  # reasons and places written by the app
        return f"{value:,}" if isinstance(value, int) else str(value)

    parts = []
    for key, value in detail.items():
        name = t(f"detail.key.{key}", lang) if f"detail.key.{key}" in catalogue(lang) else key
        if key == "kpis":
            value = kpi_list(value, lang)
        parts.append(f"{name}{'：' if lang == 'zh' else ': '}{word(key, value)}")
    return ("；" if lang == "zh" else "; ").join(parts)


def audit_view(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The audit log for people: actions and their details in words, headers translated."""

    shown = frame.copy()
    shown["action"] = [t(f"action.{a}", lang) if f"action.{a}" in catalogue(lang) else a
                       for a in shown["action"]]  # fmt: skip
    shown["detail"] = [detail_words(d, lang) for d in shown["detail"]]
    shown["at"] = [str(v).replace("T", " ")[:19] for v in shown["at"]]
    return shown.rename(columns={c: t(f"audit.{c}", lang) for c in shown.columns})


def action_label(action: str, lang: str) -> str:

    return t(f"action.{action}", lang) if f"action.{action}" in catalogue(lang) else action


def kpi_axis(kpi, lang: str) -> str:
    """A chart axis for a KPI: its name and unit, 满意度（%）, First response time (s)."""

    unit, _ = unit_of(kpi)
    return kpi.label(lang) + (
        t("export.in", lang, unit=t(f"export.unit.{unit}", lang)) if unit else ""
    )
