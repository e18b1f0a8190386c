"""Improvement plans and whether they worked, judged from the data.

A plan names an agent, KPIs with targets, a start and a due date, an owner, a mentor and
training modules. The baseline of each KPI is measured when the plan is made, over as many
days before the start as the plan lasts. The outcome compares the agent's value over the plan
with that baseline, and subtracts the team's change over the same two windows, so a
team-wide improvement is not credited to the plan. The change carries an interval (the two
windows' intervals combined), and the verdict per KPI is: met (target reached and better than
the team trend), partly (better than the team trend beyond noise, target not reached), not met,
or not enough data.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from lib.auth import access, audit
from lib.core import errors, store
from lib.core.errors import PlanError
from lib.metrics import kpis, schemes

STATUSES = ("open", "closed", "cancelled")
VERDICTS = ("met", "partly", "not met", "not enough data", "in progress")


def _write(con, action: str, who: str, target, detail, work) -> object:
    result = store.write(con, work)
    audit.record(audit.log_of(con), who, action, target, detail)
    return result


def _value(con, kpi_id: str, start: dt.date, end: dt.date, agent: str | None, team: str | None):
    """(value, half-width of its interval, n) of a KPI for an agent or a team over [start, end)."""
    if agent:
        frame = kpis.compute(con, start, end, kpi_ids=[kpi_id])
        row = frame[frame["grp"] == agent]
    else:
        frame = kpis.compute(con, start, end, by="team", kpi_ids=[kpi_id])
        row = frame[frame["grp"] == team]
    if row.empty or pd.isna(row.iloc[0]["value"]):
        return math.nan, math.nan, 0.0
    r = row.iloc[0]
    half = (r["hi"] - r["lo"]) / 2 if pd.notna(r["lo"]) and pd.notna(r["hi"]) else 0.0
    return float(r["value"]), float(half), float(r["n"] or 0)


def _team_of(con, agent: str) -> str | None:
    teams = kpis.agent_teams(con)
    hit = teams[teams["agent"] == agent]["team"]
    return hit.iloc[0] if len(hit) else None


def create(con, viewer: access.Viewer, agent: str, title: str, targets: dict[str, float],
           start: dt.date, due: dt.date, *, mentor: str | None = None, modules=(),
           owner: str | None = None, now: dt.datetime | None = None, is_demo: bool = False) -> int:  # fmt: skip
    """Make a plan; each KPI's baseline is measured now. Returns the plan id."""
    access.require(viewer, "coach")
    catalogue = kpis.load_catalogue()
    if not targets:
        raise PlanError("A plan needs at least one KPI with a target.")
    if due <= start:
        raise PlanError("The due date must come after the start date.")
    if not str(title or "").strip():
        raise PlanError("A plan needs a title.")
    days = (due - start).days
    baselines = {}
    for kpi_id, target in targets.items():
        kpi = catalogue.get(kpi_id)  # unknown KPIs are refused here
        if target is None or (isinstance(target, float) and math.isnan(target)):
            raise PlanError(f"{kpi_id}: a target is needed.")
        if (kpi.kind == "rate" or kpi.unit == "share") and not 0 <= float(target) <= 1:
            raise PlanError(f"The target for {kpi.en} must be between 0% and 100%, "
                            f"not {float(target) * 100:g}%.")  # fmt: skip
        if float(target) < 0:
            raise PlanError(f"The target for {kpi.en} cannot be negative.")
        value, _, n = _value(con, kpi_id, start - dt.timedelta(days=days), start, agent, None)
        baselines[kpi_id] = (value, n, float(target))

    def work(cur):
        plan_id = cur.execute(
            """INSERT INTO plans (agent, title, start_date, due_date, owner, mentor, modules,
               created_by, created_at, is_demo) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               RETURNING plan_id""",
            [agent, title.strip(), start, due, owner or viewer.username, mentor or None,
             ",".join(modules), viewer.username, now or dt.datetime.now(), is_demo],
        ).fetchone()[0]  # fmt: skip
        for kpi_id, (value, n, target) in baselines.items():
            cur.execute("INSERT INTO plan_kpis VALUES (?, ?, ?, ?, ?)",
                        [plan_id, kpi_id, None if math.isnan(value) else value, n, target])  # fmt: skip
        return plan_id

    return _write(
        con, "plan.create", viewer.username, agent, {"title": title, "kpis": list(targets)}, work
    )


