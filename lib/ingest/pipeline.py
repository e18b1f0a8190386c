"""Ingest an export into the store: read, map, parse, validate, upsert, quarantine, log.

One upload is one transaction. Rows that fail (a missing required value, an unreadable date,
a response before creation, a negative amount, a rating off the scale, a row with too many
cells, a key repeated with different values) go to the `quarantine` table with the file, the
source row number, the column and the reason; good rows are upserted by key, so re-uploading
a file or an overlapping export changes nothing that is already right. Every row read is
counted once: accepted (inserted or updated) + duplicates + quarantined == rows read. A file
that cannot be used at all raises `UnusableFile` and changes no stored data.

A CSV/TSV file is read, mapped, parsed and checked in batches of rows, each written straight
into its table inside the upload's transaction, under the number the upload will have (see
`_reserve_upload_id`); repeats of a key across batches and rows already stored are found
there, so memory does not grow with the file and each row is written once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
import json
import re
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lib.auth import access, audit
from lib.core import shops, store
from lib.core.errors import UnusableFile
from lib.core.store import quote_ident
from lib.ingest import reshape
from lib.ingest.mapping import DERIVED, Mapping, suggest_presets
from lib.ingest.reader import RawTable, SetAside, read_batches, read_table
from lib.ingest.validation import validate
from lib.ingest.values import parse_column

ARROW_TYPES = {
    "text": pa.string(),
    "int": pa.int64(),
    "timestamp": pa.timestamp("us"),
    "date": pa.date32(),
    "bool": pa.bool_(),
}

WHOLE_ROW = "(whole row)"  # the column of a problem with the whole row
NOTHING_STORED = "nothing stored"  # IngestResult.status when every row was set aside


@dataclass
class RowError:
    row: int
    column: str
    reason: str
    value: str | None = None


@dataclass
class IngestResult:
    file: str
    kind: str
    mapping: str
    status: str = "stored"
    message: str = ""
    upload_id: int | None = None
    rows_read: int = 0
    accepted: int = 0
    inserted: int = 0
    updated: int = 0
    duplicates: int = 0
    quarantined: int = 0
    skipped_rows: int = 0  # rows the mapping leaves out on purpose (skip_rows)
    errors: list[RowError] = field(default_factory=list)
    skipped: list[SetAside] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def skipped_by_reason(self, shown: int = 5) -> list[tuple[str, list[int], int]]:
        """Why lines were not counted as data: each reason, the row numbers of its first
        `shown` lines, and how many lines it covers."""
        rows: dict[str, list[int]] = {}
        for s in sorted(self.skipped, key=lambda s: s.row_number):
            rows.setdefault(s.reason, []).append(s.row_number)
        return [(reason, found[:shown], len(found)) for reason, found in sorted(rows.items())]

    def to_json(self, max_errors: int = 1000) -> dict:
        out = {
            "file": self.file,
            "status": self.status,
            "kind": self.kind,
            "mapping": self.mapping,
            "rows_read": self.rows_read,
            "accepted": self.accepted,
            "inserted": self.inserted,
            "updated": self.updated,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "skipped": self.skipped_rows,
            "skipped_lines": len(self.skipped),
            "skipped_lines_by_reason": [
                {"reason": reason, "rows": rows, "lines": count}
                for reason, rows, count in self.skipped_by_reason(max_errors)
            ],
            "errors": [
                {"row": e.row, "column": e.column, "reason": e.reason}
                for e in self.errors[:max_errors]
            ],
            "notes": self.notes,
        }
        if len(self.errors) > max_errors:
            out["errors_not_shown"] = len(self.errors) - max_errors
        if self.message:
            out["message"] = self.message
        return out

    def summary(self, max_errors: int = 5) -> str:
        lines = [
            f"{self.file}: {self.rows_read:,} rows read — {self.accepted:,} accepted "
            f"({self.inserted:,} new, {self.updated:,} updated), {self.duplicates:,} duplicates, "
            f"{self.quarantined:,} quarantined"
            + (
                f", {self.skipped_rows:,} set aside on purpose (summary rows, the mapping's "
                "skip_rows)"
                if self.skipped_rows
                else ""
            )
        ]
        if self.skipped:
            kinds = [f"{reason} (row{'s' if count > 1 else ''} {', '.join(map(str, rows))}"
                     f"{', …' if count > len(rows) else ''})"
                     for reason, rows, count in self.skipped_by_reason()]  # fmt: skip
            lines.append(f"  {len(self.skipped)} line(s) not counted as data: {'; '.join(kinds)}")
        lines += [f"  note: {n}" for n in self.notes]
        for e in self.errors[:max_errors]:
            value = f" (value: {e.value!r})" if e.value not in (None, "") else ""
            lines.append(f"  row {e.row}, column {e.column}: {e.reason}{value}")
        if len(self.errors) > max_errors:
            lines.append(f"  … and {len(self.errors) - max_errors:,} more in the quarantine report")
        return "\n".join(lines)


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _missing_message(name: str, mapping: Mapping, missing: list[str], headers: list[str]) -> str:
    wanted = "; ".join(
        f"{col} (expected header: {' or '.join(mapping.columns.get(col, [col]))})"
        for col in missing
    )
    shown = ", ".join(headers[:40]) + (" …" if len(headers) > 40 else "")
    text = (
        f"{name}: required column(s) missing for {mapping.kind} with mapping "
        f"'{mapping.name}': {wanted}. Headers found: {shown}."
    )
    if mapping.kind == "agent_daily" and "date" in missing:
        text += " " + PERIOD_HINT
    others = [p for p in suggest_presets(headers) if p != mapping.name]
    if others:
        text += f" This file looks like it fits the preset(s): {', '.join(others)}."
    return text


def _extract(arr: pa.Array, pattern: str) -> pa.Array:
    """Keep the first regex group where the pattern matches, the whole value elsewhere.
    Each distinct value is matched once (a column of agents holds few), then spread to the
    rows by position."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.string())
    distinct = pc.unique(arr)
    rx = re.compile(pattern)
    out = []
    for t in distinct.to_pylist():
        m = rx.search(t) if t else None
        out.append(m.group(1).strip() if m and m.group(1) is not None else t)
    return pc.take(pa.array(out, pa.string()), pc.index_in(arr, value_set=distinct))


@dataclass(frozen=True)
class Scope:
    """Where an upload's rows belong when the file does not say: the shop and platform, and
    for a period report (a file without a date column) the first and last day it covers."""

    shop: str | None = None
    platform: str | None = None
    period: tuple[dt.date, dt.date] | None = None


PERIOD_HINT = (
    "If this is a report for a period (no date column), say which period it covers: the upload "
    "page asks for it; the command line takes --period 2026-10 or --from/--to."
)


