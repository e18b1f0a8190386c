"""Alerts: KPI breaches, sudden changes, backlogs — found in the data, kept with their history.

Rules live in `config/alerts.yaml`. A sudden change compares each day's value with the same
agent's (or team's) own trailing baseline, robustly: the median and the median absolute
deviation of the previous `window` days, using only days with at least `min_volume` cases, so
one odd day in the baseline does not hide a change and a quiet day does not raise one.
Consecutive flagged days in the same direction make one alert, and it takes `persist` of
them (2 by default) to raise it, so a single odd day does not. `refresh` evaluates the rules
whenever the data has changed and stores new findings; acknowledging and resolving are kept
as events, and an alert's row is never deleted.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from lib import access, audit, kpis, store, webhooks
from lib.problems import RuleProblems

ALERTS = store.ROOT / "config" / "alerts.yaml"
KINDS = ("breach", "sudden_change", "backlog")
SEVERITIES = ("info", "warning", "critical")
COLUMNS = ["alert_key", "rule", "kind", "severity", "scope", "subject", "agent", "kpi",
           "first_day", "last_day", "value", "baseline", "threshold", "detail"]  # fmt: skip


class AlertRulesError(RuleProblems):
    def __init__(self, problems):
        super().__init__("The alert rules cannot be used", problems)


def _number(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def check(config: dict) -> list[tuple[str, str]]:
    if not isinstance(config, dict):
        return [("rules.mapping", "the rules must be a YAML mapping (rules:, webhooks: …)")]
    if not isinstance(config.get("rules") or [], list) or not all(
        isinstance(r, dict) for r in config.get("rules") or []
    ):
        return [("rules.mapping", "rules: must be a list of rules, each a mapping")]
    if not isinstance(config.get("webhooks") or [], list) or not all(
        isinstance(h, dict) for h in config.get("webhooks") or []
    ):
        return [("rules.mapping", "webhooks: must be a list of hooks, each a mapping")]
    catalogue = kpis.load_catalogue()
    problems = []
    ids = [r.get("id") for r in config.get("rules") or []]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(("rule.unique_id", f"rule id '{dup}' is used twice"))
    for r in config.get("rules") or []:
        name = r.get("id")
        if r.get("kind") not in KINDS:
            problems.append(("rule.kind", f"{name}: kind must be one of {', '.join(KINDS)}"))
        if r.get("severity") not in SEVERITIES:
            problems.append(
                ("rule.severity", f"{name}: severity must be one of {', '.join(SEVERITIES)}")
            )
        if r.get("kind") in ("breach", "sudden_change") and r.get("kpi") not in catalogue.kpis:
            problems.append(("rule.kpi_known", f"{name}: unknown KPI '{r.get('kpi')}'"))
        if r.get("scope") not in ("agent", "team"):
            problems.append(("rule.scope", f"{name}: scope must be agent or team"))
        if r.get("kind") == "breach" and (r.get("above") is None) == (r.get("below") is None):
            problems.append(("rule.threshold", f"{name}: give either above or below"))
        if r.get("kind") == "sudden_change" and not (_number(r.get("z") or 0) or 0) > 0:
            problems.append(("rule.z", f"{name}: z must be more than 0"))
    for h in config.get("webhooks") or []:
        if h.get("format") not in ("dingtalk", "wecom", "slack"):
            problems.append(
                (
                    "webhook.format",
                    f"webhook '{h.get('name')}': format must be dingtalk, wecom or slack",
                )
            )
        if not str(h.get("url") or "").startswith(("http://", "https://")):
            problems.append(
                (
                    "webhook.url",
                    f"webhook '{h.get('name')}': the url must start with http:// or https://",
                )
            )
    return problems


@lru_cache(maxsize=4)
def _load(text: str) -> dict:
    config = yaml.safe_load(text) or {}
    problems = check(config)
    if problems:
        raise AlertRulesError(problems)
    return config


def load(path: Path = ALERTS) -> dict:
    return _load(Path(path).read_text(encoding="utf-8"))


def save(path: Path, config: dict, viewer: access.Viewer, log: Path | None = None) -> None:
    """Write edited rules after checking them (managers and admins)."""
    access.require(viewer, "edit_schemes")
    if not isinstance(config, dict):
        raise AlertRulesError([("rules.mapping", "the rules must be a YAML mapping "
                                "(rules:, webhooks: …), not a list or a single value")])  # fmt: skip
    problems = check(config)
    for h in config.get("webhooks") or []:
        refused = isinstance(h, dict) and webhooks.check_url(h.get("url"))
        if refused:
            problems.append(("webhook.url", f"webhook '{h.get('name')}': {refused}"))
    if problems:
        raise AlertRulesError(problems)
    Path(path).write_text(
        yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    audit.record(log, viewer.username, "alerts.rules", str(path))


# ------------------------------------------------------------------ detection (pure)


def robust_changes(series: pd.DataFrame, *, window: int = 28, min_days: int = 7,
                   min_volume: float = 5, z: float = 4.0, guard: int = 0) -> pd.DataFrame:  # fmt: skip
    """Days whose value is far from the trailing baseline. `series`: day, value, n (one subject).
    The baseline is the `window` days before day − `guard`: the last few days are kept out of
    it, so the first days of a change do not soften the baseline the next days are judged by.
    Returns day, value, baseline (median), spread (1.4826 × MAD) and the robust z."""
    s = series.sort_values("day").reset_index(drop=True)
    days = pd.to_datetime(s["day"]).to_numpy()
    values, volume = s["value"].to_numpy(dtype=float), s["n"].to_numpy(dtype=float)
    usable = (volume >= min_volume) & ~np.isnan(values)
    rows = []
    for i in range(len(s)):
        if not usable[i]:
            continue
        stop = days[i] - np.timedelta64(guard, "D")
        past = usable & (days >= stop - np.timedelta64(window, "D")) & (days < stop)
        if past.sum() < min_days:
            continue
        med = float(np.median(values[past]))
        spread = 1.4826 * float(np.median(np.abs(values[past] - med)))
        spread = max(spread, 0.05 * abs(med), 1e-9)  # a flat baseline still needs a scale
        score = (values[i] - med) / spread
        if abs(score) >= z:
            rows.append({"day": pd.Timestamp(days[i]).date(), "value": values[i], "baseline": med,
                         "spread": spread, "z": score})  # fmt: skip
    return pd.DataFrame(rows, columns=["day", "value", "baseline", "spread", "z"])


def _runs(flags: pd.DataFrame) -> list[pd.DataFrame]:
    """Consecutive days (a gap of at most 2 days) in the same direction form one run."""
    runs, current = [], []
    for row in flags.sort_values("day").itertuples():
        if current and ((row.day - current[-1].day).days > 2 or (row.z > 0) != (current[-1].z > 0)):
            runs.append(pd.DataFrame(current))
            current = []
        current.append(row)
    if current:
        runs.append(pd.DataFrame(current))
    return runs


def _sudden(con, rule: dict, start: dt.date, end: dt.date) -> list[dict]:
    kpi = kpis.load_catalogue().get(rule["kpi"])
    by = "agent" if rule["scope"] == "agent" else "team"
    # The baseline needs the days before the lookback too.
    frame = kpis.compute(con, start - dt.timedelta(days=int(rule.get("window", 28)) + 7), end, by=by,
                         grain="day", kpi_ids=[kpi.id])  # fmt: skip
    out = []
    for subject, part in frame.groupby("grp"):
        flags = robust_changes(part.rename(columns={"bucket": "day"})[["day", "value", "n"]],
                               window=int(rule.get("window", 28)), min_days=int(rule.get("min_days", 7)),
                               min_volume=float(rule.get("min_volume", 5)), z=float(rule.get("z", 4)),
                               guard=int(rule.get("persist", 2)) - 1)  # fmt: skip
        flags = flags[flags["day"] >= start]
        worse = (flags["z"] > 0) != kpi.higher_is_better
        wanted = rule.get("direction", "both")
        flags = (
            flags[worse] if wanted == "worse" else flags[~worse] if wanted == "better" else flags
        )
        for run in _runs(flags):
            if len(run) < int(rule.get("persist", 2)):  # a one-day blip is not a change
                continue
            first = run.iloc[0]
            out.append({"subject": subject, "first_day": first["day"], "last_day": run.iloc[-1]["day"],
                        "value": float(first["value"]), "baseline": float(first["baseline"]),
                        "threshold": None, "kpi": kpi.id,
                        "detail": {"z": round(float(first["z"]), 1), "days": len(run),
                                   "spread": round(float(first["spread"]), 4),
                                   "direction": "worse" if (first["z"] > 0) != kpi.higher_is_better else "better"}})  # fmt: skip
    return out


def _breach(con, rule: dict, start: dt.date, end: dt.date) -> list[dict]:
    by = "agent" if rule["scope"] == "agent" else "team"
    grain = rule.get("period", "week")
    frame = kpis.compute(con, start, end, by=by, grain=grain, kpi_ids=[rule["kpi"]])
    out = []
    for r in frame.itertuples():
        if pd.isna(r.value) or (r.n or 0) < float(rule.get("min_n", 1)) or pd.isna(r.bucket):
            continue
        first = pd.Timestamp(r.bucket).date()
        last = (
            pd.Timestamp(first)
            + (pd.DateOffset(weeks=1) if grain == "week" else pd.DateOffset(months=1))
        ).date()
        if last > end:  # only complete weeks or months
            continue
        above, below = rule.get("above"), rule.get("below")
        if (above is not None and r.value > above) or (below is not None and r.value < below):
            out.append({"subject": r.grp, "first_day": first, "last_day": last - dt.timedelta(days=1),
                        "value": float(r.value), "baseline": None, "kpi": rule["kpi"],
                        "threshold": float(above if above is not None else below),
                        "detail": {"n": int(r.n), "period": grain}})  # fmt: skip
    return out


def _backlog(con, rule: dict, as_of: dt.datetime) -> list[dict]:
    """Per agent, over tickets created in the last `window_days`: open tickets above
    `max_open`, and tickets still unreplied after `sla_hours` above `max_unreplied`."""
    rows = (
        con.cursor()
        .execute(
            """SELECT agent,
                  count(*) FILTER (WHERE resolved_at IS NULL
                                   AND coalesce(lower(status), '') NOT IN ('closed', 'solved', 'resolved')) AS open,
                  count(*) FILTER (WHERE first_response_at IS NULL
                                   AND created_at <= $as_of - to_hours($hours)) AS overdue
           FROM tickets WHERE created_at <= $as_of AND created_at > $as_of - to_days($days)
           GROUP BY agent""",
            {
                "as_of": as_of,
                "hours": int(rule.get("sla_hours", 24)),
                "days": int(rule.get("window_days", 14)),
            },
        )
        .fetchall()
    )
    out = []
    day = as_of.date()
    limits = (("open", "max_open"), ("unreplied", "max_unreplied"))
    for agent, *counts in rows:
        for (what, key), count in zip(limits, counts):
            if rule.get(key) is not None and count > int(rule[key]):
                out.append({"subject": agent, "first_day": day, "last_day": day, "value": float(count),
                            "baseline": None, "threshold": float(rule[key]), "kpi": None,
                            "detail": {"what": what, "count": int(count),
                                       "sla_hours": int(rule.get("sla_hours", 24))}})  # fmt: skip
    return out


def evaluate(con, config: dict | None = None, as_of: dt.datetime | None = None) -> pd.DataFrame:
    """Every finding of every rule over the lookback, as alert rows (not stored)."""
    config = config or load()
    cur = con.cursor()
    last = as_of or cur.execute("SELECT max(created_at) FROM tickets").fetchone()[0]
    if last is None:
        return pd.DataFrame(columns=COLUMNS)
    end = last.date() + dt.timedelta(days=1)
    start = end - dt.timedelta(days=int(config.get("lookback_days", 90)))
    rows = []
    for rule in config.get("rules") or []:
        if rule["kind"] == "sudden_change":
            found = _sudden(con, rule, start, end)
        elif rule["kind"] == "breach":
            found = _breach(con, rule, start, end)
        else:
            found = _backlog(con, rule, last)
        for f in found:
            what = f["detail"].get("what", "")
            rows.append({**f, "rule": rule["id"], "kind": rule["kind"], "severity": rule["severity"],
                         "scope": rule["scope"], "agent": f["subject"] if rule["scope"] == "agent" else None,
                         "alert_key": f"{rule['id']}|{what}|{f['subject']}|{f['first_day']}",
                         "detail": json.dumps(f["detail"], ensure_ascii=False)})  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)


def refresh(con, config: dict | None = None, force: bool = False) -> int:
    """Store new findings when the data changed since the last run; returns how many are new.
    A finding already stored keeps its status; its last day and numbers are brought up to date."""
    version = store.data_version(con)
    row = (
        con.cursor()
        .execute("SELECT value FROM schema_meta WHERE key = 'alerts_version'")
        .fetchone()
    )
    if row and int(row[0]) == version and not force:
        return 0
    found = evaluate(con, config)

    def work(cur):
        before = cur.execute("SELECT count(*) FROM alerts").fetchall()[0][0]
        if len(found):
            cur.register("__found", found.assign(created_at=dt.datetime.now()))
            cur.execute(f"""INSERT INTO alerts ({", ".join(COLUMNS)}, created_at)
                            SELECT {", ".join(COLUMNS)}, created_at FROM __found
                            ON CONFLICT (alert_key) DO UPDATE SET last_day = excluded.last_day,
                                value = excluded.value, detail = excluded.detail""")
            cur.unregister("__found")
        cur.execute(
            "INSERT OR REPLACE INTO schema_meta VALUES ('alerts_version', ?)", [str(version)]
        )
        return cur.execute("SELECT count(*) FROM alerts").fetchone()[0] - before

    return store.write(con, work, bump=False)


def feed(
    con, viewer: access.Viewer, *, status: str | None = None, agent: str | None = None
) -> pd.DataFrame:
    """Stored alerts, newest first; agents see only alerts about themselves."""
    if agent:
        access.require_agent(viewer, agent)
    sql, params = "SELECT * FROM alerts WHERE true", []
    if status:
        sql += " AND status = ?"
        params.append(status)
    if agent or viewer.is_agent:
        sql += " AND agent = ?"
        params.append(agent or viewer.agent)
    elif not viewer.can("team_views"):
        access.require(viewer, "team_views")
    sql += " ORDER BY first_day DESC, CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END"
    return access.rows_for(viewer, con.cursor().execute(sql, params).df())


def act(
    con, viewer: access.Viewer, key: str, action: str, *, base_version: int, note: str = ""
) -> None:
    """Acknowledge, resolve or reopen an alert; kept as an event, audited."""
    access.require(viewer, "team_views")
    status = {"acknowledge": "acknowledged", "resolve": "resolved", "reopen": "open"}[action]

    def work(cur):
        row = cur.execute("SELECT version FROM alerts WHERE alert_key = ?", [key]).fetchone()
        if row is None:
            raise KeyError(f"No alert {key}.")
        if row[0] != base_version:
            raise store.ConflictError(
                "Someone changed this alert after you opened it; reload and try again."
            )
        cur.execute(
            "UPDATE alerts SET status = ?, version = version + 1 WHERE alert_key = ?", [status, key]
        )
        cur.execute("INSERT INTO alert_events VALUES (?, ?, ?, ?, ?)",
                    [key, dt.datetime.now(), viewer.username, status, note or None])  # fmt: skip

    store.write(con, work, bump=False)
    audit.record(audit.log_of(con), viewer.username, f"alert.{action}", key, note or None)


def events(con, viewer: access.Viewer, key: str) -> pd.DataFrame:
    access.require(viewer, "team_views")
    return con.cursor().execute("SELECT at_time, who, action, note FROM alert_events WHERE alert_key = ? "
                                "ORDER BY at_time", [key]).df()  # fmt: skip