def _plan(cur, plan_id: int) -> dict:
    row = cur.execute("SELECT * FROM plans WHERE plan_id = ?", [plan_id]).fetchdf()
    if row.empty:
        raise PlanError(f"Plan {plan_id} does not exist.")
    return row.iloc[0].to_dict()


def check_in(
    con, viewer: access.Viewer, plan_id: int, body: str, now: dt.datetime | None = None
) -> None:
    """A check-in note on a plan (coaches)."""
    access.require(viewer, "coach")
    if not str(body or "").strip():
        raise PlanError("A check-in needs some text.")

    def work(cur):
        _plan(cur, plan_id)
        cur.execute("INSERT INTO plan_checkins VALUES (?, ?, ?, ?)",
                    [plan_id, now or dt.datetime.now(), viewer.username, body.strip()])  # fmt: skip

    _write(con, "plan.check_in", viewer.username, plan_id, None, work)


def set_status(con, viewer: access.Viewer, plan_id: int, status: str, *, base_version: int) -> None:
    access.require(viewer, "coach")
    if status not in STATUSES:
        raise PlanError(f"Unknown status '{status}'.")

    def work(cur):
        plan = _plan(cur, plan_id)
        if plan["version"] != base_version:
            raise errors.ConflictError(
                f"Plan {plan_id} was changed after you opened it; reload it and try again."
            )
        cur.execute("UPDATE plans SET status = ?, version = version + 1, updated_at = now() "
                    "WHERE plan_id = ?", [status, plan_id])  # fmt: skip

    _write(con, "plan.status", viewer.username, plan_id, {"status": status}, work)


def listing(
    con, viewer: access.Viewer, agent: str | None = None, status: str | None = None
) -> pd.DataFrame:
    """Plans with their KPIs: an agent's own, or (coaches) any agent's."""
    if agent:
        access.require_agent(viewer, agent)
    sql = """SELECT p.*, string_agg(k.kpi, ',' ORDER BY k.kpi) AS kpis
             FROM plans p LEFT JOIN plan_kpis k USING (plan_id) WHERE true"""
    params = []
    if agent or viewer.is_agent:
        sql += " AND p.agent = ?"
        params.append(agent or viewer.agent)
    if status:
        sql += " AND p.status = ?"
        params.append(status)
    frame = con.cursor().execute(sql + " GROUP BY ALL ORDER BY p.due_date, p.plan_id", params).df()
    return access.rows_for(viewer, frame)


def checkins(con, viewer: access.Viewer, plan_id: int) -> pd.DataFrame:
    cur = con.cursor()
    access.require_agent(viewer, _plan(cur, plan_id)["agent"])
    return cur.execute("SELECT checked_at, author, body FROM plan_checkins WHERE plan_id = ? "
                       "ORDER BY checked_at", [plan_id]).df()  # fmt: skip


def baseline_and_target(
    con, viewer: access.Viewer, plan_id: int, kpi: str
) -> tuple[float | None, float]:
    cur = con.cursor()
    access.require_agent(viewer, _plan(cur, plan_id)["agent"])
    row = cur.execute("SELECT baseline, target FROM plan_kpis WHERE plan_id = ? AND kpi = ?",
                      [plan_id, kpi]).fetchone()  # fmt: skip
    if row is None:
        raise PlanError(f"Plan {plan_id} has no KPI '{kpi}'.")
    return row[0], row[1]


