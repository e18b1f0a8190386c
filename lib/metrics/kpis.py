"""The KPI catalogue (config/kpis.yaml) and the engine that computes KPIs in DuckDB.

`load_catalogue` reads the YAML into typed objects and checks it with named rules.
`compute` returns, for a period, one row per group (agent or team, optionally per day, week or
month) and KPI: the value, its 95 % interval, the sample size, numerator and denominator, and
for times the median, mean and P90. Each source table is read once per call, with every KPI
that uses it in the same query; a KPI takes, for each group and bucket, the first of its
sources that has data for it, and says which (a team whose agents draw on different sources
pools its agents). Results are cached by store and data version, so a change of weights
never recomputes from raw rows, and any upload invalidates the cache. Time-based KPIs measure
with `service_seconds(a, b)` (lib/metrics/hours.py): elapsed seconds, or service hours only when the
caller passes the shop's service hours, which are then part of the cache key.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from lib.auth import access
from lib.core import store, yamlio
from lib.core.errors import CatalogueError
from lib.core.paths import ROOT, sql_file
from lib.core.store import quote_ident
from lib.core.tables import TABLES
from lib.metrics import coverage, hours
from lib.metrics.sentiment import stored

CATALOGUE = ROOT / "config" / "kpis.yaml"
KINDS = ("rate", "ratio", "duration", "mean", "sum")
Z = 1.959963984540054  # 95 %

# Relations KPI SQL can read: canonical tables and derived ones (lib/sql/<name>.sql),
# each with the column that dates its rows.
# The relations KPIs read and the column that dates their rows: the stored tables as declared in
# `lib.core.tables`, and the derived ones (lib/sql).
RELATIONS = {
    **{
        name: TABLES[name].dated_by
        for name in ("tickets", "csat_responses", "orders", "agent_daily", "qa_reviews")
    },
    "qa_review_scores": "reviewed_at",
    "peer_review_scores": "period_start",
    "ticket_comments": "created_at",
    "notes": "created_at",
}
DERIVED = {"qa_review_scores", "peer_review_scores", "ticket_comments"}
WITH_CHANNEL = {"tickets", "ticket_comments"}  # relations with a channel column
# Relations without one get it for per-channel KPIs: rows that name a ticket take the ticket's
# channel ('—' when it is not stored), and per-agent daily reports come from chat platforms
# (千牛, 飞鸽, 京东咚咚). Peer reviews and notes are about the agent, not a channel.
CHANNEL_VIA_TICKET = {"csat_responses", "orders", "qa_reviews", "qa_review_scores"}
CHANNEL_CONSTANT = {"agent_daily": "chat"}
SPLIT_BY_CHANNEL = WITH_CHANNEL | CHANNEL_VIA_TICKET | set(CHANNEL_CONSTANT)
GROUPS = {
    "agent": "r.agent",
    "team": "coalesce(tm.team, '—')",
    "channel": "coalesce(r.channel, '—')",
    "shop": "r.platform || '|' || r.shop",
}
# Relations whose rows belong to a shop (lib.core.tables.SHOP_TABLES and what is derived from
# them): the shop filter and the per-shop breakdown read these. QA and peer reviews, and
# notes, are about the person and count in every shop.
WITH_SHOP = {"tickets", "csat_responses", "orders", "agent_daily", "ticket_comments"}


# Daily rows of the same account inside a period report's days (r is the report's row).
DAILY_COVERS = """SELECT 1 FROM agent_daily d WHERE d.period_end IS NULL
    AND d.platform = r.platform AND d.shop = r.shop AND d.account = r.account
    AND d.date BETWEEN r.date AND r.period_end"""


@dataclass(frozen=True)
class Source:
    table: str
    numerator: str | None = None
    denominator: str | None = None
    total: str | None = None
    sample: str | None = None
    value: str | None = None
    where: str | None = None
    weight: str | None = None
    sql: str | None = None
    # Columns the rows must come with (a tuple: any one of them), and columns read when present.
    inputs: tuple = ()
    optional: tuple = ()

    def expressions(self) -> list[str]:
        return [str(v) for v in (self.numerator, self.denominator, self.total, self.sample,
                                 self.value, self.where, self.weight, self.sql) if v]  # fmt: skip


@dataclass(frozen=True)
class KPI:
    id: str
    zh: str
    en: str
    description: dict
    dimension: str
    kind: str
    direction: str
    min_sample: int
    sources: tuple[Source, ...]
    unit: str = ""
    drilldown: dict | None = None  # {"where": …, "order": …} on tickets
    service_hours: bool = False  # its times can count only service hours (service_seconds)
    # The agent_daily column in which a platform's reference rows (同行同层优秀/均值) give this
    # KPI, so a team can be set against peers of its tier.
    benchmark: str = ""

    def label(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else self.en

    def describe(self, lang: str = "en", calendar: hours.ServiceHours | None = None) -> str:
        """The description, saying whether its times count calendar time or service hours."""
        text = self.description[lang]
        if not self.service_hours:
            return text
        if calendar is None:
            return text + ("（按日历时间计）" if lang == "zh" else " (calendar time)")
        note = calendar.describe(lang)
        return text + (f"（{note}）" if lang == "zh" else f" ({note})")

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher"


@dataclass(frozen=True)
class Catalogue:
    dimensions: dict
    kpis: dict  # id → KPI, in catalogue order
    macros: dict = field(default_factory=dict)

    def get(self, kpi_id: str) -> KPI:
        return self.kpis[kpi_id]


def _expand(sql: str | None, macros: dict) -> str | None:
    if sql is None:
        return None
    return re.sub(r"@(\w+)", lambda m: macros.get(m.group(1), m.group(0)), str(sql))


def check(data: dict) -> list[tuple[str, str]]:
    """Named rules for the catalogue; returns (rule, message) for each broken one."""
    problems = []
    dims = data.get("dimensions") or {}
    macros = data.get("macros") or {}
    seen = set()
    for i, k in enumerate(data.get("kpis") or []):
        kid = k.get("id") or f"#{i + 1}"
        if kid in seen:
            problems.append(("kpi.unique_id", f"KPI id '{kid}' is used twice"))
        seen.add(kid)
        for lang in ("zh", "en"):
            if not str(k.get(lang) or "").strip():
                problems.append(("kpi.has_labels", f"{kid}: no {lang} label"))
            if not str((k.get("description") or {}).get(lang) or "").strip():
                problems.append(("kpi.has_description", f"{kid}: no {lang} description"))
        if k.get("dimension") not in dims:
            problems.append(
                ("kpi.dimension_known", f"{kid}: unknown dimension '{k.get('dimension')}'")
            )
        kind = k.get("kind")
        if kind not in KINDS:
            problems.append(("kpi.kind_known", f"{kid}: kind must be one of {', '.join(KINDS)}"))
        if k.get("direction") not in ("higher", "lower"):
            problems.append(("kpi.direction_known", f"{kid}: direction must be higher or lower"))
        if not isinstance(k.get("min_sample"), int) or k["min_sample"] < 1:
            problems.append(("kpi.min_sample", f"{kid}: min_sample must be a whole number ≥ 1"))
        sources = k.get("sources") or []
        if not sources:
            problems.append(("kpi.has_sources", f"{kid}: no sources"))
        for s in sources:
            table = s.get("table")
            if table not in RELATIONS:
                problems.append(("source.table_known", f"{kid}: unknown table '{table}'"))
            needs = {
                "rate": ("numerator", "denominator"),
                "ratio": ("numerator", "denominator"),
                "sum": ("total", "sample"),
                "duration": ("value",),
                "mean": ("value",),
            }.get(kind, ())
            if not s.get("sql") and any(not s.get(f) for f in needs):
                problems.append(
                    ("source.fields_for_kind",
                     f"{kid} ({table}): a {kind} needs {' and '.join(needs)}")
                )  # fmt: skip
            if s.get("sql") and kind != "rate":
                problems.append(
                    ("source.sql_rate_only", f"{kid}: a whole-query source is for rates")
                )
            for text in s.values():
                for name in re.findall(r"@(\w+)", str(text)):
                    if name not in macros:
                        problems.append(("source.macro_known", f"{kid}: unknown macro @{name}"))
            problems += _check_inputs(kid, s, macros)
        bench = k.get("benchmark")
        if bench and not TABLES["agent_daily"].has(str(bench)):
            problems.append(("kpi.benchmark_column", f"{kid}: benchmark '{bench}' is not a "
                             "column of agent_daily"))  # fmt: skip
        uses = any("service_seconds(" in str(v) for s in sources for v in s.values())
        if uses != bool(k.get("service_hours")):
            problems.append(("kpi.service_hours_declared", f"{kid}: a KPI whose SQL uses "
                             "service_seconds says service_hours: true, and only such a KPI"))  # fmt: skip
    return problems


def _flat(inputs) -> list[str]:
    return [c for need in inputs or [] for c in (need if isinstance(need, list) else [need])]


def _check_inputs(kid: str, source: dict, macros: dict) -> list[tuple[str, str]]:
    """Inputs name columns of the source's table, and every column a source reads that an
    export may lack is declared as an input or as optional (so missing data is never zero)."""
    table = coverage.base_table(str(source.get("table")))
    declared = _flat(source.get("inputs")) + _flat(source.get("optional"))
    if table is None:
        if declared:
            return [("source.inputs_uploaded", f"{kid} ({source.get('table')}): inputs are "
                     "only for tables filled by uploads")]  # fmt: skip
        return []
    spec = TABLES[table]
    problems = [("source.inputs_known", f"{kid} ({table}): no column '{c}' in {table}")
                for c in declared if not spec.has(c)]  # fmt: skip
    fields = ("numerator", "denominator", "total", "sample", "value", "where", "weight", "sql")
    text = " ".join(str(_expand(source.get(f), macros)) for f in fields if source.get(f))
    for col in spec.stored:
        if col.required or col.name in declared or col.name == "upload_id":
            continue
        if re.search(rf"\b{re.escape(col.name)}\b", text):
            problems.append(("source.inputs_declared", f"{kid} ({table}): reads '{col.name}' "
                             "but declares it neither as an input nor as optional"))  # fmt: skip
    return problems


def _build(data: dict) -> Catalogue:
    macros = {k: str(v) for k, v in (data.get("macros") or {}).items()}
    kpis = OrderedDict()
    for k in data["kpis"]:
        sources = tuple(
            Source(**{f: _source_field(f, v, macros) for f, v in s.items()}) for s in k["sources"]
        )
        drill = k.get("drilldown")
        if drill:
            drill = {key: _expand(v, macros) for key, v in drill.items()}
        kpis[k["id"]] = KPI(
            k["id"], k["zh"], k["en"], k["description"], k["dimension"], k["kind"],
            k["direction"], k["min_sample"], sources, k.get("unit", ""), drill,
            bool(k.get("service_hours")), str(k.get("benchmark") or ""),
        )  # fmt: skip
    return Catalogue(data["dimensions"], dict(kpis), macros)


def _source_field(name: str, value, macros: dict):
    if name in ("inputs", "optional"):
        return tuple(tuple(v) if isinstance(v, list) else v for v in value or ())
    return value if name == "table" else _expand(value, macros)


@lru_cache(maxsize=4)
def load_catalogue(path: Path = CATALOGUE) -> Catalogue:
    data = yamlio.load(Path(path).read_text(encoding="utf-8"))
    problems = check(data)
    if problems:
        raise CatalogueError(problems)
    return _build(data)


def check_sql(catalogue: Catalogue) -> list[tuple[str, str]]:
    """Run every source's SQL on an empty store: unknown tables or columns are reported."""
    import duckdb

    con = duckdb.connect()
    store.migrate(con, ":memory:")
    hours.install(con, hours.parse("08:00-23:00", ["2026-01-01"]))  # the longer of the two forms
    con.register("__sentiment", pa.table({"comment": pa.array([], pa.string()),
                                           "sentiment": pa.array([], pa.string())}))  # fmt: skip
    problems = []
    for kpi in catalogue.kpis.values():
        for i, source in enumerate(kpi.sources):
            try:
                if source.sql:
                    _run_custom(con, kpi, i, _params_for_check(), "agent")
                else:
                    _run_relation(con, [(kpi, i)], source.table, _params_for_check(), "agent")
            except duckdb.Error as exc:
                first = str(exc).splitlines()[0]
                problems.append(("source.sql_valid", f"{kpi.id} ({kpi.sources[i].table}): {first}"))
        if kpi.drilldown:
            try:
                drilldown(
                    con,
                    access.SYSTEM,
                    kpi,
                    "A",
                    _params_for_check()["start"],
                    _params_for_check()["end"],
                )
            except duckdb.Error as exc:
                problems.append(("kpi.drilldown_valid", f"{kpi.id}: {str(exc).splitlines()[0]}"))
    return problems


