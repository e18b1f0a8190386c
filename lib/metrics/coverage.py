"""Column coverage: which canonical columns each upload supplied, and which rows a KPI may use.

Missing is not zero. An export without a resolution-time column does not mean every ticket is
still open, so a KPI is computed only over rows whose upload supplied every input it needs
(the catalogue declares them per source). Uploads record their columns when they are stored;
rows written before that was recorded (or without an upload, as in tests) count a column as
supplied when any row of the same upload has a value in it. `covered` says which uploads a
KPI source may read, `gaps` how many rows of a period were left out and why.
"""

from __future__ import annotations

from lib.core import store
from lib.core.store import quote_ident
from lib.core.tables import TABLES

NO_UPLOAD = -1  # stands for rows without an upload id in coverage lists

# Derived relations read the columns of a canonical table.
BASE_TABLE = {"ticket_comments": "tickets"}


def base_table(relation: str) -> str | None:
    """The canonical table whose uploads a relation's rows come from (None: not uploaded)."""
    name = BASE_TABLE.get(relation, relation)
    return name if name in TABLES else None


def _recorded(cur) -> dict[int, frozenset[str]]:
    rows = cur.execute(
        "SELECT upload_id, supplied_columns FROM uploads WHERE supplied_columns IS NOT NULL"
    ).fetchall()
    return {int(u): frozenset(cols) for u, cols in rows}


def _inferred(cur, table: str, known: set[int]) -> dict[int, frozenset[str]]:
    """Coverage read off the data, for rows whose upload did not record its columns."""
    cols = [c.name for c in TABLES[table].stored]
    counts = ", ".join(f"count({quote_ident(c)}) > 0" for c in cols)
    rows = cur.execute(
        f"SELECT coalesce(upload_id, {NO_UPLOAD}) AS u, {counts} FROM {quote_ident(table)} "
        f"WHERE coalesce(upload_id, {NO_UPLOAD}) <> ALL($known) GROUP BY u",
        {"known": sorted(known) or [NO_UPLOAD - 1]},
    ).fetchall()
    return {int(r[0]): frozenset(c for c, has in zip(cols, r[1:]) if has) for r in rows}


def supplied(con, table: str) -> dict[int, frozenset[str]]:
    """Upload id → canonical columns it supplied, for every upload with rows in `table`."""

    def compute():
        cur = con.cursor()
        recorded = _recorded(cur)
        present = {
            int(u)
            for (u,) in cur.execute(
                f"SELECT DISTINCT coalesce(upload_id, {NO_UPLOAD}) FROM {quote_ident(table)}"
            ).fetchall()
        }
        out = {u: recorded[u] for u in present if u in recorded}
        if present - set(out):
            out.update(_inferred(cur, table, set(out)))
        return out

    return store.memo(con, f"coverage:{table}", compute)


def has_inputs(columns: frozenset[str], inputs: tuple) -> bool:
    """Whether a set of columns meets a source's inputs: each entry is a column, or a tuple
    of columns of which any one will do."""
    return all(
        any(c in columns for c in need) if isinstance(need, tuple) else need in columns
        for need in inputs
    )


def covered(con, relation: str, inputs: tuple) -> list[int] | None:
    """The uploads whose rows a source with these inputs may read: None when every row may
    be read (no filter needed), else the list (empty: no row has the inputs)."""
    table = base_table(relation)
    if not inputs or table is None:
        return None
    uploads = supplied(con, table)
    ok = [u for u, cols in uploads.items() if has_inputs(cols, inputs)]
    return None if len(ok) == len(uploads) else sorted(ok)


def missing_in(con, table: str, inputs: tuple, uploads: list[int]) -> list[str]:
    """The inputs that none of `uploads` supplied, by column name ('a / b' for an either-or
    input); empty when some upload supplied them all."""
    known = supplied(con, table)
    sets = [known.get(u, frozenset()) for u in uploads]
    if any(has_inputs(cols, inputs) for cols in sets):
        return []
    out = []
    for need in inputs:
        group = need if isinstance(need, tuple) else (need,)
        if not any(c in cols for cols in sets for c in group):
            out.append(" / ".join(group))
    return out or [" / ".join(n) if isinstance(n, tuple) else n for n in inputs]


def every_upload(con, table: str, cov: list[int] | None) -> list[int]:
    """A coverage list made explicit, to bind: None (every row may be read) becomes every
    upload, and an empty list one id no row has (so the parameter keeps its type)."""
    ids = sorted(supplied(con, table)) if cov is None else cov
    return ids or [NO_UPLOAD - 1]


def filter_sql(column: str = "upload_id", param: str = "cov") -> str:
    """The condition that keeps rows of the uploads bound as $cov (or another parameter)."""
    return f"list_contains(${param}, coalesce({column}, {NO_UPLOAD}))"
