"""Pandera schemas for the canonical tables, and row errors in words a manager understands.

Parsing turns text into typed values; validation then checks what the values mean: required
values present, amounts and durations not negative, rates within 0–100 %, ratings within the
scale, dates within 1970–2100, a first response not before the ticket was created and a
resolution not before the first reply, waits and durations within a plausibility limit. The schema is
built from `lib.core.tables`, so adding a column there gives it its checks here. Validation is
lazy: every failing row and column is reported, not only the first.

The same rules are first applied as plain column operations to find the rows that might break
one; only those rows go through pandera, which names the problems. Most batches have none, so
pandera (slow to import, and slower than a comparison per column) is not loaded at all for
them, and a command that ingests a small clean file starts quickly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lib.core.tables import Table
from lib.ingest.reader import may_exceed

if TYPE_CHECKING:
    import pandera.pandas as pandera

MAX_TEXT = 32767  # Excel's cell limit: longer text is a broken export, not a comment
# Longer than this, a wait or a handle time is a broken export (a default date, a typo), not a
# slow reply; a mapping may set its own limit with `max_duration_days`.
MAX_DURATION_DAYS = 90
EARLIEST = pd.Timestamp("1970-01-01")
LATEST = pd.Timestamp("2101-01-01")  # exclusive: the last day accepted is 2100-12-31
DATE_RANGE = "date outside the accepted range 1970-01-01 to 2100-12-31"

# Table-wide rules: name → (column blamed, reason, predicate that is True for good rows).
WIDE_RULES = {
    "response_after_creation": (
        "first_response_at",
        "first response is before the ticket was created",
        lambda d: ~(d["first_response_at"] < d["created_at"]),
    ),
    "resolved_after_creation": (
        "resolved_at",
        "resolved before the ticket was created",
        lambda d: ~(d["resolved_at"] < d["created_at"]),
    ),
    "resolved_after_response": (
        "resolved_at",
        "resolved before the first reply",
        lambda d: ~(d["resolved_at"] < d["first_response_at"]),
    ),
    "response_within_limit": (
        "first_response_at",
        "first response more than {days} days after the ticket was created",
        lambda d, limit: ~((d["first_response_at"] - d["created_at"]).dt.total_seconds() > limit),
    ),
    "resolved_within_limit": (
        "resolved_at",
        "resolved more than {days} days after the ticket was created",
        lambda d, limit: ~((d["resolved_at"] - d["created_at"]).dt.total_seconds() > limit),
    ),
    "refund_not_above_amount": (
        "refund_amount",
        "refund is larger than the order amount",
        lambda d: ~(d["refund_amount"] > d["amount"] + 1e-9),
    ),
    "score_not_above_max": (
        "score",
        "score is above the criterion's maximum",
        lambda d: ~(d["score"] > d["max_score"] + 1e-9),
    ),
}


@dataclass(frozen=True)
class Problem:
    index: int  # position in the validated frame
    column: str  # canonical column
    reason: str


def _column_checks(kind: str, rating_scale: int, max_days: float) -> list[pandera.Check]:
    import pandera.pandas as pandera

    if kind in ("int", "number", "money"):
        return [pandera.Check.ge(0, error="negative value")]
    if kind == "duration":
        return [
            pandera.Check.ge(0, error="negative duration"),
            pandera.Check.le(max_days * 86400, error=f"duration longer than {max_days:g} days"),
        ]
    if kind == "rate":
        return [
            pandera.Check.ge(0, error="negative percentage"),
            pandera.Check.le(1, error="percentage above 100 %"),
        ]
    if kind == "rating":
        return [pandera.Check.in_range(1, rating_scale, error=f"rating outside 1–{rating_scale}")]
    if kind in ("timestamp", "date"):
        return [
            pandera.Check(
                lambda s: (pd.to_datetime(s) >= EARLIEST) & (pd.to_datetime(s) < LATEST),
                element_wise=False,
                error=DATE_RANGE,
            )
        ]
    if kind == "text":
        return [
            pandera.Check.str_length(max_value=MAX_TEXT, error="text longer than 32,767 characters")
        ]
    return []


def _wide_check(name: str, max_days: float) -> pandera.Check:
    import pandera.pandas as pandera

    column, reason, rule = WIDE_RULES[name]
    if "{days}" in reason:  # a rule with the plausibility limit
        limit = max_days * 86400
        return pandera.Check(lambda d, rule=rule: rule(d, limit), name=name,
                        error=reason.format(days=f"{max_days:g}"))  # fmt: skip
    return pandera.Check(rule, name=name, error=reason)


@lru_cache(maxsize=64)
def schema_for(table: Table, rating_scale: int = 5,
               max_days: float = MAX_DURATION_DAYS) -> pandera.DataFrameSchema:  # fmt: skip
    import pandera.pandas as pandera

    columns = {}
    for col in table.stored:
        scale = 5 if table.name == "tickets" else rating_scale  # ticket CSAT is stored 1–5
        columns[col.name] = pandera.Column(
            None, _column_checks(col.kind, scale, max_days), nullable=not col.required,
            required=False,
        )  # fmt: skip
    wide = [_wide_check(name, max_days) for name in table.checks]
    return pandera.DataFrameSchema(columns, checks=wide, strict=False)


def validate(rows: pa.Table, table: Table, rating_scale: int = 5,
             max_days: float = MAX_DURATION_DAYS) -> list[Problem]:  # fmt: skip
    """Every (row, column) of an Arrow table of typed rows that breaks a rule, as Problems
    (index: the row's position); empty when all rows are good. Only the rows `suspects`
    flags are made a DataFrame and checked by the pandera schema (every rule is about one
    row, so a row's problems do not depend on the others)."""
    if rows.num_rows == 0:
        return []
    try:
        suspect = suspects(rows, table, rating_scale, max_days)
    except Exception:  # noqa: BLE001 - a value the screen cannot compare: let pandera judge
        return validate_all(rows.to_pandas(), table, rating_scale, max_days)
    if not suspect.any():
        return []
    index = np.flatnonzero(suspect)
    frame = rows.take(index).to_pandas()
    frame.index = index
    return validate_all(frame, table, rating_scale, max_days)


def validate_all(frame: pd.DataFrame, table: Table, rating_scale: int = 5,
                 max_days: float = MAX_DURATION_DAYS) -> list[Problem]:  # fmt: skip
    """`validate` with the pandera schema over every row (no screen first)."""
    if frame.empty:
        return []
    import pandera.pandas as pandera

    try:
        schema_for(table, rating_scale, max_days).validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        return _problems(exc.failure_cases, table, max_days)
    return []


def suspects(rows: pa.Table, table: Table, rating_scale: int = 5,
             max_days: float = MAX_DURATION_DAYS) -> np.ndarray:  # fmt: skip
    """Rows that may break a rule of `schema_for`, as a mask: the same comparisons, made
    as column operations (text with Arrow, without making Python strings of it; numbers and
    dates with NumPy; the table-wide rules over a DataFrame of the columns that are neither).
    It may flag a good row (pandera then finds nothing), never miss a bad one; a test
    compares it with the schema over random batches."""
    bad = np.zeros(rows.num_rows, dtype=bool)
    other = []
    for col in table.stored:
        if col.name not in rows.column_names:
            continue
        kind = col.kind
        if kind not in ("text", "bool"):
            other.append(col)
        values = rows.column(col.name)
        na = _mask(pc.is_null(values))
        if col.required:
            bad |= na
        if na.all():
            continue
        if kind == "text" and may_exceed(values, MAX_TEXT):
            bad |= _mask(pc.greater(pc.utf8_length(values), MAX_TEXT))
        elif kind in ("int", "number", "money", "duration", "rate", "rating"):
            v = values.to_numpy(zero_copy_only=False).astype(float, copy=False)
            with np.errstate(invalid="ignore"):
                if kind == "rating":
                    scale = 5 if table.name == "tickets" else rating_scale
                    out = (v < 1) | (v > scale)
                else:
                    out = v < 0
                    if kind == "duration":
                        out |= v > max_days * 86400
                    elif kind == "rate":
                        out |= v > 1
            bad |= out & ~na
        elif kind in ("timestamp", "date"):
            d = values.to_numpy(zero_copy_only=False)  # NaT where missing
            bad |= ~((d >= _EARLIEST) & (d < _LATEST)) & ~na
    if table.checks:
        frame = rows.select([c.name for c in other]).to_pandas()
        for name in table.checks:  # a rule over a text column raises KeyError: pandera judges
            _, reason, rule = WIDE_RULES[name]
            good = rule(frame, max_days * 86400) if "{days}" in reason else rule(frame)
            bad |= ~np.asarray(good, dtype=bool)
    return bad


_EARLIEST = EARLIEST.to_datetime64()
_LATEST = LATEST.to_datetime64()


def _mask(found) -> np.ndarray:
    if isinstance(found, pa.ChunkedArray):
        found = found.combine_chunks()
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)


def _problems(cases: pd.DataFrame, table: Table, max_days: float) -> list[Problem]:
    wide_by_reason = {
        WIDE_RULES[n][1].format(days=f"{max_days:g}"): WIDE_RULES[n][0] for n in table.checks
    }
    out: dict[tuple[int, str], Problem] = {}
    for ctx, column, check, index in zip(
        cases["schema_context"], cases["column"], cases["check"], cases["index"]
    ):
        if index is None or pd.isna(index):
            continue
        if ctx == "DataFrameSchema":
            column = wide_by_reason.get(check, column)
            reason = check
        elif check == "not_nullable":
            reason = "required value is missing"
        else:
            reason = str(check)
        key = (int(index), str(column))
        out.setdefault(key, Problem(int(index), str(column), reason))
    return list(out.values())