DRILL_COLUMNS = ["ticket_id", "created_at", "first_response_at", "resolved_at", "channel",
                 "priority", "status", "customer_id", "category", "csat", "is_complaint",
                 "transferred", "escalated", "comment"]  # fmt: skip


def drilldown(con, viewer: access.Viewer, kpi: KPI, agent: str, start, end,
              limit: int = 200) -> pd.DataFrame:  # fmt: skip
    """The agent's tickets in [start, end) that explain a KPI (e.g. CSAT below 4); agents may
    open only their own."""
    access.require_agent(viewer, agent)
    if not kpi.drilldown:
        return pd.DataFrame(columns=DRILL_COLUMNS)
    cols = ", ".join(DRILL_COLUMNS)
    sql = (f"SELECT {cols} FROM tickets WHERE agent = $agent AND created_at >= $start "
           f"AND created_at < $end AND ({kpi.drilldown['where']}) "
           f"ORDER BY {kpi.drilldown.get('order') or 'created_at'} LIMIT {int(limit)}")  # fmt: skip
    params = {"agent": agent, "start": start, "end": end}
    if "$as_of" in sql:
        params["as_of"] = con.cursor().execute(
            "SELECT coalesce(max(created_at), now()::TIMESTAMP) FROM tickets").fetchone()[0]  # fmt: skip
    return con.cursor().execute(sql, params).df()


