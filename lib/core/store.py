"""The DuckDB store: where the file lives, opening it safely, and versioned migrations.

One DuckDB file holds every canonical table, the upload log and the quarantine. Opening a
store creates it when missing and applies the numbered migrations in `lib/sql/migrations`
that it has not seen, each in its own transaction, so an older file opens after an upgrade.
A file written by a newer version of the app, a corrupt file, or one locked by another
program is refused with advice and never overwritten. Writers take `WRITE_LOCK` so that two
sessions of one process cannot interleave an upsert.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections import OrderedDict
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb

from lib.core.errors import StoreError
from lib.core.paths import MIGRATIONS_DIR, ROOT
from lib.core.tables import TABLES

DEFAULT_DB = ROOT / "data" / "scorecard.duckdb"

# Serialises writes inside one process; DuckDB's file lock covers other processes.
WRITE_LOCK = threading.RLock()


def resolve_db_path(explicit: str | os.PathLike | None = None) -> Path:
    """The store path: `--db`, else env `SCORECARD_DB`, else `data/scorecard.duckdb`."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("SCORECARD_DB")
    return Path(env).expanduser() if env else DEFAULT_DB


def migrations() -> list[tuple[int, Path]]:
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        m = re.match(r"(\d+)_", path.name)
        if m:
            found.append((int(m.group(1)), path))
    return found


LATEST_VERSION = max(v for v, _ in migrations())


_FULL = ("no space", "disk full", "file too large", "quota")  # EFBIG: a size limit, as full
_READ_ONLY = ("read-only", "permission denied")


def _explain_open_error(path: Path, exc: Exception) -> StoreError:
    text = str(exc)
    low = text.lower()
    if "lock" in low:
        return StoreError(
            f"The data file {path} is in use by another program. Close the other app window "
            f"or command that has it open, then try again. ({text.splitlines()[0]})"
        )
    if any(s in low for s in _READ_ONLY):
        return StoreError(
            f"The data file {path} cannot be written: the folder is read-only or you lack "
            "permission. Choose another location with --db or SCORECARD_DB."
        )
    if any(s in low for s in _FULL):
        return StoreError(f"The disk holding {path} is full. Free some space and try again.")
    if "version" in low and ("newer" in low or "storage" in low):
        return StoreError(
            f"The data file {path} was written by a newer version of the database engine. "
            "Upgrade the app (pip install -r requirements.txt) or restore a backup; "
            "the file was left untouched."
        )
    return StoreError(
        f"The data file {path} could not be opened: it may be damaged or not a Service "
        "Scorecard store. Restore it from a backup (python -m lib restore) or move it "
        f"aside to start fresh; the file was left untouched. ({text.splitlines()[0]})"
    )


def _explain_write_error(con, exc: BaseException) -> StoreError | None:
    """A full disk or an unwritable folder met while saving, as advice; None for other errors.
    The exception's context is searched too: clean-up code may have failed after the write."""
    chain, seen = [], exc
    while seen is not None and len(chain) < 10:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    found = [e for e in chain if any(s in str(e).lower() for s in _FULL + _READ_ONLY)]
    if not found:
        return None
    text = str(found[0])
    # After a failed write the database may refuse queries; the message names the file.
    named = re.search(r'file "([^"]+)"', text)
    path = named.group(1) if named else "the data file"
    with suppress(duckdb.Error):
        row = con.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchone()
        path = row[0] if row and row[0] else path
    first = text.splitlines()[0]
    if any(s in text.lower() for s in _FULL):
        return StoreError(
            f"Nothing was saved: the disk holding {path} is full, or the file has reached the "
            "largest size this system allows. Free some space (or move the store with "
            f"SCORECARD_DB) and try again; the data stored before is unchanged. ({first})"
        )
    return StoreError(  # what is left of the matches: read-only or no permission
        f"Nothing was saved: {path} or its folder is read-only, or you lack permission to "
        "write there. Fix the permissions or choose another location with --db or "
        f"SCORECARD_DB; the data stored before is unchanged. ({first})"
    )


def connect(path: str | os.PathLike | None = None, read_only: bool = False):
    """Open (creating if needed) and migrate the store; return the DuckDB connection.

    This only opens and migrates: the app and the command line use `lib.app.stores.open_store`,
    which also installs what the store must hold before use."""
    db = resolve_db_path(path)
    if not read_only:
        try:
            db.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _explain_open_error(db, exc) from exc
    try:
        con = duckdb.connect(str(db), read_only=read_only)
    except (duckdb.Error, OSError) as exc:
        raise _explain_open_error(db, exc) from exc
    try:
        migrate(con, db)
    except BaseException:
        con.close()
        raise
    return con