def scoped(mapping: Mapping, scope: Scope | None, headers: list[str]) -> tuple[Mapping, list[str]]:
    """The mapping with the scope's shop, platform and period as constants for the columns the
    file lacks (the file's own columns win), and notes on what was not used."""
    if scope is None:
        return mapping, []
    constants = dict(mapping.options.get("constants") or {})
    notes = []
    if scope.platform:
        constants["platform"] = scope.platform
    if scope.shop:
        constants["shop"] = scope.shop
    if scope.period:
        first, last = scope.period
        if last < first:
            raise UnusableFile(f"the period ends ({last}) before it starts ({first})")
        if mapping.kind != "agent_daily":
            raise UnusableFile(
                f"a period can be given only for per-agent reports (agent_daily), not for "
                f"{mapping.kind}"
            )
        found, _ = mapping.resolve(headers)
        if "date" in found:
            notes.append(
                f"the file has its own dates ({found['date']}); the period {first} – {last} "
                "was not used"
            )
        else:
            constants["date"] = first.isoformat()
            constants["period_end"] = last.isoformat()
            notes.append(f"stored as a report for the period {first} – {last}")
    options = {**mapping.options, "constants": constants}
    return dataclasses.replace(mapping, options=options), notes


@dataclass
class _Staged:
    typed: pa.Table
    errors: dict[int, list[RowError]]
    continuation: np.ndarray  # rows that continue an earlier order (line items)
    notes: list[str]
    supplied: list[str] = field(default_factory=list)  # canonical columns the file gave
    skipped: dict[int, RowError] = field(default_factory=dict)  # rows the mapping leaves out
    filled: int = 0  # rows without an agent that took their ticket's
    evidence: dict[str, tuple] = field(default_factory=dict)  # see values.Parsed.evidence


# Tables whose rows belong to a ticket: a row without an agent takes its ticket's agent.
AGENT_FROM_TICKET = ("csat_responses", "orders", "qa_reviews")


def _ticket_agents(con, ids: list) -> dict:
    """Agent of each stored ticket among `ids`."""
    if con is None or not ids:
        return {}
    cur = con.cursor()
    rows = cur.execute(
        "SELECT ticket_id, agent FROM tickets WHERE ticket_id IN (SELECT unnest($ids))",
        {"ids": sorted(set(ids))},
    ).fetchall()
    return dict(rows)


def _attribute(con, parsed_cols: dict, n: int, errors: dict, raw: RawTable, label: dict,
               skip: np.ndarray) -> int:  # fmt: skip
    """Fill an empty agent from the row's stored ticket; rows still without one are set
    aside with a reason, so scoring never meets an empty agent. Returns rows filled."""
    agent = parsed_cols.get("agent")
    agents = agent.to_pylist() if agent is not None else [None] * n
    tickets = parsed_cols["ticket_id"].to_pylist() if "ticket_id" in parsed_cols else [None] * n
    empty = [i for i, a in enumerate(agents) if (a is None or not str(a).strip()) and not skip[i]]
    if not empty:
        return 0
    known = _ticket_agents(con, [tickets[i] for i in empty if tickets[i] is not None])
    filled = 0
    for i in empty:
        if tickets[i] is not None and known.get(tickets[i]):
            agents[i] = known[tickets[i]]
            filled += 1
            continue
        agents[i] = None
        reason = (f"no agent, and ticket {tickets[i]} is not stored: upload the tickets first "
                  "or map an agent column" if tickets[i] is not None
                  else "no agent and no ticket to take one from")  # fmt: skip
        errors.setdefault(i, []).append(
            RowError(int(raw.row_numbers[i]), label.get("agent", "agent"), reason, None)
        )
    parsed_cols["agent"] = pa.array(agents, pa.string())
    return filled