def _params_for_check() -> dict:
    import datetime as dt

    return {"start": dt.date(2026, 1, 1), "end": dt.date(2026, 2, 1), "team": None,
            "grain": None, "as_of": dt.datetime(2026, 2, 1)}  # fmt: skip


# ---------------------------------------------------------------- computation


@lru_cache(maxsize=16)
def _relation_sql(table: str) -> str:
    return f"({sql_file(table)})" if table in DERIVED else quote_ident(table)


def counted(table: str, grain: str | None = None) -> str:
    """The condition (on alias r) a period report's rows meet to count: the period (and trend
    bucket) contains all of the report, and the account's daily rows do not already cover its
    days (the detail wins). Empty for tables without period reports."""
    if table != "agent_daily":
        return ""
    inside = "r.period_end < $end"
    if grain:
        inside += f" AND date_trunc('{grain}', r.period_end) = date_trunc('{grain}', r.date)"
    return f" AND (r.period_end IS NULL OR ({inside} AND NOT EXISTS ({DAILY_COVERS})))"


def _base_cte(table: str, params: dict, by: str) -> str:
    date_col = quote_ident(RELATIONS[table])
    grain = params.get("grain")
    bucket = f"date_trunc('{grain}', r.{date_col})::DATE" if grain else "NULL::DATE"
    grp, join = GROUPS[by], ""
    if by == "channel" and table in CHANNEL_VIA_TICKET:
        grp = "coalesce(ch.channel, '—')"
        join = "LEFT JOIN (SELECT ticket_id, channel FROM tickets) ch ON ch.ticket_id = r.ticket_id"
    elif by == "channel" and table in CHANNEL_CONSTANT:
        grp = f"'{CHANNEL_CONSTANT[table]}'"
    team = "AND tm.team = $team" if params.get("team") else ""
    if params.get("agent") is not None:
        team += " AND r.agent = $agent"
    if params.get("shops") is not None and table in WITH_SHOP:
        team += " AND r.platform || '|' || r.shop IN (SELECT unnest($shops::VARCHAR[]))"
    team += counted(table, grain)
    # Rows that cannot be attributed to an agent are never scored; rows of uploads that
    # lack a source's inputs are left out when a coverage list is bound ($cov).
    cov = f"AND {coverage.filter_sql('r.upload_id')}" if params.get("cov") is not None else ""
    return f"""agent_teams AS ({sql_file("agent_teams")}),
        base AS (
            SELECT r.*, {grp} AS grp, {bucket} AS bucket
            FROM {_relation_sql(table)} r LEFT JOIN agent_teams tm ON tm.agent = r.agent {join}
            WHERE r.{date_col} >= $start AND r.{date_col} < $end AND r.agent IS NOT NULL
              {team} {cov}
        )"""


