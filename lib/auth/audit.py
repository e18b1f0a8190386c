"""The audit log: who did what and when, appended and never rewritten.

One JSON object per line in a file beside the store (`data/scorecard.audit.jsonl` for the
default store), so the app, the command line and several sessions can all append to it at
once, even while the app holds the store open. Logins, uploads, scheme saves, deletions, note,
plan and review edits and user changes are recorded by the `lib` functions that make them.
Nothing in the app edits or deletes a line; admins and managers can read it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from pathlib import Path

import pandas as pd

from lib.auth import access
from lib.core.errors import StoreError

_LOCK = threading.Lock()
COLUMNS = ["at", "who", "action", "target", "detail"]


def log_path(db_path: str | os.PathLike) -> Path:
    """The audit log that belongs to a store file."""
    db = Path(db_path)
    return db.with_name(f"{db.stem}.audit.jsonl")


def log_of(con) -> Path | None:
    """The audit log beside the store `con` was opened on (None for an in-memory store)."""
    row = (
        con.cursor()
        .execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()")
        .fetchone()
    )
    return log_path(row[0]) if row and row[0] else None


def record(log: Path | None, who: str, action: str, target: str = "", detail=None) -> dict:
    """Append one entry; returns it. The line is written in one call and flushed to disk."""
    entry = {"at": dt.datetime.now().isoformat(timespec="seconds"), "who": who or "system",
             "action": action, "target": str(target or ""), "detail": detail}  # fmt: skip
    if log is None:
        return entry
    line = (json.dumps(entry, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    with _LOCK:
        try:
            fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise StoreError(
                f"The audit log {log} could not be written ({exc.strerror}): the disk may be "
                "full or the folder read-only. Free some space or fix the permissions; the "
                f"action '{action}' was not logged."
            ) from exc
    return entry


def entries(log: Path | None, viewer: access.Viewer, limit: int | None = 1000, *,
            actions=(), people=()) -> pd.DataFrame:  # fmt: skip
    """The newest entries first, optionally only some actions or people (admins and managers
    only). A line torn by a crash is skipped."""
    access.require(viewer, "audit")
    rows = []
    if log is not None and Path(log).exists():
        for line in Path(log).read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    frame = pd.DataFrame(rows, columns=COLUMNS).iloc[::-1].reset_index(drop=True)
    frame["detail"] = [
        "" if d is None else d if isinstance(d, str) else json.dumps(d, ensure_ascii=False)
        for d in frame["detail"]
    ]
    if actions:
        frame = frame[frame["action"].isin(list(actions))]
    if people:
        frame = frame[frame["who"].isin(list(people))]
    return frame if limit is None else frame.head(limit)