def listed(text: str | None) -> list[str]:
    """A stored comma-separated list (a plan's KPIs or modules) as its items."""
    return [item for item in (text or "").split(",") if item]


def draft_from(recommendation, agent: str) -> dict:
    """A new plan's starting values from a training recommendation for `agent`: that agent,
    the recommendation's KPI and module, its mentor when one is named, and a title."""
    mentor = recommendation["mentor"]
    return {"agent": agent, "kpis": [recommendation["kpi"]], "modules": [recommendation["module"]],
            "mentor": mentor if isinstance(mentor, str) else "",
            "title": f"{recommendation['kpi_label']} · {recommendation['title']}"}  # fmt: skip


def target_inputs(scheme, catalogue, kpis: list[str]) -> dict[str, tuple[str, float, float]]:
    """Per KPI, how its plan target is typed: (unit shown, factor from the stored value to the
    typed one, the scheme's target as typed) — a rate is typed in % (0.95 → 95)."""
    rule_target = {r.kpi: r.target for r in scheme.rules}
    out = {}
    for k in kpis:
        unit, factor = schemes.unit_of(catalogue.get(k))
        out[k] = (unit, factor, float(rule_target[k]) * factor)
    return out


def window(con, days: int = 30) -> tuple[dt.date, dt.date]:
    """A new plan's default start and due dates: `days` either side of where the data ends."""
    end = data_end(con)
    return end - dt.timedelta(days=days), end + dt.timedelta(days=days)


def data_end(con) -> dt.date:
    """The day after the latest ticket or daily report: how far the data reaches."""
    return (store.latest_day(con) or dt.date.today()) + dt.timedelta(days=1)


def is_overdue(plan, today: dt.date) -> bool:
    """An open plan whose due date has passed (today: how far the data reaches)."""
    due = plan["due_date"]
    due = due.date() if hasattr(due, "date") else due
    return plan["status"] == "open" and due < today


def shown_status(plan, today: dt.date) -> str:
    """open, overdue, closed or cancelled: an open plan past its due date is overdue."""
    return "overdue" if is_overdue(plan, today) else plan["status"]


def outcome(con, viewer: access.Viewer, plan_id: int, as_of: dt.date | None = None) -> pd.DataFrame:
    """Per KPI of the plan: baseline, value during the plan, change with its interval, the
    team's change over the same windows, the change net of the team, and the verdict."""
    cur = con.cursor()
    plan = _plan(cur, plan_id)
    access.require_agent(viewer, plan["agent"])
    catalogue = kpis.load_catalogue()
    start, due = plan["start_date"], plan["due_date"]
    start = start.date() if hasattr(start, "date") else start
    due = due.date() if hasattr(due, "date") else due
    end = min(due, as_of or data_end(con))
    before = start - (due - start)
    team = _team_of(con, plan["agent"])
    rows = []
    for kpi_id, target in cur.execute(
        "SELECT kpi, target FROM plan_kpis WHERE plan_id = ? ORDER BY kpi", [plan_id]
    ).fetchall():
        kpi = catalogue.get(kpi_id)
        sign = 1 if kpi.higher_is_better else -1
        b, bh, bn = _value(con, kpi_id, before, start, plan["agent"], None)
        a, ah, an = (
            _value(con, kpi_id, start, end, plan["agent"], None)
            if end > start
            else (math.nan, math.nan, 0.0)
        )
        tb, tbh, _ = _value(con, kpi_id, before, start, None, team)
        ta, tah, _ = (
            _value(con, kpi_id, start, end, None, team)
            if end > start
            else (math.nan, math.nan, 0.0)
        )
        change = a - b
        half = math.hypot(ah, bh)
        team_change = ta - tb if not (math.isnan(ta) or math.isnan(tb)) else 0.0
        net = change - team_change
        net_half = math.hypot(
            half, tah if not math.isnan(tah) else 0, tbh if not math.isnan(tbh) else 0
        )
        gain, reached = sign * net, (not math.isnan(a)) and sign * (a - target) >= 0
        if bn < kpi.min_sample or an < kpi.min_sample:
            verdict = "not enough data"
        elif end < due:
            verdict = "in progress"
        elif reached and gain > 0:
            verdict = "met"
        elif gain - net_half > 0:
            verdict = "partly"
        else:
            verdict = "not met"
        span = target - b
        progress = (
            sign * net / abs(span)
            if span and not math.isnan(span) and not math.isnan(net)
            else math.nan
        )
        rows.append({"kpi": kpi_id, "baseline": b, "baseline_n": bn, "value": a, "n": an,
                     "target": target, "change": change, "change_lo": change - half,
                     "change_hi": change + half, "team_change": team_change, "net_change": net,
                     "net_lo": net - net_half, "net_hi": net + net_half, "progress": progress,
                     "reached": reached, "verdict": verdict, "team": team})  # fmt: skip
    return pd.DataFrame(rows)