def _columns(kpi: KPI, source: Source, key: str) -> tuple[list[str], list[str]]:
    """Inner aggregate columns and outer select columns for one KPI source."""
    q = lambda s: quote_ident(f"{key}|{s}")  # noqa: E731
    if kpi.kind in ("rate", "ratio"):
        sample = source.sample or "count(*)"
        inner = [f"({source.numerator})::DOUBLE AS {q('num')}",
                 f"({source.denominator})::DOUBLE AS {q('den')}",
                 f"({sample if kpi.kind == 'ratio' else source.denominator})::DOUBLE AS {q('n')}"]  # fmt: skip
        return inner, [q("num"), q("den"), q("n")]
    if kpi.kind == "sum":
        inner = [
            f"({source.total})::DOUBLE AS {q('num')}",
            f"({source.sample})::DOUBLE AS {q('n')}",
        ]
        return inner, [q("num"), q("n")]
    value = f"({source.value})::DOUBLE"
    cond = f"({source.where}) AND {value} IS NOT NULL" if source.where else f"{value} IS NOT NULL"
    if source.weight:
        w = f"({source.weight})::DOUBLE"
        cond += f" AND {w} > 0"
        inner = [f"sum({value} * {w}) FILTER (WHERE {cond}) / nullif(sum({w}) FILTER (WHERE {cond}), 0) AS {q('mean')}",
                 f"sum({w}) FILTER (WHERE {cond}) AS {q('n')}"]  # fmt: skip
        return inner, [q("mean"), q("n")]
    inner = [
        f"count({value}) FILTER (WHERE {cond})::DOUBLE AS {q('n')}",
        f"avg({value}) FILTER (WHERE {cond}) AS {q('mean')}",
        f"stddev_samp({value}) FILTER (WHERE {cond}) AS {q('sd')}",
    ]
    outer = [q("n"), q("mean"), q("sd")]
    if kpi.kind == "duration":
        n = q("n")
        inner += [
            f"quantile_cont({value}, 0.5) FILTER (WHERE {cond}) AS {q('median')}",
            f"quantile_cont({value}, 0.9) FILTER (WHERE {cond}) AS {q('p90')}",
            f"list_sort(list({value}) FILTER (WHERE {cond})) AS {q('vals')}",
        ]
        # 95 % interval of the median from order statistics.
        outer += [
            q("median"),
            q("p90"),
            f"list_extract({q('vals')}, greatest(1, floor({n} / 2 - {Z / 2} * sqrt({n})))::BIGINT) AS {q('lo')}",
            f"list_extract({q('vals')}, least({n}, ceil(1 + {n} / 2 + {Z / 2} * sqrt({n})))::BIGINT) AS {q('hi')}",
        ]  # fmt: skip
    return inner, outer


