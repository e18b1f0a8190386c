"""What the store holds: rows, date span and agents per table, and upload counts.

Used by the overview page until the KPI engine provides team KPIs; also a quick health check.
"""

from __future__ import annotations

import pandas as pd

from lib.core.store import quote_ident
from lib.core.tables import TABLES

# The column that dates each table's rows.
DATE_COLUMN = {
    "tickets": "created_at",
    "csat_responses": "responded_at",
    "orders": "created_at",
    "agent_daily": "date",
    "qa_reviews": "reviewed_at",
    "peer_reviews": "period",
    "messages": "sent_at",
    "roster": "hire_date",
}


def store_summary(con) -> pd.DataFrame:
    cur = con.cursor()
    rows = []
    for name, table in TABLES.items():
        date_col = quote_ident(DATE_COLUMN[name])
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


def upload_stats(con) -> tuple[int, object]:
    return (
        con.cursor()
        .execute("SELECT count(*), max(uploaded_at) FROM uploads WHERE status = 'stored'")
        .fetchone()
    )
