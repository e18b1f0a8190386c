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
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from lib.auth import access, audit, rulesets
from lib.core import errors, store, yamlio
from lib.core.errors import AlertRulesError
from lib.core.tables import TABLES
from lib.metrics import coverage, kpis
from lib.monitoring import webhooks

KINDS = ("breach", "sudden_change", "backlog")
SEVERITIES = ("info", "warning", "critical")
COLUMNS = ["alert_key", "rule", "kind", "severity", "scope", "subject", "agent", "kpi",
           "first_day", "last_day", "value", "baseline", "threshold", "detail"]  # fmt: skip


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
    config = yamlio.load(text) or {}
    problems = check(config)
    if problems:
        raise AlertRulesError(problems)
    return config


def load(con=None, path: Path | None = None) -> dict:
    """The alert rules in force: from `path` when given (the command line's --alerts), else the
    newest version saved in the store, else the shipped `config/alerts.yaml`."""
    if path is not None:
        return _load(Path(path).read_text(encoding="utf-8"))
    return _load(
        rulesets.latest(con, "alerts")[1] if con is not None else rulesets.shipped("alerts")
    )


def save(con, viewer: access.Viewer, config: dict, *, reason: str,
         base_version: int | None = None) -> int:  # fmt: skip
    """Store edited rules as a new version after checking them (managers and admins); returns
    the version. The shipped file is never written."""
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
    return rulesets.save(con, viewer, "alerts", config, reason=reason, base_version=base_version)


# ------------------------------------------------------------------ detection (pure)


CHUNK = 256  # subjects per block of the sliding-window arrays (bounds their memory)


def robust_changes(series: pd.DataFrame, *, window: int = 28, min_days: int = 7,
                   min_volume: float = 5, z: float = 4.0, guard: int = 0) -> pd.DataFrame:  # fmt: skip
    """Days whose value is far from the trailing baseline. `series`: day, value, n (one subject).
    The baseline is the `window` days before day − `guard`: the last few days are kept out of
    it, so the first days of a change do not soften the baseline the next days are judged by.
    Returns day, value, baseline (median), spread (1.4826 × MAD) and the robust z."""
    found = robust_changes_all(series.assign(grp=""), window=window, min_days=min_days,
                               min_volume=min_volume, z=z, guard=guard)  # fmt: skip
    return found.drop(columns="grp").reset_index(drop=True)


def robust_changes_all(frame: pd.DataFrame, *, window: int = 28, min_days: int = 7,
                       min_volume: float = 5, z: float = 4.0, guard: int = 0) -> pd.DataFrame:  # fmt: skip
    """`robust_changes` for many subjects at once (`frame`: grp, day, value, n), as array
    operations: each subject's days are laid on one calendar, and every day's baseline window
    is a slice of a sliding-window view, so medians and MADs are taken in one call per block
    of subjects, not in a Python loop per day."""
    columns = ["grp", "day", "value", "baseline", "spread", "z"]
    f = frame.dropna(subset=["day"])
    if f.empty:
        return pd.DataFrame(columns=columns)
    days = pd.to_datetime(f["day"]).dt.normalize()
    first = days.min()
    col = ((days - first).dt.days).to_numpy()
    span = int(col.max()) + 1
    subjects, row = np.unique(f["grp"].astype(str).to_numpy(), return_inverse=True)
    values = f["value"].to_numpy(dtype=float)
    usable = (f["n"].to_numpy(dtype=float) >= min_volume) & ~np.isnan(values)
    grid = np.full((len(subjects), span), np.nan)
    grid[row[usable], col[usable]] = values[usable]
    lead = window + guard  # days before the first day that a baseline may reach
    out = []
    for block in range(0, len(subjects), CHUNK):
        part = grid[block : block + CHUNK]
        padded = np.concatenate([np.full((len(part), lead), np.nan), part], axis=1)
        # Window of day i: padded columns i .. i + window − 1 (calendar days i − lead … i − guard − 1).
        past = np.lib.stride_tricks.sliding_window_view(padded, window, axis=1)[:, :span]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # windows with no usable day
            med = np.nanmedian(past, axis=2)
            mad = np.nanmedian(np.abs(past - med[:, :, None]), axis=2)
        count = np.sum(~np.isnan(past), axis=2)
        spread = np.maximum(np.maximum(1.4826 * mad, 0.05 * np.abs(med)), 1e-9)
        score = (part - med) / spread
        hit = ~np.isnan(part) & (count >= min_days) & (np.abs(score) >= z)
        r, c = np.nonzero(hit)
        out.append(pd.DataFrame({
            "grp": subjects[block + r], "day": (first + pd.to_timedelta(c, unit="D")).date,
            "value": part[r, c], "baseline": med[r, c], "spread": spread[r, c], "z": score[r, c],
        }))  # fmt: skip
    return pd.concat(out, ignore_index=True)[columns].sort_values(["grp", "day"], ignore_index=True)