def _run_relation(cur, items: list[tuple[KPI, int]], table: str, params: dict, by: str):
    """One query over one relation for several KPI sources; returns a DataFrame."""
    inner, outer = ["grp", "bucket"], ["grp", "bucket"]
    for kpi, i in items:
        a, b = _columns(kpi, kpi.sources[i], f"{kpi.id}#{i}")
        inner += a
        outer += b
    sql = f"""WITH {_base_cte(table, params, by)},
        agg AS (SELECT {", ".join(inner)} FROM base GROUP BY grp, bucket)
        SELECT {", ".join(outer)} FROM agg"""
    return cur.execute(sql, _bind(sql, params)).df()


def _run_custom(cur, kpi: KPI, i: int, params: dict, by: str):
    source = kpi.sources[i]
    sql = f"""WITH {_base_cte(source.table, params, by)},
        custom AS ({source.sql})
        SELECT grp, bucket, num::DOUBLE AS "{kpi.id}#{i}|num",
               den::DOUBLE AS "{kpi.id}#{i}|den", den::DOUBLE AS "{kpi.id}#{i}|n" FROM custom"""
    return cur.execute(sql, _bind(sql, params)).df()


def _bind(sql: str, params: dict) -> dict:
    bound = {k: v for k, v in params.items() if f"${k}" in sql}
    if bound.get("cov") is not None:
        bound["cov"] = list(bound["cov"])
    return bound


def _sentiment_table(cur, params: dict) -> pa.Table:
    """Distinct comments of the period with their sentiment, for ticket_comments (each comment
    is classified once per model and lexicon version and kept in the store)."""

    texts = cur.execute(
        "SELECT DISTINCT comment FROM tickets WHERE comment IS NOT NULL "
        "AND created_at >= $start AND created_at < $end",
        {"start": params["start"], "end": params["end"]},
    ).fetchall()
    comments = [t[0] for t in texts]
    results = stored(cur, comments)
    labels = [results[c].label if c in results else "neutral" for c in comments]
    return pa.table({"comment": pa.array(comments, pa.string()),
                     "sentiment": pa.array(labels, pa.string())})  # fmt: skip


def wilson(num, den, z: float = Z):
    """95 % Wilson score interval for num/den (arrays); NaN where den is 0."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = num / den
        centre = (p + z * z / (2 * den)) / (1 + z * z / den)
        half = z * np.sqrt(p * (1 - p) / den + z * z / (4 * den * den)) / (1 + z * z / den)
    bad = ~(den > 0)
    lo = np.clip(centre - half, 0.0, 1.0)
    hi = np.clip(centre + half, 0.0, 1.0)
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


RESULT_COLUMNS = ["grp", "bucket", "kpi", "source", "source_i", "value", "lo", "hi", "n", "num",
                  "den", "median", "mean", "p90"]  # fmt: skip


def _kpi_rows(kpi: KPI, wide: pd.DataFrame, i: int) -> pd.DataFrame:
    """One KPI's result rows from its chosen source's aggregate columns."""
    prefix = f"{kpi.id}#{i}|"

    def col(name: str) -> np.ndarray | None:
        found = wide.get(prefix + name)
        return None if found is None else found.to_numpy(dtype=float)

    n = np.nan_to_num(col("n"))
    part = pd.DataFrame({"grp": wide["grp"], "bucket": wide["bucket"], "kpi": kpi.id,
                         "source": kpi.sources[i].table, "n": n})  # fmt: skip
    if kpi.kind in ("rate", "ratio"):
        num, den = col("num"), col("den")
        with np.errstate(invalid="ignore", divide="ignore"):
            part["value"] = np.where(den > 0, num / den, np.nan)
        part["num"], part["den"] = num, den
        if kpi.kind == "rate":
            part["lo"], part["hi"] = wilson(num, den)
        else:
            part["lo"] = part["hi"] = part["value"]
    elif kpi.kind == "sum":
        part["value"] = part["num"] = col("num")
        part["lo"] = part["hi"] = part["value"]
    else:
        mean = col("mean")
        part["mean"] = mean
        if kpi.kind == "duration" and col("median") is not None:
            part["value"] = part["median"] = col("median")
            part["p90"], part["lo"], part["hi"] = col("p90"), col("lo"), col("hi")
        elif kpi.kind == "mean" and col("sd") is not None:
            with np.errstate(invalid="ignore", divide="ignore"):
                half = Z * col("sd") / np.sqrt(n)
            part["value"], part["lo"], part["hi"] = mean, mean - half, mean + half
        else:  # a weighted mean of daily figures: no interval can be given
            part["value"] = part["lo"] = part["hi"] = mean
    return part[part["n"] > 0]


def _first_source_rows(kpi: KPI, wide: pd.DataFrame) -> pd.DataFrame:
    """A KPI's rows, each group (agent, team …) in each bucket from the first of the KPI's
    sources that has data for it there: an agent known only from a 千牛 report keeps that
    report's figures when others have tickets, and each row names its source (`source_i`: its
    place in the KPI's list)."""
    parts = [_kpi_rows(kpi, wide, i).assign(source_i=i) for i in range(len(kpi.sources))
             if f"{kpi.id}#{i}|n" in wide]  # fmt: skip
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=RESULT_COLUMNS)
    return rows.drop_duplicates(["grp", "bucket"], keep="first")


