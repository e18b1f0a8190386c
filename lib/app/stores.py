"""Opening the store for the app, the command line and jobs: `store.connect` opens and migrates,
then `open_store` installs what the store must hold before use (the QA rubric's criteria, which
review scores read)."""

from __future__ import annotations

import os

from lib.core import store
from lib.quality import rubric


def open_store(path: str | os.PathLike | None = None, read_only: bool = False):
    """The DuckDB connection to the store at `path` (see `store.resolve_db_path`), migrated and,
    unless read-only, with the rubric in force installed."""
    con = store.connect(path, read_only=read_only)
    if not read_only:
        try:
            rubric.install(con)
        except BaseException:
            con.close()
            raise
    return con