def schema_version(con) -> int:
    cur = con.cursor()
    exists = cur.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_meta'"
    ).fetchone()[0]
    if not exists:
        # A file with tables but no meta table is not ours.
        others = cur.execute("SELECT count(*) FROM information_schema.tables").fetchone()[0]
        return -1 if others else 0
    row = cur.execute("SELECT value FROM schema_meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def migrate(con, path: Path | str = "") -> int:
    """Apply the migrations this store has not seen; return the resulting version."""
    current = schema_version(con)
    if current < 0:
        raise StoreError(
            f"The file {path} is a database but not a Service Scorecard store; "
            "it was left untouched. Point --db or SCORECARD_DB at another file."
        )
    if current > LATEST_VERSION:
        raise StoreError(
            f"The data file {path} was written by a newer version of Service Scorecard "
            f"(schema {current}, this app knows up to {LATEST_VERSION}). Upgrade the app; "
            "the file was left untouched."
        )
    if current == LATEST_VERSION:
        return current
    with WRITE_LOCK:
        cur = con.cursor()
        for version, sql_path in migrations():
            if version <= current:
                continue
            cur.begin()
            try:
                cur.execute(
                    "CREATE TABLE IF NOT EXISTS schema_meta (key VARCHAR PRIMARY KEY, value VARCHAR)"
                )
                cur.execute(sql_path.read_text(encoding="utf-8"))
                cur.execute(
                    "INSERT OR REPLACE INTO schema_meta VALUES ('schema_version', ?)",
                    [str(version)],
                )
                cur.commit()
            except BaseException:
                cur.rollback()
                raise
    return LATEST_VERSION


def data_version(con) -> int:
    """A counter bumped by every change of stored data; caches key on it."""
    row = (
        con.cursor().execute("SELECT value FROM schema_meta WHERE key = 'data_version'").fetchone()
    )
    return int(row[0]) if row else 0


def bump_data_version(cur) -> None:
    """Inside a write transaction: mark the stored data as changed. Besides the counter, a
    random token names this state of the data, so two copies of one store file that change
    apart never share a cached result at the same count."""
    cur.execute(
        "INSERT OR REPLACE INTO schema_meta VALUES ('data_version', "
        "CAST(coalesce((SELECT CAST(value AS BIGINT) FROM schema_meta "
        "WHERE key = 'data_version'), 0) + 1 AS VARCHAR))"
    )
    cur.execute("INSERT OR REPLACE INTO schema_meta VALUES ('data_token', ?)", [uuid.uuid4().hex])


@contextmanager
def transaction(con):
    """A cursor inside one write transaction, taken under `WRITE_LOCK`: committed when the
    block ends, rolled back on any error. A full disk or a read-only folder becomes a
    `StoreError` that says nothing was saved."""
    with WRITE_LOCK:
        cur = con.cursor()
        cur.begin()
        try:
            yield cur
            cur.commit()
        except BaseException as exc:
            with suppress(duckdb.Error):  # a failed write may have ended the transaction already
                cur.rollback()
            if isinstance(exc, (duckdb.Error, OSError)):
                problem = _explain_write_error(con, exc)
                if problem is not None:
                    raise problem from exc
            raise


def write(con, work, bump: bool = True):
    """Run `work(cursor)` in one transaction (moving the data version, so cached KPI values
    are recomputed); roll back on any error. Returns what `work` returns."""
    with transaction(con) as cur:
        result = work(cur)
        if bump:
            bump_data_version(cur)
    return result


def latest_day(con):
    """The latest day with tickets or daily reports (None for an empty store)."""
    return (
        con.cursor()
        .execute(
            "SELECT max(d) FROM (SELECT max(created_at)::DATE AS d FROM tickets "
            "UNION ALL SELECT max(date) FROM agent_daily)"
        )
        .fetchone()[0]
    )


def quote_ident(name: str) -> str:
    """Quote an identifier that comes from validated config (never from user text)."""
    return '"' + name.replace('"', '""') + '"'


def table_counts(con) -> dict[str, int]:
    cur = con.cursor()
    return {
        name: cur.execute(f"SELECT count(*) FROM {quote_ident(name)}").fetchone()[0]
        for name in TABLES
    }


def is_empty(con) -> bool:
    """True while no canonical table holds a row: the one test of an empty store (first start,
    after the demo is cleared)."""
    cur = con.cursor()  # every page run asks: a row found ends it, no table is counted
    return not any(
        cur.execute(f"SELECT 1 FROM {quote_ident(name)} LIMIT 1").fetchall() for name in TABLES
    )


def store_id(con) -> str:
    """An id of the store file, set when it was created; tells stores apart in caches."""
    row = con.cursor().execute("SELECT value FROM schema_meta WHERE key = 'store_id'").fetchone()
    return row[0] if row else ""


_MEMO: OrderedDict = OrderedDict()
MEMO_SIZE = 256  # results kept, least recently used dropped first
_MEMO_LOCK = threading.Lock()


def memo(con, name, compute):
    """compute(), remembered until the stored data changes (per store, data version and the
    token of that state): the one cache of computed results. `name` is any hashable key naming what was computed."""
    meta = dict(con.cursor().execute(
        "SELECT key, value FROM schema_meta WHERE key IN ('store_id', 'data_version', 'data_token')"
    ).fetchall())  # fmt: skip
    key = (meta.get("store_id"), meta.get("data_version"), meta.get("data_token"), name)
    with _MEMO_LOCK:
        if key in _MEMO:
            _MEMO.move_to_end(key)
            return _MEMO[key]
    value = compute()  # outside the lock: two sessions may compute the same thing once each
    with _MEMO_LOCK:
        _MEMO[key] = value
        while len(_MEMO) > MEMO_SIZE:
            _MEMO.popitem(last=False)
    return value