def _assemble(catalogue: Catalogue, wanted: list[str], frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f.set_index(["grp", "bucket"]) for f in frames if not f.empty]
    parts = []
    if frames:
        wide = pd.concat(frames, axis=1).reset_index()
        for kid in wanted:
            kpi = catalogue.get(kid)
            parts.append(_first_source_rows(kpi, wide))
    parts = [p for p in parts if not p.empty]
    result = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=RESULT_COLUMNS)
    for name in RESULT_COLUMNS:
        if name not in result:
            result[name] = np.nan
    return result[RESULT_COLUMNS]


def compute(
    con,
    start,
    end,
    *,
    by: str = "agent",
    team: str | None = None,
    grain: str | None = None,
    kpi_ids: list[str] | None = None,
    catalogue: Catalogue | None = None,
    service_hours: hours.ServiceHours | None = None,
    shops: list[str] | None = None,
    agent: str | None = None,
) -> pd.DataFrame:
    """KPI values for [start, end) per agent, team, channel or shop (and per day/week/month);
    with `service_hours`, the time-based KPIs count only those hours. `shops` (keys
    "platform|shop") keeps those shops' rows; `agent` keeps one person's. Rates over several
    shops combine their counts, so each shop weighs by its volume."""
    if by not in GROUPS:
        raise ValueError("by must be 'agent', 'team', 'channel' or 'shop'")
    if grain not in (None, "day", "week", "month"):
        raise ValueError("grain must be day, week or month")
    catalogue = catalogue or load_catalogue()
    wanted = list(kpi_ids or catalogue.kpis)
    # The cached value holds the catalogue, so its id names that very catalogue while cached.
    key = ("kpis", str(start), str(end), by, team, grain, tuple(wanted), id(catalogue),
           service_hours.key() if service_hours else None,
           None if shops is None else tuple(sorted(shops)), agent)  # fmt: skip

    def run():
        frame = _compute(con, start, end, by, team, grain, wanted, catalogue, service_hours,
                         shops, agent)  # fmt: skip
        if (
            by == "team"
            and agent is None
            and any(len(catalogue.get(k).sources) > 1 for k in wanted)
        ):
            agents = compute(con, start, end, team=team, grain=grain, kpi_ids=wanted,
                             catalogue=catalogue, service_hours=service_hours, shops=shops)  # fmt: skip
            frame = _with_every_agent(frame, agents, agent_teams(con), catalogue)
        return catalogue, frame

    return store.memo(con, key, run)[1].copy()