def _stage(raw: RawTable, mapping: Mapping, found: dict[str, str], report, con=None,
           evidence: dict[str, tuple] | None = None,
           benchmarks: _Benchmarks | None = None) -> _Staged:  # fmt: skip
    """Map, parse and check one batch of rows. `evidence` is what the whole file showed for
    the columns whose reading depends on all their values (day-first dates, bare numbers as
    percentages); the platform's reference rows are added to `benchmarks`."""
    table = mapping.table
    n = raw.num_rows
    constants = mapping.options.get("constants") or {}
    extract = mapping.options.get("extract") or {}
    errors: dict[int, list[RowError]] = {}
    notes: list[str] = []
    seen: dict[str, tuple] = {}
    parsed_cols: dict[str, pa.Array] = {}
    label: dict[str, str] = {}
    texts: dict[str, pa.Array] = {}
    source = reshape.apply_missing(raw.table, mapping, found)
    skipped = reshape.skipped_rows(source, mapping, found)
    summary = shops.summary_rows(source, _label_columns(raw.headers, found))
    for i, (kind, text) in summary.items():
        skipped.setdefault(i, f"summary row '{text}', not an agent" + (
            ": kept as the platform's benchmark" if kind in shops.PEER_KINDS else ""))  # fmt: skip
    combined = mapping.combined(raw.headers)
    columns = [c for c in table.columns if c.name in found or c.name in constants]
    for i, col in enumerate(columns):
        if col.name in combined:
            arr = reshape.combined(source, combined[col.name])
            label[col.name] = found[col.name]
        elif col.name in found:
            arr = source.column(found[col.name]).combine_chunks()
            label[col.name] = found[col.name]
            if col.name in extract:
                arr = _extract(arr, extract[col.name])
        else:
            arr = pa.repeat(pa.scalar(str(constants[col.name]), pa.string()), n)
            label[col.name] = f"{col.name} (constant)"
        texts[col.name] = arr
        arr, unlisted, why = reshape.map_values(arr, col.name, mapping)
        if table.name == "tickets" and col.name == "status":
            arr = reshape.canonical_status(arr)
        for idx in np.flatnonzero(unlisted).tolist():
            errors.setdefault(idx, []).append(
                RowError(
                    int(raw.row_numbers[idx]), label[col.name], why, texts[col.name][idx].as_py()
                )
            )
        report(0.3 + 0.3 * i / max(len(columns), 1), f"reading values of {label[col.name]}")
        options = mapping.parse_options(col.name)
        if evidence and col.name in evidence:
            options = dataclasses.replace(options, file_evidence=evidence[col.name])
        parsed = parse_column(arr, col.kind, options)
        if parsed.evidence is not None:
            seen[col.name] = parsed.evidence
        parsed.bad &= ~unlisted  # one reason per value
        if parsed.note:
            notes.append(f"{label[col.name]}: {parsed.note}")
        bad = np.flatnonzero(parsed.bad)
        if bad.size:
            values = arr.take(pa.array(bad)).to_pylist()
            for idx, value in zip(bad.tolist(), values):
                why = next((r for mask, r in parsed.other if mask[idx]), parsed.reason)
                errors.setdefault(idx, []).append(
                    RowError(int(raw.row_numbers[idx]), label[col.name], why, value)
                )
        parsed_cols[col.name] = parsed.values

    if table.has("shop"):
        _scope_rows(con, parsed_cols, source, found, combined, n)
    if table.has("report"):
        parsed_cols["report"] = pa.repeat(pa.scalar(mapping.name, pa.string()), n)
    if benchmarks is not None and table.name == "agent_daily":
        benchmarks.add(table, parsed_cols, summary)
    # Columns an export gives as a duration after creation rather than as a time.
    for (kind, target), source in DERIVED.items():
        if kind != table.name or source not in parsed_cols:
            continue
        created = parsed_cols["created_at"].to_numpy(zero_copy_only=False)
        secs = parsed_cols[source].to_numpy(zero_copy_only=False)
        derived = created + (np.nan_to_num(secs) * 1e6).astype("timedelta64[us]")
        valid = ~np.isnat(created) & ~np.isnan(secs)
        derived_arr = pa.array(derived, pa.timestamp("us"), mask=~valid)
        if target in parsed_cols:
            derived_arr = pc.coalesce(parsed_cols[target], derived_arr)
        parsed_cols[target] = derived_arr
        label.setdefault(target, label[source])
    supplied = [c.name for c in table.stored if c.name in parsed_cols]
    continuation = np.zeros(n, dtype=bool)
    if mapping.line_items and all(k in parsed_cols for k in table.key):
        keys = pa.table({k: parsed_cols[k] for k in table.key}).to_pandas()
        continuation = keys.duplicated(keep="first").to_numpy()
    # With `first`, later item rows are only folded into their order: nothing in them is read.
    skip = continuation if mapping.line_items == "first" else np.zeros(n, dtype=bool)
    filled = 0
    if table.name in AGENT_FROM_TICKET:
        filled = _attribute(con, parsed_cols, n, errors, raw, label, skip)
    if table.name == "csat_responses" and "scale" not in parsed_cols:
        scale = mapping.parse_options("rating").csat_scale
        parsed_cols["scale"] = pa.repeat(pa.scalar(scale, pa.int64()), n)

    arrays = []
    for col in table.stored:
        arr = parsed_cols.get(col.name)
        if arr is None:
            arr = pa.nulls(n, ARROW_TYPES.get(col.kind, pa.float64()))
        arrays.append(arr)
    typed = pa.table(arrays, names=[c.name for c in table.stored])

    report(0.62, "checking rows")
    check_rows = np.flatnonzero(~skip)
    checked = typed.take(pa.array(check_rows)) if skip.any() else typed
    scale = mapping.parse_options("rating").csat_scale
    for problem in validate(checked, table, scale, mapping.max_duration_days):
        idx = int(check_rows[problem.index])
        existing = errors.setdefault(idx, [])
        if any(e.column == label.get(problem.column, problem.column) for e in existing):
            continue  # the parse error already says why this value is missing
        value_arr = texts.get(problem.column)
        value = value_arr[idx].as_py() if value_arr is not None else None
        existing.append(
            RowError(
                int(raw.row_numbers[idx]),
                label.get(problem.column, problem.column),
                problem.reason,
                value,
            )
        )
    for i in skipped:  # a row left out on purpose has no other problem to report
        errors.pop(i, None)
    skips = {i: RowError(int(raw.row_numbers[i]), WHOLE_ROW, why, None)
             for i, why in skipped.items()}  # fmt: skip
    return _Staged(typed, errors, continuation, notes, supplied, skips, filled, seen)


def _filled_note(filled: int) -> list[str]:
    return [f"{filled:,} row(s) without an agent took the agent of their ticket"] if filled else []


def _label_columns(headers: list[str], found: dict[str, str]) -> list[str]:
    """Where a report labels its summary rows: the first column, and the agent, account,
    shop and date columns (a daily report writes 汇总 in the date column)."""
    cols = [headers[0]] if headers else []
    cols += [found[c] for c in ("agent", "account", "shop", "date") if found.get(c) in headers]
    return list(dict.fromkeys(cols))


def _text(arr) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = pc.utf8_trim_whitespace(arr.cast(pa.string()))
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _scope_rows(con, parsed_cols: dict, source: pa.Table, found: dict, combined: dict, n: int):
    """Fill each row's platform, shop and account, and its agent from a linked account.

    The account is the agent as the file names it, before any `extract` shortened it; a
    sub-account such as "旗舰店:小美" names the shop when nothing else does; a platform name as
    written (天猫) becomes its id (taobao). An account linked to a person (lib.ingest.accounts) is
    stored under that person."""
    if "account" not in parsed_cols:
        if "agent" in found and "agent" not in combined:
            parsed_cols["account"] = _text(source.column(found["agent"]))
        elif "agent" in parsed_cols:
            parsed_cols["account"] = _text(parsed_cols["agent"])
        else:
            parsed_cols["account"] = pa.nulls(n, pa.string())
    account = parsed_cols["account"]
    platform = parsed_cols.get("platform")
    if platform is None:
        platform = pa.repeat(pa.scalar("", pa.string()), n)
    else:
        platform = pc.fill_null(_text(platform), "")
        distinct = pc.unique(platform).to_pylist()
        ids = pa.array([shops.platform_id(v) for v in distinct], pa.string())
        platform = pc.take(ids, pc.index_in(platform, value_set=pa.array(distinct, pa.string())))
    parsed_cols["platform"] = platform
    shop = _text(parsed_cols["shop"]) if "shop" in parsed_cols else pa.nulls(n, pa.string())
    # Only accounts with a colon can name a shop: the pattern is tried on those alone.
    colon = pc.fill_null(pc.or_(pc.match_substring(account, ":"), pc.match_substring(account, "：")),
                         False)  # fmt: skip
    if pc.any(colon).as_py():
        prefix = pc.struct_field(
            pc.extract_regex(account, r"^\s*(?P<shop>[^:：]+?)\s*[:：]\s*\S"), [0]
        )
        shop = pc.coalesce(shop, prefix)
    parsed_cols["shop"] = pc.fill_null(shop, "")
    if "agent" in parsed_cols and con is not None:
        _linked_agents(con, parsed_cols)


def _linked_agents(con, parsed_cols: dict) -> None:
    """Replace the agent of rows whose account is linked to a person."""
    cur = con.cursor()
    if not cur.execute("SELECT count(*) FROM accounts").fetchall()[0][0]:
        return
    rows = pa.table(
        {
            "platform": parsed_cols["platform"],
            "shop": parsed_cols["shop"],
            "account": parsed_cols["account"],
            "agent": parsed_cols["agent"],
            "__i": pa.array(np.arange(len(parsed_cols["agent"]))),
        }
    )
    cur.register("__rows", rows)
    try:
        linked = cur.sql(
            """SELECT coalesce(a.agent, r.agent) FROM __rows r
               LEFT JOIN accounts a ON a.platform = r.platform AND a.shop = r.shop
                    AND a.account = r.account ORDER BY r.__i"""
        ).to_arrow_table()
    finally:
        cur.unregister("__rows")
    parsed_cols["agent"] = linked.column(0).combine_chunks().cast(pa.string())


