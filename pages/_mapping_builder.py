"""The interactive mapping builder on the Upload page: columns, then every reshaping option.

Kept apart from `upload.py` so that page stays a short script. It reads widgets and returns a
checked `Mapping` (or None); the reshaping itself happens in `lib.ingest.reshape` at ingest.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lib.core import errors
from lib.core.i18n import message
from lib.core.tables import get_table
from lib.ingest import mapping as mappings
from lib.ingest import reshape
from pages._ui import lang, safe, t


def _labels(kind: str) -> dict:
    table = get_table(kind)
    return {c.name: (c.label_zh if lang() == "zh" else c.name) for c in table.columns}


def _combine(kind, headers, opts) -> None:
    names = _labels(kind)
    a, b = st.columns([1, 2])
    field = a.selectbox(t("builder.combine_field"), [None, *names], key=f"cb_field_{kind}",
                        format_func=lambda f: t("builder.none") if f is None else names[f])  # fmt: skip
    parts = b.multiselect(
        t("builder.combine_parts"), headers, key=f"cb_parts_{kind}", placeholder=t("common.choose")
    )
    if field and len(parts) >= 2:
        opts["combine"] = {field: parts}


def _formats(kind, raw, found, opts) -> None:
    table = get_table(kind)
    times = [c.name for c in table.columns if c.kind in ("timestamp", "date")]
    a, b = st.columns([1, 2])
    field = a.selectbox(t("builder.format_field"), [None, *times], key=f"fmt_field_{kind}",
                        format_func=lambda f: t("builder.none") if f is None else f)  # fmt: skip
    fmt = b.text_input(t("builder.format"), key=f"fmt_{kind}", placeholder="%y%m%d %H:%M:%S")
    if field and fmt.strip():
        opts["formats"] = {field: [fmt.strip()]}
        combine = (opts.get("combine") or {}).get(field)
        sample = raw.slice(0, 5)
        if combine:
            texts = reshape.combined(sample, combine).to_pylist()
        elif field in found:
            texts = sample.column(found[field]).to_pylist()
        else:
            texts = []
        tried = reshape.try_format([x for x in texts if x], fmt.strip())
        if tried:
            st.dataframe(pd.DataFrame(tried, columns=[t("builder.text"), t("builder.read_as")]),
                         hide_index=True, placeholder="–")  # fmt: skip


def _values(kind, raw, found, opts) -> None:
    mapped = [f for f in found if f in _labels(kind)]
    field = st.selectbox(t("builder.values_field"), [None, *mapped], key=f"val_field_{kind}",
                         format_func=lambda f: t("builder.none") if f is None else f)  # fmt: skip
    if not field or found[field] not in raw.column_names:
        return
    found_values = reshape.distinct(raw, found[field], limit=20)
    st.caption(t("builder.values_help"))
    cols = st.columns(4)
    table = {}
    for i, value in enumerate(found_values):
        means = cols[i % 4].text_input(f"{value} →", key=f"val_{kind}_{field}_{i}")
        if means.strip():
            table[value] = means.strip()
    if table:
        opts["values"] = {field: table}
        if st.checkbox(t("builder.keep_others"), key=f"val_keep_{kind}"):
            opts["values_other"] = "keep"


def _pick_values(name: str, kind: str, raw, opts) -> None:
    a, b = st.columns([1, 2])
    header = a.selectbox(t(f"builder.{name}_header"), [None, *raw.column_names],
                         key=f"{name}_header_{kind}",
                         format_func=lambda h: t("builder.none") if h is None else h)  # fmt: skip
    if header:
        chosen = b.multiselect(t(f"builder.{name}_values"), reshape.distinct(raw, header),
                               key=f"{name}_values_{kind}_{header}", placeholder=t("common.choose"))  # fmt: skip
        if chosen:
            opts[name] = {header: chosen}


def build(headers: list[str], raw) -> mappings.Mapping | None:
    """The builder: a column for each field, then the options; returns a checked mapping."""
    kinds = list(mappings.TABLES)
    labels = {k: get_table(k).label_zh if lang() == "zh" else get_table(k).label_en for k in kinds}
    kind = st.selectbox(t("upload.kind"), kinds, format_func=labels.get)
    table = get_table(kind)
    guesses = mappings.guess_columns(headers, kind)
    st.caption(t("upload.build_help"))
    options = [None, *headers]
    absent = t("upload.not_in_file")
    chosen, cols = {}, st.columns(3)
    for i, col in enumerate(table.columns):
        guess = guesses.get(col.name)
        name = f"{col.label_zh if lang() == 'zh' else col.name}{' *' if col.required else ''}"
        chosen[col.name] = cols[i % 3].selectbox(
            name, options, index=options.index(guess) if guess else 0, key=f"map_{kind}_{col.name}",
            format_func=lambda h: absent if h is None else h,
        )  # fmt: skip
    a, b, c = st.columns(3)
    units = {u: t(f"upload.unit.{u}") for u in ("seconds", "minutes", "hours")}  # stored in English
    opts = {
        "dayfirst": a.checkbox(t("upload.dayfirst")) or None,
        "duration_unit": b.selectbox(t("upload.duration_unit"), list(units), format_func=units.get),
        "csat_scale": c.number_input(t("upload.csat_scale"), 2, 10, 5),
    }
    found = {k: v for k, v in chosen.items() if v}
    with st.expander(t("builder.more"), expanded=False):
        st.caption(t("builder.more_help"))
        _combine(kind, headers, opts)
        _formats(kind, raw, found, opts)
        zone = st.text_input(t("builder.timezone"), key=f"tz_{kind}", placeholder="Asia/Shanghai")
        if zone.strip():
            opts["timezone"] = zone.strip()
        _values(kind, raw, found, opts)
        _pick_values("missing", kind, raw, opts)
        _pick_values("skip_rows", kind, raw, opts)
    name = st.text_input(t("upload.mapping_name"), value=f"my_{kind}", key="mapping_name")
    try:
        return mappings.from_selection(name, kind, chosen, opts)
    except errors.MappingError as exc:
        named = {c.name: c.label_zh for c in table.columns} | {kind: table.label_zh}
        lines = [message(problem, lang(), named) for _, problem in exc.problems]  # in words
        joined = ("；" if lang() == "zh" else "; ").join(lines)
        st.warning(t("upload.mapping_invalid", message=safe(joined)))
        return None


if __name__ == "__main__":  # opened by address as a page (a fresh server lists pages/ once)
    st.switch_page("app.py")
