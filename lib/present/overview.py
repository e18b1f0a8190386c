"""What the store holds: rows, date span and agents per table, for the data health check."""

from __future__ import annotations

import pandas as pd

from lib.core.store import quote_ident
from lib.core.tables import TABLES


def store_summary(con) -> pd.DataFrame:
    cur = con.cursor()
    rows = []
    for name, table in TABLES.items():
        date_col = quote_ident(table.dated_by)
        agent = "count(DISTINCT agent)" if table.has("agent") else "NULL"
        n, first, last, agents = cur.execute(
            f"SELECT count(*), min({date_col}), max({date_col}), {agent} FROM {quote_ident(name)}"
        ).fetchone()
        rows.append(
            {"table": name, "label_zh": table.label_zh, "label_en": table.label_en,
             "rows": n, "from": _day(first), "to": _day(last), "agents": agents}
        )  # fmt: skip
    return pd.DataFrame(rows)


def _day(value) -> str | None:
    """Dates, timestamps and periods shown alike, as their first ten characters."""
    return None if value is None else str(value)[:10]