def _runs(flags: pd.DataFrame) -> pd.DataFrame:
    """Consecutive days (a gap of at most 2 days) of one subject in the same direction form
    one run. `flags`: grp, day, value, baseline, spread, z, sorted by grp and day. Returns one
    row per run, in that order: its first day's numbers, its last day and its length, found
    with column operations over every subject at once."""
    f = flags.reset_index(drop=True)
    if f.empty:
        return f.assign(last_day=f["day"], days=0)
    day = pd.to_datetime(f["day"])
    up = f["z"] > 0
    new = ((f["grp"] != f["grp"].shift()) | ((day - day.shift()).dt.days > 2)
           | (up != up.shift()))  # fmt: skip
    run = new.cumsum()
    grouped = f.groupby(run, sort=False)
    first = f[new.to_numpy()].reset_index(drop=True)
    first["last_day"] = grouped["day"].last().to_numpy()
    first["days"] = grouped.size().to_numpy()
    return first


def _span(rule: dict, start: dt.date, end: dt.date) -> tuple:
    """(subjects, grain, first day, end) of the KPI values a rule reads."""
    by = "agent" if rule["scope"] == "agent" else "team"
    if rule["kind"] == "sudden_change":  # the baseline needs the days before the lookback too
        return by, "day", start - dt.timedelta(days=int(rule.get("window", 28)) + 7), end
    return by, rule.get("period", "week"), start, end


class _Values:
    """The KPI values the rules read, computed once per span for all the KPIs read over it:
    rules over the same subjects, grain and days share one pass over the data."""

    def __init__(self, con, rules: list[dict], start: dt.date, end: dt.date) -> None:
        self.con, self.start, self.end = con, start, end
        self.wanted: dict[tuple, list[str]] = {}
        for rule in rules:
            if rule["kind"] in ("sudden_change", "breach"):
                ids = self.wanted.setdefault(_span(rule, start, end), [])
                ids += [] if rule["kpi"] in ids else [rule["kpi"]]
        self.found: dict[tuple, pd.DataFrame] = {}
        self.days: dict[tuple, int] = {}

    def data_days(self, first: dt.date, end: dt.date) -> int:
        """How many days in [first, end) hold rows of any dated table: a cheap bound on how
        many days any subject can have a value on (rules over the same days ask once)."""
        if (first, end) not in self.days:
            self.days[(first, end)] = _data_days(self.con, first, end)
        return self.days[(first, end)]

    def of(self, rule: dict) -> pd.DataFrame:
        span = _span(rule, self.start, self.end)
        if span not in self.found:
            by, grain, first, end = span
            self.found[span] = kpis.compute(self.con, first, end, by=by, grain=grain,
                                            kpi_ids=self.wanted[span])  # fmt: skip
        frame = self.found[span]
        return frame[frame["kpi"] == rule["kpi"]].reset_index(drop=True)


def _data_days(con, first: dt.date, end: dt.date) -> int:
    cur = con.cursor()
    dated = {name: table.dated_by for name, table in TABLES.items() if table.dated_by}
    by_day = {n: c for n, c in dated.items() if TABLES[n].column(c).kind in ("date", "timestamp")}
    if any(cur.execute(f"SELECT 1 FROM {store.quote_ident(n)} LIMIT 1").fetchall()
           for n in dated if n not in by_day):  # fmt: skip
        return 1 << 30  # rows dated by a label (a peer-review period): no bound from days
    parts = [f"SELECT DISTINCT CAST({store.quote_ident(c)} AS DATE) AS d FROM {store.quote_ident(n)} "
             f"WHERE {store.quote_ident(c)} >= $first AND {store.quote_ident(c)} < $end"
             for n, c in by_day.items()]  # fmt: skip
    sql = f"SELECT count(DISTINCT d) FROM ({' UNION ALL '.join(parts)})"
    return int(cur.execute(sql, {"first": first, "end": end}).fetchone()[0])