NUMERIC_KINDS = ("int", "number", "money", "rate", "duration")


class _Benchmarks:
    """The platform's reference rows (同行同层优秀/均值, shop totals and averages) of a file,
    gathered batch by batch, as records (platform, shop, date, period_end, kind, label,
    column, value). A summary row without a date covers the file's span of days, and belongs
    to the shop most of the agents' rows name, both known only at the end."""

    def __init__(self) -> None:
        self.found: list[tuple] = []  # (date or None, period_end, kind, label, column, value)
        self.first = self.last = None
        self.shops: dict[str, int] = {}
        self.platform: str | None = None
        self.first_shop: str | None = None

    def add(self, table, parsed_cols: dict, summary: dict) -> None:
        date = parsed_cols.get("date")
        if date is not None:
            low, high = pc.min_max(date).values()
            low, high = low.as_py(), high.as_py()
            if low is not None:
                self.first = low if self.first is None else min(self.first, low)
                self.last = high if self.last is None else max(self.last, high)
        shop = parsed_cols["shop"]
        if self.platform is None and len(shop):
            self.platform = parsed_cols["platform"][0].as_py()
            self.first_shop = shop[0].as_py()
        if summary:
            shop = shop.filter(pa.array(~np.isin(np.arange(len(shop)), list(summary))))
        for item in pc.value_counts(shop).to_pylist():
            self.shops[item["values"]] = self.shops.get(item["values"], 0) + item["counts"]
        period_end = parsed_cols.get("period_end")
        for i, (kind, text) in sorted(summary.items()):
            day = date[i].as_py() if date is not None else None
            end = period_end[i].as_py() if period_end is not None else None
            for col in table.stored:
                if col.kind in NUMERIC_KINDS and col.name in parsed_cols:
                    value = parsed_cols[col.name][i].as_py()
                    if value is not None:
                        self.found.append((day, end, kind, text, col.name, float(value)))

    def records(self) -> list[tuple]:
        shop = max(self.shops, key=self.shops.get) if self.shops else self.first_shop
        out = []
        for day, end, kind, text, column, value in self.found:
            if day is None:  # a summary over the whole file: its span of days
                day, end = self.first, (self.last if self.last != self.first else None)
            if day is None:
                continue
            out.append((self.platform or "", shop, day, end, kind, text, column, value))
        return out


@dataclass
class Preview:
    headers: list[str]
    found: dict[str, str]  # canonical column → source header
    missing: list[str]  # required columns not found
    problem: str | None  # why the file cannot be stored with this mapping, naming the file
    rows: object  # DataFrame: the first rows as they will be stored
    errors: list[RowError]
    notes: list[str]
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)


def _read_options(mapping: Mapping, name: str, sheet: str | None) -> dict:
    """How the reader reads a file for a mapping: the same for the preview and the ingest."""
    return {
        "file_name": name,
        "sheet": sheet or mapping.options.get("sheet"),
        "encoding": mapping.options.get("encoding", "auto"),
        "expected_headers": mapping.expected_headers(),
        "header_row": mapping.options.get("header_row"),
        "skip_footer_rows": int(mapping.options.get("skip_footer_rows", 0)),
    }


def preview(path: str | Path, mapping: Mapping, *, sheet=None, limit: int = 20,
            file_name: str | None = None, con=None, scope: Scope | None = None) -> Preview:  # fmt: skip
    """The first rows of a file as they would be stored, and their problems; stores nothing.
    `file_name` is the name to use in messages (an upload's own name, not its temporary copy);
    with `con`, rows without an agent take their stored ticket's agent as they will when stored."""
    name = file_name or Path(path).name
    raw = read_table(Path(path), **_read_options(mapping, name, sheet), max_rows=limit)
    try:
        mapping, scope_notes = scoped(mapping, scope, raw.headers)
    except UnusableFile as exc:
        return Preview(raw.headers, {}, [], f"{name}: {exc}", None, [], raw.notes, raw.sheet,
                       raw.sheets)  # fmt: skip
    raw.notes += scope_notes
    found, missing = mapping.resolve(raw.headers)
    if missing:
        problem = _missing_message(name, mapping, missing, raw.headers)
        return Preview(raw.headers, found, missing, problem, None, [], raw.notes, raw.sheet,
                       raw.sheets)  # fmt: skip
    staged = _stage(raw, mapping, found, lambda f, m: None, con)
    frame = staged.typed.to_pandas()
    frame.insert(0, "row", raw.row_numbers)
    # The rows as they will be stored: those set aside are among the problems, not here.
    frame = frame.drop(index=[*staged.errors, *staged.skipped]).reset_index(drop=True)
    errors = [e for i in sorted(staged.errors) for e in staged.errors[i]]
    # Rows with the wrong number of cells among those previewed, as storing will report them.
    last = int(raw.row_numbers[-1]) if len(raw.row_numbers) else None
    shown = [r for r in raw.ragged if last is None or r.row_number <= last]
    errors = sorted(errors + _ragged_errors(shown), key=lambda e: e.row)
    notes = raw.notes + staged.notes + _filled_note(staged.filled)
    return Preview(raw.headers, found, [], None, frame, errors, notes, raw.sheet,
                   raw.sheets)  # fmt: skip


def _ragged_errors(ragged: list[SetAside]) -> list[RowError]:
    return [RowError(r.row_number, WHOLE_ROW, r.reason, r.text[:200]) for r in ragged]


def _in_file_duplicates(cur, table, upload_id: int) -> tuple[list[tuple[int, int, int]], int]:
    """Mark later repeats of a key among the upload's rows: identical ones are duplicates,
    different ones errors. Drops the repeats; returns (index, row number, row number of the
    key's first row) of those with different values, and how many identical repeats there
    were."""
    name = quote_ident(table.name)
    part = ", ".join(quote_ident(k) for k in table.key)
    rows, keys = cur.execute(  # equal keys hash alike: as many hashes as rows, no repeats
        f"SELECT count(*), count(DISTINCT hash({part})) FROM {name} WHERE upload_id = ?",
        [upload_id],
    ).fetchall()[0]
    if rows == keys:
        return [], 0
    repeated = cur.execute(
        f"""SELECT count(*) FROM (SELECT 1 FROM {name} WHERE upload_id = {int(upload_id)}
                                  GROUP BY {part} HAVING count(*) > 1)"""
    ).fetchall()[0][0]
    if not repeated:
        return [], 0
    row = "(" + ", ".join(quote_ident(c.name) for c in table.stored) + ")"
    cur.execute(
        f"""CREATE TEMP TABLE __ingest_repeats AS
            SELECT __rid, __i, __row, first_value(__row) OVER w AS first_row,
                   {row} IS NOT DISTINCT FROM first_value({row}) OVER w AS same
            FROM {_with_places(name, upload_id)}
            WINDOW w AS (PARTITION BY {part} ORDER BY __i)
            QUALIFY row_number() OVER w > 1"""
    )
    different = cur.execute(
        "SELECT __i, __row, first_row FROM __ingest_repeats WHERE NOT same ORDER BY __i"
    ).fetchall()
    same = cur.execute("SELECT count(*) FROM __ingest_repeats WHERE same").fetchall()[0][0]
    cur.execute(f"DELETE FROM {name} WHERE rowid IN (SELECT __rid FROM __ingest_repeats)")
    cur.execute("DELETE FROM __ingest_index WHERE __i IN (SELECT __i FROM __ingest_repeats)")
    cur.execute("DROP TABLE __ingest_repeats")
    return different, same