def _with_every_agent(teams: pd.DataFrame, agents: pd.DataFrame, members: pd.DataFrame,
                      catalogue: Catalogue) -> pd.DataFrame:  # fmt: skip
    """Team rows where a team's agents draw on different sources for a KPI (tickets for some,
    a 千牛 report for others) replaced by their agents' rows pooled — rates from summed counts,
    sums summed, times and means weighted by sample — so that no agent is left out of the
    team's figure. A KPI whose agents share one source keeps the team's own row (exact)."""
    if agents.empty:
        return teams
    team_of = members.set_index("agent")["team"]
    team = agents["grp"].map(team_of).astype(object)
    agents = agents.assign(grp=team.where(team.notna(), "—"))  # as the query's coalesce
    keys = ["kpi", "grp", "bucket"]
    mixed = agents.groupby(keys, dropna=False)["source_i"].transform("nunique") > 1
    if not mixed.any():
        return teams
    rows = []
    for (kid, grp, bucket), part in agents[mixed].groupby(keys, dropna=False):
        kpi = catalogue.get(kid)
        value = pooled_by(part, kpi, None)
        row = {"grp": grp, "bucket": bucket, "kpi": kid, "source_i": -1, "n": part["n"].sum(),
               "source": " + ".join(sorted(set(part["source"]))), "value": value,
               "lo": value, "hi": value}  # fmt: skip
        if kpi.kind in ("rate", "ratio"):
            row.update(num=part["num"].sum(), den=part["den"].sum())
            if kpi.kind == "rate":
                (row["lo"],), (row["hi"],) = wilson([row["num"]], [row["den"]])
        elif kpi.kind == "sum":
            row["num"] = value
        else:  # a time or a mean: no interval can be given for the pooled figure
            row.update(lo=np.nan, hi=np.nan, mean=(part["mean"] * part["n"]).sum() / row["n"])
        rows.append(row)
    # The pooled rows come last and replace the team's own.
    merged = pd.concat([teams, pd.DataFrame(rows)], ignore_index=True)
    return merged.drop_duplicates(keys, keep="last")[RESULT_COLUMNS].reset_index(drop=True)


def pooled_by(rows: pd.DataFrame, kpi: KPI, by: str | None):
    """One KPI's rows (one per team or agent) pooled into one value, or one per value of
    column `by` (a Series): rates from their summed numerators and denominators, sums summed,
    medians and means weighted by each row's sample."""
    rows = rows.assign(weighted=rows["value"] * rows["n"])
    grouped = rows.groupby(by) if by else rows
    if kpi.kind in ("rate", "ratio"):
        num, den = grouped["num"].sum(), grouped["den"].sum()
        return (num / den).where(den != 0) if by else (num / den if den else float("nan"))
    if kpi.kind == "sum":
        return grouped["value"].sum()
    return grouped["weighted"].sum() / grouped["n"].sum()


def _compute(con, start, end, by, team, grain, wanted, catalogue, service_hours, shops, agent):
    cur = con.cursor()
    hours.install(cur, service_hours)
    as_of = cur.execute(
        "SELECT coalesce(max(created_at), now()::TIMESTAMP) FROM tickets"
    ).fetchone()[0]
    params = {"start": start, "end": end, "team": team, "as_of": as_of, "grain": grain,
              "shops": None if shops is None else list(shops), "agent": agent}  # fmt: skip
    # Sources of one table that may read the same uploads share one query.
    by_table: dict[tuple[str, tuple | None], list[tuple[KPI, int]]] = {}
    frames = []
    for kid in wanted:
        kpi = catalogue.get(kid)
        for i, source in enumerate(kpi.sources):
            if by == "channel" and source.table not in SPLIT_BY_CHANNEL:
                continue
            if by == "shop" and source.table not in WITH_SHOP:
                continue
            cov = coverage.covered(con, source.table, source.inputs)
            if cov is not None and not cov:
                continue  # no upload supplied this source's inputs: no data, not zero
            cov = None if cov is None else tuple(cov)
            if source.sql:
                frames.append(_run_custom(cur, kpi, i, {**params, "cov": cov}, by))
            else:
                by_table.setdefault((source.table, cov), []).append((kpi, i))
    if any(table == "ticket_comments" for table, _ in by_table):
        cur.register("__sentiment", _sentiment_table(cur, params))
    for (table, cov), items in by_table.items():
        frames.append(_run_relation(cur, items, table, {**params, "cov": cov}, by))
    return _assemble(catalogue, wanted, frames)


def by_channel(catalogue: Catalogue) -> list[str]:
    """The KPIs that can be split by channel: those with a source that has or gets one."""
    return [k for k in catalogue.kpis
            if any(s.table in SPLIT_BY_CHANNEL for s in catalogue.get(k).sources)]  # fmt: skip


def agent_teams(con) -> pd.DataFrame:
    """Each agent's team (roster first); remembered until the data changes."""
    return store.memo(
        con, "agent_teams", lambda: con.cursor().execute(sql_file("agent_teams")).df()
    )


DURATION_UNITS = {"en": ("s", "min", "h"), "zh": ("秒", "分", "小时")}  # second, minute, hour


def duration_text(seconds: float, lang: str = "en") -> str:
    """A duration as people read it: 45 s, 2 min 09 s, 1.5 h — or 45 秒, 2 分 09 秒, 1.5 小时."""
    s, m, h = DURATION_UNITS.get(lang, DURATION_UNITS["en"])
    if seconds < 60:
        return f"{seconds:.0f} {s}"
    if seconds < 3600:
        return f"{int(seconds // 60)} {m} {int(seconds % 60):02d} {s}"
    return f"{seconds / 3600:.1f} {h}"