def _sudden(values: _Values, rule: dict, start: dt.date) -> list[dict]:
    kpi = kpis.load_catalogue().get(rule["kpi"])
    _, _, first, end = _span(rule, start, values.end)
    if values.data_days(first, end) <= int(rule.get("min_days", 7)):
        return []  # a change needs min_days of baseline before the day: no subject has them yet
    frame = values.of(rule)
    every = robust_changes_all(frame.rename(columns={"bucket": "day"})[["grp", "day", "value", "n"]],
                               window=int(rule.get("window", 28)), min_days=int(rule.get("min_days", 7)),
                               min_volume=float(rule.get("min_volume", 5)), z=float(rule.get("z", 4)),
                               guard=int(rule.get("persist", 2)) - 1)  # fmt: skip
    every = every[every["day"] >= start]
    worse = (every["z"] > 0) != kpi.higher_is_better
    wanted = rule.get("direction", "both")
    flags = every[worse] if wanted == "worse" else every[~worse] if wanted == "better" else every
    runs = _runs(flags)
    runs = runs[runs["days"] >= int(rule.get("persist", 2))]  # a one-day blip is not a change
    return [{"subject": g, "first_day": d, "last_day": last, "value": float(v),
             "baseline": float(b), "threshold": None, "kpi": kpi.id,
             "detail": {"z": round(float(z), 1), "days": int(n), "spread": round(float(sp), 4),
                        "direction": "worse" if (z > 0) != kpi.higher_is_better else "better"}}
            for g, d, last, v, b, z, n, sp in zip(runs["grp"], runs["day"], runs["last_day"],
                                                  runs["value"], runs["baseline"], runs["z"],
                                                  runs["days"], runs["spread"])]  # fmt: skip


def _breach(values: _Values, rule: dict, end: dt.date) -> list[dict]:
    """Complete weeks or months whose value is past the rule's limit, found with column
    operations over every subject and period at once."""
    grain = rule.get("period", "week")
    frame = values.of(rule)
    frame = frame[frame["value"].notna() & frame["bucket"].notna()
                  & (frame["n"].fillna(0) >= float(rule.get("min_n", 1)))]  # fmt: skip
    if frame.empty:
        return []
    first = pd.to_datetime(frame["bucket"])
    last = first + (pd.DateOffset(weeks=1) if grain == "week" else pd.DateOffset(months=1))
    above, below = rule.get("above"), rule.get("below")
    past = frame["value"] > above if above is not None else frame["value"] < below
    hit = past & (last.dt.date <= end)  # only complete weeks or months
    limit = float(above if above is not None else below)
    return [{"subject": g, "first_day": f.date(), "last_day": (to - pd.Timedelta(days=1)).date(),
             "value": float(v), "baseline": None, "kpi": rule["kpi"], "threshold": limit,
             "detail": {"n": int(n), "period": grain}}
            for g, f, to, v, n in zip(frame["grp"][hit], first[hit], last[hit],
                                      frame["value"][hit], frame["n"][hit])]  # fmt: skip