def _with_places(name: str, upload_id: int) -> str:
    """The upload's rows in table `name`, each with its place in the file (`__i`, `__row`,
    `__rows` of `__ingest_index`) and its `rowid` as `__rid`: both were written in the file's
    order, so the k-th row by rowid is the k-th of the index."""
    return f"""(SELECT * EXCLUDE (__n) FROM
                 (SELECT rowid AS __rid, row_number() OVER (ORDER BY rowid) AS __n, *
                  FROM {name} WHERE upload_id = {int(upload_id)})
                 JOIN (SELECT row_number() OVER (ORDER BY __i) AS __n, * FROM __ingest_index)
                 USING (__n))"""


def _reserve_upload_id(con) -> int:
    """The number the upload will have, taken before its rows are written (they carry it).
    A number is never handed out twice: a file read again (see _Redo) keeps its number, and
    a file refused once its rows were being read is logged under it."""
    with store.WRITE_LOCK:
        return con.cursor().execute("SELECT nextval('upload_id_seq')").fetchall()[0][0]


def _log_rejected(con, name, path, mapping, user, message, is_demo, upload_id=None) -> None:
    """Log a refused file, under its reserved number when it has one."""
    try:
        with store.WRITE_LOCK:
            con.cursor().execute(
                """INSERT INTO uploads (upload_id, file_name, file_bytes, kind, mapping,
                   uploaded_by, status, message, is_demo)
                   VALUES (coalesce(?, nextval('upload_id_seq')), ?, ?, ?, ?, ?, 'rejected', ?, ?)""",
                [upload_id, name, path.stat().st_size if path.exists() else None, mapping.kind,
                 mapping.name, user, message, is_demo],
            )  # fmt: skip
        audit.record(audit.log_of(con), user, "upload.rejected", name, message)
    except Exception:  # noqa: BLE001 - logging a rejection must never hide the rejection
        pass


# DuckDB writes a transaction's new rows to disk a row group at a time, and keeps what is
# appended in parts of a group in memory until the commit: rows are appended in whole groups.
ROW_GROUP_ROWS = 122_880
# Rows read, parsed, checked and staged at a time: a CSV/TSV file is never held whole, so
# memory stays bounded whatever its size. A row group, so that a batch with no row set aside
# is written as soon as it is checked. Workbooks are read whole by their reader, and so are
# files of orders over several rows (line items), which are folded across the file.
BATCH_ROWS = ROW_GROUP_ROWS


class _Redo(Exception):
    """A later batch changed how a column is read (day-first dates, bare numbers as
    percentages): the file is read again with what the whole file showed."""

    def __init__(self, evidence: dict[str, tuple]) -> None:
        super().__init__("read again")
        self.evidence = evidence


def ingest_file(
    con,
    path: str | Path,
    mapping: Mapping,
    *,
    sheet: str | None = None,
    viewer: access.Viewer = access.SYSTEM,
    file_name: str | None = None,
    progress=None,
    is_demo: bool = False,
    scope: Scope | None = None,
    batch_rows: int = BATCH_ROWS,
) -> IngestResult:
    """Ingest one file with a mapping; raise UnusableFile if it cannot be used at all.
    `scope` gives the shop, platform and (for a report without dates) the period. The file is
    read, checked and staged `batch_rows` rows at a time, all inside one transaction. The viewer
    must be allowed to upload (managers and admins; `access.SYSTEM` for jobs) and is named in
    the upload log."""
    access.require(viewer, "upload")
    user = viewer.username
    start = time.perf_counter()
    path = Path(path)
    name = file_name or path.name
    report = progress or (lambda fraction, message: None)

    def batches():
        return _read_ahead(
            read_batches(
                path,
                **_read_options(mapping, name, sheet),
                progress=lambda f, m: report(0.01 + 0.29 * f, m),
                batch_rows=None if mapping.line_items else batch_rows,
            )
        )

    upload_id = None
    try:
        report(0.01, "reading the file")
        rows = batches()
        first = next(rows)
        try:
            scoped_mapping, scope_notes = scoped(mapping, scope, first.headers)
        except UnusableFile as exc:
            raise UnusableFile(f"{name}: {exc}") from None
        found, missing = scoped_mapping.resolve(first.headers)
        if missing:
            raise UnusableFile(_missing_message(name, scoped_mapping, missing, first.headers))
        evidence = None
        upload_id = _reserve_upload_id(con)
        # The file's hash is computed in a second thread while the rows are read; it is
        # needed only once they are staged.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-hash") as hashing:
            digest = hashing.submit(file_hash, path)
            while True:
                try:
                    result = _load(con, path, name, scoped_mapping, found, first, rows, scope,
                                   digest, user, is_demo, report, evidence, batches,
                                   upload_id)  # fmt: skip
                    break
                except _Redo as redo:
                    evidence = redo.evidence
                    rows = batches()
                    first = next(rows)
    except UnusableFile as exc:
        _log_rejected(con, name, path, mapping, user, str(exc), is_demo, upload_id)
        raise
    result.notes[len(first.notes) : len(first.notes)] = scope_notes
    if result.rows_read and not result.accepted and not result.duplicates:  # all set aside
        result.status = NOTHING_STORED  # every row was set aside: a scheduled job must notice
    report(1.0, "done")
    result.seconds = time.perf_counter() - start
    audit.record(audit.log_of(con), user, "upload", name,
                 {"upload_id": result.upload_id, "table": mapping.table,
                  "accepted": result.accepted, "duplicates": result.duplicates,
                  "quarantined": result.quarantined})  # fmt: skip
    return result


