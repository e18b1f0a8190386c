"""Where the app's own files are: the project root, its config and data folders, and the SQL
files (migrations, derived tables) under `lib/sql`."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config"
DATA = ROOT / "data"
SQL_DIR = ROOT / "lib" / "sql"
MIGRATIONS_DIR = SQL_DIR / "migrations"


def sql_file(name: str) -> str:
    """The text of `lib/sql/<name>.sql`."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
