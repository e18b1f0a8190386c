"""Reshaping an export as its mapping says, before values are parsed.

Real exports need more than renamed columns: a date and a time in two columns, a key unique
only over two columns, `NO_SERVER` or `0:00:00` meaning "no value", `Y`/`N` flags, status words
of the helpdesk's own, and rows left out on purpose (a phantom call). The mapping options
`missing`, `skip_rows`, `combine` and `values` do that here, on the file's text, so that
parsing and validation then see canonical values. Skipped rows are never silently dropped:
they are counted and listed with their reason.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def norm(value) -> str:
    """A value as compared by the options: case, surrounding and repeated spaces ignored."""
    return re.sub(r"\s+", " ", str(value).strip()).lower()


def _as_text(arr) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.string())


def _listed(value) -> list[str]:
    items = value if isinstance(value, (list, tuple)) else [value]
    return [str(v) for v in items if v is not None]


def apply_missing(table: pa.Table, mapping, found: dict[str, str]) -> pa.Table:
    """The file's table with the `missing` sentinels of each field or header made null."""
    for key, sentinels in (mapping.options.get("missing") or {}).items():
        header = mapping.header_for(str(key), found, table.column_names)
        if header is None:
            continue
        arr = _as_text(table.column(header))
        hit = pc.is_in(pc.utf8_lower(pc.utf8_trim_whitespace(arr)),
                       value_set=pa.array([norm(v) for v in _listed(sentinels)]))  # fmt: skip
        arr = pc.if_else(pc.fill_null(hit, False), pa.scalar(None, pa.string()), arr)
        table = table.set_column(table.column_names.index(header), header, arr)
    return table


def skipped_rows(table: pa.Table, mapping, found: dict[str, str]) -> dict[int, str]:
    """Rows the mapping leaves out on purpose: row index → reason, such as
    "skipped by the mapping (outcome = PHANTOM)"."""
    out: dict[int, str] = {}
    for key, values in (mapping.options.get("skip_rows") or {}).items():
        header = mapping.header_for(str(key), found, table.column_names)
        if header is None:
            continue
        wanted = {norm(v): str(v) for v in _listed(values)}
        for i, value in enumerate(_as_text(table.column(header)).to_pylist()):
            if value is not None and norm(value) in wanted and i not in out:
                out[i] = f"skipped by the mapping ({key} = {wanted[norm(value)]})"
    return out


def combined(table: pa.Table, headers: list[str]) -> pa.Array:
    """Several columns joined with a space; null where a part is empty (a date without its
    time is no time at all, and a key without one of its parts is no key)."""
    parts = [pc.utf8_trim_whitespace(_as_text(table.column(h))) for h in headers]
    parts = [pc.if_else(pc.equal(p, ""), pa.scalar(None, pa.string()), p) for p in parts]
    return pc.binary_join_element_wise(*parts, " ", null_handling="emit_null")


def _translate(arr: pa.Array, lookup: dict[str, str]) -> tuple[pa.Array, np.ndarray]:
    """Each value through `lookup` (keys as `norm` makes them), working on the distinct
    values only; returns the translated text and the rows whose value was not in it."""
    text = _as_text(arr)
    distinct = pc.unique(text).to_pylist()
    target = [lookup.get(norm(v)) if v is not None else None for v in distinct]
    pos = pc.index_in(text, value_set=pa.array(distinct, pa.string()))
    mapped = pc.take(pa.array(target, pa.string()), pos)
    unknown = pc.and_(pc.is_valid(text), pc.is_null(mapped))
    unknown = pc.and_(unknown, pc.not_equal(pc.utf8_trim_whitespace(text), ""))
    out = pc.if_else(unknown, text, mapped)
    return out, pc.fill_null(unknown, False).to_numpy(zero_copy_only=False)


def map_values(arr: pa.Array, field: str, mapping) -> tuple[pa.Array, np.ndarray, str]:
    """A field's values through its `values` table: (mapped text, rows whose value is in
    none of the table's entries, the reason). With `values_other: keep` nothing is bad."""
    table = (mapping.options.get("values") or {}).get(field)
    if not table:
        return arr, np.zeros(len(arr), dtype=bool), ""
    out, unknown = _translate(arr, {norm(k): _canonical(v) for k, v in table.items()})
    if mapping.options.get("values_other") == "keep":
        unknown = np.zeros(len(arr), dtype=bool)
    allowed = ", ".join(str(k) for k in table)
    return out, unknown, f"values.{field}: not one of {allowed}"


def _canonical(value) -> str:
    if isinstance(value, bool):  # YAML reads Y: true as a boolean
        return "true" if value else "false"
    return str(value)


# The canonical ticket statuses, and the words helpdesks write for them.
STATUSES = ("open", "pending", "solved", "closed")
STATUS_WORDS = {
    "open": "open", "new": "open", "待处理": "open", "未处理": "open", "新建": "open",
    "pending": "pending", "on hold": "pending", "hold": "pending", "waiting": "pending",
    "处理中": "pending", "挂起": "pending", "待回复": "pending",
    "solved": "solved", "resolved": "solved", "已解决": "solved", "已完结": "solved",
    "closed": "closed", "已关闭": "closed", "关闭": "closed",
}  # fmt: skip


def canonical_status(arr: pa.Array) -> pa.Array:
    """Ticket statuses in the canonical words where the export's word is a known one; other
    words are kept as written (a `values` table in the mapping says what they mean)."""
    return _translate(arr, STATUS_WORDS)[0]


def distinct(table: pa.Table, header: str, limit: int = 40) -> list[str]:
    """The distinct values of a column (most frequent first), for the mapping builder."""
    counts = pc.value_counts(pc.drop_null(_as_text(table.column(header))))
    pairs = sorted(((c["counts"].as_py(), c["values"].as_py()) for c in counts),
                   key=lambda p: (-p[0], p[1]))  # fmt: skip
    return [v for _, v in pairs[:limit]]


def try_format(texts: list[str], fmt: str) -> list[tuple[str, str]]:
    """Each text and what `fmt` makes of it (a time, or 'did not match'), for a live check."""
    import datetime as dt

    out = []
    for text in texts:
        try:
            out.append((text, dt.datetime.strptime(text.strip(), fmt).isoformat(sep=" ")))
        except ValueError:
            out.append((text, "✗"))
    return out