def overall(verdicts: list[str]) -> str:
    """One verdict for a plan from its KPIs' verdicts."""
    if not verdicts:
        return "not enough data"
    if "in progress" in verdicts:
        return "in progress"
    judged = [v for v in verdicts if v != "not enough data"]
    if not judged:
        return "not enough data"
    if all(v == "met" for v in judged):
        return "met"
    return "partly" if any(v in ("met", "partly") for v in judged) else "not met"


def board(
    con, viewer: access.Viewer, today: dt.date | None = None, soon_days: int = 14
) -> pd.DataFrame:
    """The trainer's view: every open plan with its verdict so far, whether it is due soon, and
    off track (past half its time and not better than the team trend)."""
    access.require(viewer, "coach")
    today = today or data_end(con)
    rows = []
    for plan in listing(con, viewer, status="open").itertuples():
        result = outcome(con, viewer, plan.plan_id, as_of=today)
        start, due = pd.Timestamp(plan.start_date).date(), pd.Timestamp(plan.due_date).date()
        elapsed = (today - start).days / max((due - start).days, 1)
        gains = [(1 if kpis.load_catalogue().get(r.kpi).higher_is_better else -1) * r.net_change
                 for r in result.itertuples() if not math.isnan(r.net_change)]  # fmt: skip
        rows.append({"plan_id": plan.plan_id, "agent": plan.agent, "title": plan.title,
                     "owner": plan.owner, "due_date": due, "kpis": plan.kpis,
                     "verdict": overall(list(result["verdict"])),
                     "due_soon": 0 <= (due - today).days <= soon_days, "overdue": due < today,
                     "off_track": elapsed >= 0.5 and (not gains or max(gains) <= 0)})  # fmt: skip
    return pd.DataFrame(rows, columns=["plan_id", "agent", "title", "owner", "due_date", "kpis",
                                       "verdict", "due_soon", "overdue", "off_track"])  # fmt: skip


def module_effects(con, viewer: access.Viewer, as_of: dt.date | None = None) -> pd.DataFrame:
    """Each training module across the plans that used it: plans judged, and the mean progress
    toward target net of the team trend (1.0 = the whole gap closed)."""
    access.require(viewer, "coach")
    rows = []
    for plan in listing(con, viewer).itertuples():
        if not plan.modules or plan.status == "cancelled":
            continue
        result = outcome(con, viewer, plan.plan_id, as_of=as_of)
        judged = result[~result["verdict"].isin(["not enough data", "in progress"])]
        for module in plan.modules.split(","):
            for r in judged.itertuples():
                rows.append({"module": module, "plan_id": plan.plan_id, "progress": r.progress,
                             "met": r.verdict == "met"})  # fmt: skip
    frame = pd.DataFrame(rows, columns=["module", "plan_id", "progress", "met"])
    return (frame.groupby("module")
            .agg(plans=("plan_id", "nunique"), mean_progress=("progress", "mean"), met=("met", "mean"))
            .reset_index())  # fmt: skip