def _load(con, path: Path, name: str, mapping: Mapping, found: dict, first: RawTable, rows,
          scope: Scope | None, digest: Future, user: str, is_demo: bool, report,
          evidence: dict | None, batches, upload_id: int) -> IngestResult:  # fmt: skip
    """Stage every batch of the file and store it under `upload_id`, in one transaction: a
    failure anywhere, in any batch, stores nothing. Raise _Redo when the batches were read
    unalike. `digest` gives the file's hash once it is computed."""
    table = mapping.table
    result = IngestResult(name, mapping.kind, mapping.name)
    result.notes = list(first.notes)
    size = max(path.stat().st_size, 1)
    with store.transaction(con) as cur:
        bench = _Benchmarks()
        stage_notes: list[str] = []
        seen: list[dict[str, tuple]] = []
        ragged: list[SetAside] = []
        errors: list[RowError] = []
        cur.execute(
            """CREATE TEMP TABLE __ingest_quarantine (row_number BIGINT, "column" VARCHAR,
               value VARCHAR, reason VARCHAR, raw_row VARCHAR)"""
        )
        supplied = period = None
        offset = kept = staged_rows = filled = continuation = read_bytes = 0
        writer = _StagingWriter(cur, table, upload_id)
        try:
            for raw in itertools.chain([first], rows):
                done = 0.3 + 0.4 * min(read_bytes / size, 1.0)
                staged = _stage(raw, mapping, found,
                                lambda f, m, done=done: report(done + 0.05 * f, m),
                                con, evidence, bench)  # fmt: skip
                read_bytes += raw.table.nbytes
                stage_notes += [n for n in staged.notes if n not in stage_notes]
                seen.append(staged.evidence)
                filled += staged.filled
                if supplied is None:
                    supplied = staged.supplied
                    period = (scope.period if scope and scope.period
                              and "period_end" in supplied else None)  # fmt: skip
                if mapping.line_items:  # the whole file is one batch
                    _reject_whole_orders(staged, table, raw)
                n = raw.num_rows
                bad_rows = np.zeros(n, dtype=bool)
                bad_rows[list(staged.errors)] = True
                skip = np.zeros(n, dtype=bool)
                skip[list(staged.skipped)] = True
                keep = ~bad_rows & ~skip
                result.rows_read += n
                result.quarantined += int(bad_rows.sum())
                result.skipped_rows += int(skip.sum())
                kept += int(keep.sum())
                continuation += int(staged.continuation.sum())
                errors += [e for i in sorted(staged.errors) for e in staged.errors[i]]
                result.skipped += raw.skipped
                ragged += raw.ragged
                records = _quarantine_records(raw, staged)
                good = staged.typed.append_column("__i", pa.array(np.arange(offset, offset + n)))
                good = good.append_column("__row", pa.array(raw.row_numbers, pa.int64()))
                good = good if keep.all() else good.filter(pa.array(keep))  # a copy: only if needed
                good = _fold(good, table, mapping.line_items)
                writer.write(records, good)
                staged_rows += good.num_rows
                offset += n
                del raw, staged, good, records
        except BaseException:
            writer.close(quiet=True)  # the write in flight ends before the rollback
            raise
        writer.close()
        writer.flush()
        stored_before = cur.execute(
            f"SELECT 1 FROM {quote_ident(table.name)} WHERE upload_id IS DISTINCT FROM ? LIMIT 1",
            [upload_id],
        ).fetchall()
        if stored_before:
            # The batches are gone: Arrow's pool gives back what it kept of them before DuckDB
            # joins the upload's rows with those stored before, in its own memory (up to its
            # limit). Not for a first upload, which joins nothing: giving back costs 0.2 s.
            pa.default_memory_pool().release_unused()
        in_table = cur.execute(
            f"SELECT count(*) FROM {quote_ident(table.name)} WHERE upload_id = ?", [upload_id]
        ).fetchall()[0][0]
        if in_table != staged_rows:  # never stores part of a file
            raise RuntimeError(f"{name}: {staged_rows} rows were staged but {in_table} are there")
        if evidence is None:
            whole = _file_evidence(seen)
            if any(e.get(c) != w for e in seen for c, w in whole.items() if c in e):
                raise _Redo(whole)  # rolls back what was staged
        file_digest = digest.result()
        before = cur.execute(
            "SELECT upload_id, uploaded_at FROM uploads WHERE file_hash = ? AND status = 'stored' "
            "AND sheet IS NOT DISTINCT FROM ? ORDER BY upload_id DESC LIMIT 1",
            [file_digest, first.sheet],
        ).fetchall()
        before = before[0] if before else None
        result.notes += stage_notes + _filled_note(filled)
        if continuation:
            result.notes.append(f"{continuation:,} line-item row(s) continue an order read above")
        if before:
            result.notes.append(
                f"this file was uploaded before (upload #{before[0]}, {before[1]:%Y-%m-%d %H:%M}); "
                "rows already stored count as duplicates"
            )

        report(0.7, "saving")
        different, in_file_dupes = _in_file_duplicates(cur, table, upload_id)
        key_label = " + ".join(table.natural_key)
        repeats = [RowError(row, key_label, f"{key_label} repeats row {first_row} with different "
                            "values", None) for _, row, first_row in different]  # fmt: skip
        if repeats:
            source = _source_rows(batches(), {i for i, _, _ in different})
            _quarantine(cur, [(e.row, e.column, e.value, e.reason, source[i])
                         for e, (i, _, _) in zip(repeats, different)])  # fmt: skip
        result.quarantined += len(repeats) + len(ragged)
        result.rows_read += len(ragged)
        errors += repeats
        errors += _ragged_errors(ragged)
        errors.sort(key=lambda e: e.row)
        result.errors = errors

        _quarantine(cur, [
            (r.row_number, WHOLE_ROW, r.text[:1000], r.reason, json.dumps(r.text, ensure_ascii=False))
            for r in ragged])  # fmt: skip
        cur.execute(
            """INSERT INTO uploads (upload_id, file_name, file_hash, file_bytes, kind, mapping,
               sheet, uploaded_by, status, is_demo, supplied_columns, period_from,
               period_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'stored', ?, ?, ?, ?)""",
            [upload_id, name, file_digest, path.stat().st_size, mapping.kind, mapping.name,
             first.sheet, user, is_demo, supplied, *(period or (None, None))],
        )  # fmt: skip
        cur.execute(
            "INSERT INTO quarantine SELECT ?, ?, * FROM __ingest_quarantine", [upload_id, name]
        )
        inserted, updated, same_rows = _upsert(cur, table, upload_id)
        cur.execute("DROP TABLE __ingest_index")
        cur.execute("DROP TABLE __ingest_quarantine")
        benchmarks = bench.records()
        if benchmarks:
            _store_benchmarks(cur, benchmarks, upload_id)
            kinds = sorted({b[5] for b in benchmarks})
            result.notes.append(f"the platform's reference rows were kept: {', '.join(kinds)}")
        result.upload_id = upload_id
        result.inserted, result.updated = inserted, updated
        # Counts are of rows read: an order's item rows are accepted with it, or duplicates
        # with it when the stored order is the same; inserted and updated count stored rows.
        result.accepted = kept - len(repeats) - in_file_dupes - same_rows
        result.duplicates = same_rows + in_file_dupes
        counted = result.accepted + result.duplicates + result.quarantined + result.skipped_rows
        if counted != result.rows_read:
            raise RuntimeError(
                f"row counts do not add up for {name}: {result.accepted} + {result.duplicates} "
                f"+ {result.quarantined} + {result.skipped_rows} != {result.rows_read}"
            )
        cur.execute(
            """UPDATE uploads SET rows_read = ?, accepted = ?, inserted = ?, updated = ?,
               duplicates = ?, quarantined = ?, skipped = ? WHERE upload_id = ?""",
            [result.rows_read, result.accepted, inserted, updated, result.duplicates,
             result.quarantined, result.skipped_rows, upload_id],
        )  # fmt: skip
        store.bump_data_version(cur)
    return result


