"""Storing uploads and what follows them: the one way the upload page, the command line, the
folder watcher and the demo store files.

Each file is ingested in its own transaction (`lib.ingest.pipeline.ingest_file`); then the
alerts of the agents the stored uploads touched are brought up to date
(`lib.monitoring.alerts.refresh`), so the alerts never lag behind the data and no page render
has to catch them up.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import duckdb

from lib.auth import access
from lib.core.errors import UnusableFile
from lib.ingest.mapping import Mapping
from lib.ingest.pipeline import IngestResult, Scope, ingest_file
from lib.monitoring import alerts

ALERTS_STEP = "alerts"  # the progress message while the alerts are brought up to date


@dataclass(frozen=True)
class Upload:
    """One file to store, and how."""

    path: Path
    mapping: Mapping
    sheet: str | None = None
    file_name: str | None = None  # the name the user gave the file, when `path` is a copy
    scope: Scope | None = None
    is_demo: bool = False


def store_uploads(con, viewer: access.Viewer, uploads: list[Upload], *, progress=None,
                  ingest_memory: str | None = None) -> list[IngestResult | UnusableFile]:  # fmt: skip
    """Store each file (by `viewer`, who must be allowed to upload), then refresh the alerts
    for what was stored. Returns, per file in order, its result, or the `UnusableFile` that
    explains why it could not be read at all; other errors propagate and store nothing more.
    `progress(fraction, message)` follows each file, then `ALERTS_STEP`. `ingest_memory`
    (e.g. "500MB") caps DuckDB's memory while the files are stored, for a process that does
    nothing else (the command line): DuckDB keeps the blocks it writes in memory up to its
    limit, most of the machine by default; past the cap they go to disk. The alert refresh
    runs with the limit as it was, as its interval lists cannot go to disk."""
    access.require(viewer, "upload")
    results: list[IngestResult | UnusableFile] = []
    if ingest_memory:
        con.execute(f"SET memory_limit = '{ingest_memory}'")
    try:
        _store_each(con, viewer, uploads, progress, results)
    finally:
        if ingest_memory:
            with suppress(duckdb.Error):  # a store a failed write invalidated keeps its error
                con.execute("RESET memory_limit")
    stored = [r.upload_id for r in results
              if isinstance(r, IngestResult) and r.upload_id is not None]  # fmt: skip
    if stored:
        if progress:
            progress(1.0, ALERTS_STEP)
        alerts.refresh(con, viewer, uploads=stored)  # for the agents the uploads touched
    return results


def _store_each(con, viewer, uploads: list[Upload], progress, results: list) -> None:
    for i, up in enumerate(uploads):
        step = None
        if progress:
            step = lambda f, m, i=i: progress((i + min(f, 1.0)) / len(uploads), m)  # noqa: E731
        try:
            results.append(ingest_file(con, up.path, up.mapping, viewer=viewer, sheet=up.sheet,
                                       file_name=up.file_name, scope=up.scope,
                                       is_demo=up.is_demo, progress=step))  # fmt: skip
        except UnusableFile as exc:
            results.append(exc)