def _backlog(con, rule: dict, as_of: dt.datetime) -> list[dict]:
    """Per agent, over tickets created in the last `window_days`: open tickets above
    `max_open`, and tickets still unreplied after `sla_hours` above `max_unreplied`."""
    # Only tickets whose export says whether they were resolved (or answered) can be open
    # (or unreplied): an export without those columns is no backlog.
    known_open = coverage.covered(con, "tickets", (("resolved_at", "status"),))
    known_reply = coverage.covered(con, "tickets", ("first_response_at",))
    rows = (
        con.cursor()
        .execute(
            f"""SELECT agent,
                  count(*) FILTER (WHERE resolved_at IS NULL
                                   AND coalesce(lower(status), '') NOT IN ('closed', 'solved', 'resolved')
                                   AND {coverage.filter_sql("upload_id", "open_uploads")}) AS open,
                  count(*) FILTER (WHERE first_response_at IS NULL
                                   AND created_at <= $as_of - to_hours($hours)
                                   AND {coverage.filter_sql("upload_id", "reply_uploads")}) AS overdue
           FROM tickets WHERE created_at <= $as_of AND created_at > $as_of - to_days($days)
           GROUP BY agent""",
            {
                "as_of": as_of,
                "hours": int(rule.get("sla_hours", 24)),
                "days": int(rule.get("window_days", 14)),
                "open_uploads": coverage.every_upload(con, "tickets", known_open),
                "reply_uploads": coverage.every_upload(con, "tickets", known_reply),
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


def _window(con, config: dict, as_of: dt.datetime | None = None):
    """(last ticket time, first day, end day) of the lookback; None for a store without tickets."""
    last = as_of or con.cursor().execute("SELECT max(created_at) FROM tickets").fetchone()[0]
    if last is None:
        return None
    end = last.date() + dt.timedelta(days=1)
    return last, end - dt.timedelta(days=int(config.get("lookback_days", 90))), end


def evaluate(con, config: dict | None = None, as_of: dt.datetime | None = None,
             agents: set[str] | None = None) -> pd.DataFrame:  # fmt: skip
    """Every finding of every rule over the lookback, as alert rows (not stored). With
    `agents`, only the findings about them and their teams (what an upload of their rows can
    change); backlog rules, one query for everyone, always look at every agent."""
    config = config or load(con)
    window = _window(con, config, as_of)
    if window is None:
        return pd.DataFrame(columns=COLUMNS)
    last, start, end = window
    teams = None
    if agents is not None:
        known = kpis.agent_teams(con)
        teams = set(known.loc[known["agent"].isin(agents), "team"].dropna()) | {"—"}
    rows = []
    values = _Values(con, config.get("rules") or [], start, end)
    for rule in config.get("rules") or []:
        if rule["kind"] == "sudden_change":
            found = _sudden(values, rule, start)
        elif rule["kind"] == "breach":
            found = _breach(values, rule, end)
        else:
            found = _backlog(con, rule, last)
        if agents is not None and rule["kind"] != "backlog":
            wanted = agents if rule["scope"] == "agent" else teams
            found = [f for f in found if f["subject"] in wanted]
        for f in found:
            what = f["detail"].get("what", "")
            rows.append({**f, "rule": rule["id"], "kind": rule["kind"], "severity": rule["severity"],
                         "scope": rule["scope"], "agent": f["subject"] if rule["scope"] == "agent" else None,
                         "alert_key": f"{rule['id']}|{what}|{f['subject']}|{f['first_day']}",
                         "detail": json.dumps(f["detail"], ensure_ascii=False)})  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)


def _meta(con, key: str) -> str | None:
    row = con.cursor().execute("SELECT value FROM schema_meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def touched_agents(con, uploads: list[int]) -> set[str]:
    """The agents whose rows these uploads wrote (new or changed rows carry the upload's id)."""

    parts = " UNION ".join(f"SELECT agent FROM {store.quote_ident(n)} WHERE upload_id IN "
                           "(SELECT unnest($ids))" for n in TABLES if TABLES[n].has("agent"))  # fmt: skip
    rows = con.cursor().execute(parts, {"ids": list(uploads)}).fetchall()
    return {r[0] for r in rows if r[0] is not None}


def refresh(con, viewer: access.Viewer, config: dict | None = None, force: bool = False,
            uploads: list[int] | None = None) -> int:  # fmt: skip
    """Store new findings when the data changed since the last run; returns how many are new.
    A finding already stored keeps its status; its last day and numbers are brought up to date.

    With `uploads` (the ids of the uploads since the last refresh), only the agents those
    uploads touched, and their teams, are evaluated again, as long as nothing else changed the
    data and the lookback did not move (a new last day moves every agent's window, so then
    everyone is evaluated). It follows writes, so the viewer must be one who may upload
    (`access.SYSTEM` for jobs and the warm-up)."""
    access.require(viewer, "upload")
    version = store.data_version(con)
    done = _meta(con, "alerts_version")
    if done is not None and int(done) == version and not force:
        return 0
    config = config or load(con)
    window = _window(con, config)
    end = str(window[2]) if window else ""
    agents = None
    if (uploads and not force and done is not None and int(done) == version - len(uploads)
            and _meta(con, "alerts_end") == end):  # fmt: skip
        agents = touched_agents(con, uploads)
    found = evaluate(con, config, agents=agents)

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
        cur.execute("INSERT OR REPLACE INTO schema_meta VALUES ('alerts_end', ?)", [end])
        return cur.execute("SELECT count(*) FROM alerts").fetchone()[0] - before

    return store.write(con, work, bump=False)


def feed(
    con,
    viewer: access.Viewer,
    *,
    status: str | None = None,
    agent: str | None = None,
    team: str | None = None,
) -> pd.DataFrame:
    """Stored alerts, newest first; agents see only alerts about themselves. With `team`, only
    the alerts about its agents and about the team itself."""
    if agent:
        access.require_agent(viewer, agent)
    sql, params = "SELECT * FROM alerts WHERE true", []
    if status:
        sql += " AND status = ?"
        params.append(status)
    if team:
        members = kpis.agent_teams(con)
        sql += " AND ((scope = 'team' AND subject = ?) OR (scope <> 'team' AND agent IN (SELECT unnest(?))))"
        params += [team, list(members.loc[members["team"] == team, "agent"])]
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
            raise errors.ConflictError(
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