def _read_ahead(items):
    """`items`, the first read here, each later one read by a second thread while the one
    before is used. A workbook comes whole as the first, so its reader's progress reports
    come from the caller's thread."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-read")
    try:
        item = next(items, _END)
        while item is not _END:
            ahead = pool.submit(next, items, _END)
            yield item
            item = ahead.result()
    finally:
        pool.shutdown(wait=True)  # a read in flight ends before the file is closed
        items.close()


_END = object()


class _StagingWriter:
    """Writes each staged batch (its quarantine records and good rows) into the upload's
    transaction from a second thread, while the next batch is read and parsed: DuckDB and
    Arrow do most of their work without holding Python's lock, so on two cores the writing
    overlaps the parsing. One write at a time, in the order given. Good rows go to their
    table under the upload's number, and each row's place in the file to `__ingest_index`,
    in the same order (see `_with_places`); rows are written in whole row groups, and
    `flush` writes what is left."""

    def __init__(self, cur, table, upload_id: int) -> None:
        self.cur = cur
        self.table = table
        self.upload_id = upload_id
        self.columns = [r[0] for r in cur.execute(f"DESCRIBE {quote_ident(table.name)}").fetchall()]
        cur.execute("CREATE TABLE __ingest_index (__i BIGINT, __row BIGINT, __rows BIGINT)")
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-staging")
        self.pending = None
        self.carry: pa.Table | None = None

    def write(self, records: list[tuple], rows: pa.Table) -> None:
        self.wait()  # at most one batch waits to be written: memory stays bounded
        self.pending = self.pool.submit(self._write, records, rows)

    def _write(self, records: list[tuple], rows: pa.Table) -> None:
        _quarantine(self.cur, records)
        carry = self.carry
        rows = rows if carry is None else pa.concat_tables([carry, rows])
        whole = rows.num_rows - rows.num_rows % ROW_GROUP_ROWS
        if whole:
            self._append(rows.slice(0, whole))
        self.carry = rows.slice(whole)

    def flush(self) -> None:
        """Write the rows held back; call after `close`."""
        if self.carry is not None and self.carry.num_rows:
            self._append(self.carry)
        self.carry = None

    def _append(self, rows: pa.Table) -> None:
        """Through a relation, as DuckDB keeps a registered Arrow table until the commit."""
        ids = pa.array(np.full(rows.num_rows, self.upload_id, dtype=np.int64))
        try:
            out = pa.table({c: ids if c == "upload_id" else rows.column(c) for c in self.columns})
        except KeyError as exc:  # a table column the staged rows lack: a bug, not the file
            raise RuntimeError(f"staged rows have no column {exc} of {self.table.name}") from None
        self.cur.from_arrow(out).insert_into(quote_ident(self.table.name))
        self.cur.from_arrow(rows.select(["__i", "__row", "__rows"])).insert_into("__ingest_index")

    def wait(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()  # a failed write is raised here, in the reading thread

    def close(self, quiet: bool = False) -> None:
        try:
            self.wait()
        except Exception:
            if not quiet:
                raise
        finally:
            self.pool.shutdown(wait=True)


def _file_evidence(seen: list[dict[str, tuple]]) -> dict[str, tuple]:
    """What the whole file showed per column, from what each batch showed: a sign seen in
    any batch (a day over 12, a bare number over 1) is a sign of the file."""
    whole: dict[str, tuple] = {}
    for batch in seen:
        for column, signs in batch.items():
            old = whole.get(column)
            whole[column] = signs if old is None else tuple(a or b for a, b in zip(old, signs))
    return whole


def _source_rows(batches, wanted: set[int]) -> dict[int, str]:
    """The source rows at the given indices (counted over the whole file's data rows), as
    stored in the quarantine, read again from the file: only repeats of a key with different
    values need it, once all the batches are seen."""
    out, offset = {}, 0
    for raw in batches:
        n = raw.num_rows
        here = sorted(i - offset for i in wanted if offset <= i < offset + n)
        if here:
            for i, row in zip(here, raw.table.take(pa.array(here)).to_pylist()):
                out[i + offset] = json.dumps(row, ensure_ascii=False, default=str)
        offset += n
    return out


def _store_benchmarks(cur, records: list[tuple], upload_id: int) -> None:
    """Keep a report's reference rows, replacing those of the same shop, period and kind."""
    cols = ["platform", "shop", "date", "period_end", "kind", "label", "column", "value"]
    batch = pa.table({c: [r[i] for r in records] for i, c in enumerate(cols)})
    batch = batch.append_column("upload_id", pa.array([upload_id] * len(records), pa.int64()))
    cur.register("__bench", batch)
    try:
        cur.execute(
            """DELETE FROM benchmarks b USING (SELECT DISTINCT platform, shop, date, period_end,
                   kind FROM __bench) n
               WHERE b.platform = n.platform AND b.shop = n.shop AND b.date = n.date
                 AND b.period_end IS NOT DISTINCT FROM n.period_end AND b.kind = n.kind"""
        )
        cur.execute(
            """INSERT INTO benchmarks (platform, shop, date, period_end, kind, label, "column",
                   value, upload_id) SELECT * FROM __bench"""
        )
    finally:
        cur.unregister("__bench")


def _reject_whole_orders(staged: _Staged, table, raw: RawTable) -> None:
    """An order over several rows is stored whole or not at all: when one of its rows is
    set aside, so are the others, each with a reason naming the rejected row."""
    if not staged.errors:
        return
    keys = staged.typed.select(list(table.key)).to_pandas()
    group = keys.groupby(list(table.key), dropna=False, sort=False).ngroup().to_numpy()
    bad_groups = {}
    for i in sorted(staged.errors):
        bad_groups.setdefault(group[i], i)
    label = " + ".join(table.natural_key)
    for i in np.flatnonzero(np.isin(group, list(bad_groups))):
        if i not in staged.errors:
            first_bad = int(raw.row_numbers[bad_groups[group[i]]])
            staged.errors[i] = [RowError(int(raw.row_numbers[i]), label,
                                         f"another line of this order was rejected (row {first_bad})",
                                         None)]  # fmt: skip


def _fold(good: pa.Table, table, how: str | None) -> pa.Table:
    """One stored row per key from line items, with `__rows`, the rows folded into it:
    `sum` adds up money and count columns and takes the first value of the others; `first`
    keeps each order's first row."""
    if not how or good.num_rows == 0:
        return good.append_column("__rows", pa.array(np.ones(good.num_rows, dtype=np.int64)))
    frame = good.to_pandas()
    keys = list(table.key)
    grouped = frame.groupby(keys, dropna=False, sort=False)
    rows = grouped.size().rename("__rows")
    if how == "sum":
        added = [c.name for c in table.stored if c.kind in ("money", "int") and c.name not in keys]
        others = [c for c in frame.columns if c not in keys and c not in added]
        out = grouped[others].first().join(grouped[added].sum(min_count=1)).join(rows)
    else:
        out = grouped.head(1).set_index(keys).join(rows)
    out = out.reset_index()[[*good.column_names, "__rows"]]
    schema = good.schema.append(pa.field("__rows", pa.int64()))
    return pa.Table.from_pandas(out, schema=schema, preserve_index=False)


def _upsert(cur, table, upload_id: int) -> tuple[int, int, int]:
    """Settle the upload's rows (one per key) against the rows stored before: a stored row
    with the same key and other values is replaced, one with the same values stays as it is
    (the upload's copy goes). Returns rows inserted, rows updated, and the source rows
    (`__rows` of each) behind the identical ones."""
    name = quote_ident(table.name)
    cols = [c.name for c in table.stored]
    on = " AND ".join(
        f"s.{quote_ident(k)} IS NOT DISTINCT FROM t.{quote_ident(k)}" for k in table.key
    )
    same = (
        "(" + ", ".join(f"s.{quote_ident(c)}" for c in cols) + ") IS NOT DISTINCT FROM ("
        + ", ".join(f"t.{quote_ident(c)}" for c in cols) + ")"
    )  # fmt: skip
    ours = int(upload_id)
    before = f"t.upload_id IS DISTINCT FROM {ours} AND {on}"
    both = f"s.upload_id = {ours} AND {before}"
    if table.has("shop"):
        _replace_legacy(cur, table, upload_id)
    existed, identical = cur.execute(
        f"SELECT count(*), count(*) FILTER (WHERE {same}) FROM {name} s JOIN {name} t ON {both}"
    ).fetchall()[0]
    same_rows = identical
    if identical and cur.execute("SELECT max(__rows) > 1 FROM __ingest_index").fetchall()[0][0]:
        same_rows = cur.execute(  # rows folded from line items: count each source row
            f"""SELECT sum(s.__rows) FROM {_with_places(name, upload_id)} s JOIN {name} t
                ON {before} WHERE {same}"""
        ).fetchall()[0][0]
    total = cur.execute(f"SELECT count(*) FROM {name} WHERE upload_id = {ours}").fetchall()[0][0]
    if existed:
        cur.execute(f"DELETE FROM {name} t USING {name} s WHERE {both} AND NOT ({same})")
        cur.execute(f"DELETE FROM {name} s USING {name} t WHERE {both}")  # identical ones left
    return total - existed, existed - identical, int(same_rows)


def _replace_legacy(cur, table, upload_id: int) -> int:
    """Rows stored before shops were recorded (one default shop, the agent as account) that
    this upload restates under a shop or sub-account are removed, so the day or ticket is not
    stored twice; returns how many."""
    if not cur.execute("SELECT count(*) FROM uploads WHERE before_shops").fetchall()[0][0]:
        return 0  # a store begun with shops: no join of the upload's rows for nothing
    name = quote_ident(table.name)
    if table.name == "agent_daily":
        same = ("t.date = s.date AND t.agent = s.agent AND t.report = s.report "
                "AND t.period_end IS NULL AND s.period_end IS NULL")  # fmt: skip
    else:
        same = " AND ".join(f"t.{quote_ident(k)} IS NOT DISTINCT FROM s.{quote_ident(k)}"
                            for k in table.natural_key)  # fmt: skip
    return cur.execute(
        f"""DELETE FROM {name} t USING {name} s
            WHERE s.upload_id = {int(upload_id)}
              AND t.upload_id IN (SELECT upload_id FROM uploads WHERE before_shops)
              AND (t.platform, t.shop) IS DISTINCT FROM (s.platform, s.shop) AND {same}"""
    ).fetchall()[0][0]


def _quarantine_records(raw: RawTable, staged: _Staged) -> list[tuple]:
    """A batch's rejected rows, and rows the mapping skipped (so a user sees what a filter
    removed), as quarantine records (row, column, value, reason, source row as it was)."""
    listed = {i: list(e) for i, e in staged.errors.items()}
    for i, e in staged.skipped.items():
        listed.setdefault(i, []).append(e)
    idx = sorted(listed)
    records = []
    if idx:
        rows = raw.table.take(pa.array(idx)).to_pylist()
        for i, source in zip(idx, rows):
            raw_json = json.dumps(source, ensure_ascii=False, default=str)
            for e in listed[i]:
                records.append((e.row, e.column, e.value, e.reason, raw_json))
    return records


def _quarantine(cur, records: list[tuple]) -> None:
    """Keep quarantine records (row, column, value, reason, source row) of the upload being
    staged; they are stored with it once it has its number."""
    if not records:
        return
    cols = list(zip(*records))
    batch = pa.table(
        {
            "row_number": pa.array(cols[0], pa.int64()),
            "column": pa.array(cols[1], pa.string()),
            "value": pa.array([None if v is None else str(v) for v in cols[2]], pa.string()),
            "reason": pa.array(cols[3], pa.string()),
            "raw_row": pa.array(cols[4], pa.string()),
        }
    )
    cur.from_arrow(batch).insert_into("__ingest_quarantine")


def quarantine_report(con, viewer: access.Viewer, upload_id: int | None = None):
    """The quarantined rows (all, or of one upload) as a DataFrame for download; they hold
    raw rows of every agent, so only those who may upload may read them."""
    access.require(viewer, "upload")
    sql = """SELECT q.upload_id, q.file_name, q.row_number, q."column", q.value, q.reason,
                    q.raw_row, u.uploaded_at
             FROM quarantine q JOIN uploads u USING (upload_id)"""
    params = []
    if upload_id is not None:
        sql += " WHERE q.upload_id = ?"
        params.append(upload_id)
    return con.cursor().execute(sql + " ORDER BY q.upload_id, q.row_number", params).df()


def upload_history(con, limit: int = 200):
    return (
        con.cursor()
        .execute(
            """SELECT upload_id, uploaded_at, file_name, kind, mapping, status, rows_read,
                      accepted, inserted, updated, duplicates, quarantined, uploaded_by, message
               FROM uploads ORDER BY upload_id DESC LIMIT ?""",
            [limit],
        )
        .df()
    )
