"""Backups: a consistent copy of the store, its audit log and the accounts, and restoring one.

A backup is a folder (`data/backups/<time>/` by default) holding `scorecard.duckdb`, the
audit log, `auth.yaml` and the mapping files (presets and those you saved). It is taken through the open
connection after a checkpoint, under the write lock, so it can run while the app is in use,
and the copy is opened and its row counts compared before it is called done. Restoring
refuses a backup that does not open or comes from a newer app, and never deletes the current
store: it is moved aside as `<store>.before-restore-<time>` first. The app must be stopped
while restoring (the store is then not in use).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from lib.app.stores import open_store
from lib.auth import access, audit, users
from lib.core import errors, paths, store
from lib.core.errors import BackupError

STORE_NAME = "scorecard.duckdb"


def _db_path(con) -> Path:
    log = audit.log_of(con)
    if log is None:
        raise BackupError("An in-memory store cannot be backed up.")
    row = (
        con.cursor()
        .execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()")
        .fetchone()
    )
    return Path(row[0])


def backup(con, out_dir: str | Path | None = None, *, viewer: access.Viewer,
           auth: Path | None = None, now: dt.datetime | None = None) -> Path:  # fmt: skip
    """Copy the store (and audit log, accounts, saved mappings) into a new folder; return it
    (managers and admins, or the command line)."""
    access.require(viewer, "upload")
    db = _db_path(con)
    stamp = (now or dt.datetime.now()).strftime("%Y-%m-%d_%H%M%S")
    folder = Path(out_dir or db.parent / "backups") / stamp
    try:
        folder.mkdir(parents=True, exist_ok=False)
    except OSError as exc:
        raise BackupError(f"Cannot create the backup folder {folder}: {exc}") from exc
    counts = store.table_counts(con)
    with store.WRITE_LOCK:
        con.cursor().execute("CHECKPOINT")
        try:
            shutil.copy2(db, folder / STORE_NAME)
        except OSError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise BackupError(f"Copying {db} failed ({exc}); no backup was made.") from exc
    check = open_store(folder / STORE_NAME, read_only=True)
    try:
        if store.table_counts(check) != counts:
            raise BackupError(f"The copy in {folder} does not match the store; try again.")
    finally:
        check.close()
    log = audit.log_of(con)
    if log and log.exists():
        shutil.copy2(log, folder / log.name)
    auth = auth or users.auth_path()
    if auth.exists():
        shutil.copy2(auth, folder / "auth.yaml")
    shutil.copytree(paths.ROOT / "config" / "mappings", folder / "mappings")
    audit.record(log, viewer.username, "backup", str(folder), {"rows": sum(counts.values())})
    return folder


def restore(folder: str | Path, db_path: str | Path | None = None, *, with_accounts: bool = False,
            auth: Path | None = None, viewer: access.Viewer, now: dt.datetime | None = None) -> Path:  # fmt: skip
    """Put a backup in place of the store; returns where the previous store was moved (admins,
    or the command line)."""
    access.require(viewer, "users")
    folder = Path(folder)
    source = folder / STORE_NAME if folder.is_dir() else folder
    if not source.exists():
        raise BackupError(f"{folder} is not a backup: {STORE_NAME} is missing.")
    check = open_store(source, read_only=True)  # refuses damaged or newer files
    check.close()
    db = store.resolve_db_path(db_path)
    if db.exists():
        try:
            probe = open_store(db)
        except errors.StoreError as exc:
            if "in use" in str(exc):
                raise BackupError(f"{db} is in use: stop the app, then restore.") from exc
        else:
            probe.close()
    stamp = (now or dt.datetime.now()).strftime("%Y-%m-%d_%H%M%S")
    aside = db.with_name(f"{db.name}.before-restore-{stamp}")
    if db.exists():
        db.rename(aside)
        wal = db.with_name(db.name + ".wal")
        if wal.exists():
            wal.rename(aside.with_name(aside.name + ".wal"))
    shutil.copy2(source, db)
    log = audit.log_path(db)
    backup_log = next(iter(folder.glob("*.audit.jsonl")), None) if folder.is_dir() else None
    if backup_log is not None and not log.exists():
        shutil.copy2(backup_log, log)
    if with_accounts and folder.is_dir() and (folder / "auth.yaml").exists():
        target = auth or users.auth_path()
        if target.exists():
            target.rename(target.with_name(f"{target.name}.before-restore-{stamp}"))
        shutil.copy2(folder / "auth.yaml", target)
    audit.record(log, viewer.username, "restore", str(folder), {"previous_store": str(aside)})
    return aside