def format_value(kpi: KPI, value: float | None, lang: str = "en") -> str:
    """A KPI value as people read it: 93.5 %, 1 min 05 s (1 分 05 秒), ¥1,234, 4.2."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if kpi.kind == "rate" or kpi.unit == "share":
        return f"{value:.1%}"
    if kpi.kind == "duration":
        return duration_text(float(value), lang)
    if kpi.unit == "currency":
        return f"¥{value:,.0f}"
    if kpi.unit == "count":
        return f"{value:,.0f}"
    return f"{value:.1f}"


# ---------------------------------------------------------------- no data, and why


@dataclass(frozen=True)
class Gap:
    """Why a KPI has no value, or which rows it left out, in words a manager can act on."""

    kpi: str
    code: str  # no_column | no_rows | no_cases | partial
    table: str = ""
    columns: tuple[str, ...] = ()
    rows: int = 0  # rows left out (partial) or rows of the table in the period


def _rows_per_upload(con, relation: str, start, end) -> dict[int, int]:
    table = coverage.base_table(relation)
    date_col = quote_ident(RELATIONS.get(relation, RELATIONS.get(table or "", "created_at")))
    sql = (f"SELECT coalesce(r.upload_id, {coverage.NO_UPLOAD}), count(*) FROM {quote_ident(table)} r "
           f"WHERE r.{date_col} >= $start AND r.{date_col} < $end AND r.agent IS NOT NULL"
           f"{counted(table)} GROUP BY 1")  # fmt: skip
    return dict(con.cursor().execute(sql, {"start": start, "end": end}).fetchall())


def _relation_rows(con, relation: str, start, end) -> int:
    if relation == "ticket_comments":
        sql = "SELECT count(*) FROM tickets WHERE comment IS NOT NULL AND created_at >= $start AND created_at < $end"
    else:
        date_col = quote_ident(RELATIONS[relation])
        sql = (f"SELECT count(*) FROM {_relation_sql(relation)} r "
               f"WHERE r.{date_col} >= $start AND r.{date_col} < $end{counted(relation)}")  # fmt: skip
    return con.cursor().execute(sql, {"start": start, "end": end}).fetchone()[0]


def gaps(con, start, end, kpi_ids: list[str], values: pd.DataFrame | None = None,
         catalogue: Catalogue | None = None) -> list[Gap]:  # fmt: skip
    """For each KPI, why it has no value in [start, end) (`values` is `compute` output; the
    KPIs absent from it are explained), or how many rows it left out because their upload
    lacked an input (code 'partial')."""
    catalogue = catalogue or load_catalogue()
    if values is None:
        values = compute(con, start, end, kpi_ids=kpi_ids, catalogue=catalogue)
    used = dict(zip(values["kpi"], values["source"]))
    out = []
    for kid in kpi_ids:
        kpi = catalogue.get(kid)
        if kid in used:
            source = next((s for s in kpi.sources if s.table == used[kid]), None)
            gap = _partial(con, kpi, source, start, end) if source is not None else None
        else:
            gap = _why_none(con, kpi, start, end)
        if gap is not None:
            out.append(gap)
    return out


def _partial(con, kpi: KPI, source: Source, start, end) -> Gap | None:
    cov = coverage.covered(con, source.table, source.inputs)
    if cov is None:
        return None
    per_upload = _rows_per_upload(con, source.table, start, end)
    left = sum(n for u, n in per_upload.items() if u not in set(cov))
    if not left:
        return None
    table = coverage.base_table(source.table)
    lacking = coverage.missing_in(
        con, table, source.inputs, [u for u in per_upload if u not in cov]
    )
    return Gap(kpi.id, "partial", table, tuple(lacking), int(left))


def _why_none(con, kpi: KPI, start, end) -> Gap:
    tables = []
    for source in kpi.sources:
        table = coverage.base_table(source.table)
        if table is not None and source.inputs:
            per_upload = _rows_per_upload(con, source.table, start, end)
            if per_upload:
                lacking = coverage.missing_in(con, table, source.inputs, list(per_upload))
                if lacking:
                    return Gap(kpi.id, "no_column", table, tuple(lacking),
                               int(sum(per_upload.values())))  # fmt: skip
                return Gap(kpi.id, "no_cases", table)
        elif _relation_rows(con, source.table, start, end):
            return Gap(kpi.id, "no_cases", source.table)
        tables.append(table or source.table)
    return Gap(kpi.id, "no_rows", tables[0], tuple(dict.fromkeys(tables)))
