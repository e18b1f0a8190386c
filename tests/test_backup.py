"""Backups and restores: consistent copies, restore keeps the old store, refusals are clear."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from lib.app import backup
from lib.app.stores import open_store
from lib.auth.access import SYSTEM, Viewer
from lib.coaching import notes
from lib.core import errors, store

COACH = Viewer("coach", "trainer")


def test_backup_then_restore_brings_back_what_was_there(demo_copy, tmp_path, accounts):
    con = open_store(demo_copy)
    notes.add(con, COACH, "阿杰", "praise", "written before the backup")  # starts the audit log
    before = store.table_counts(con)
    folder = backup.backup(
        con, tmp_path / "backups", viewer=SYSTEM, now=dt.datetime(2026, 11, 23, 9)
    )
    assert {p.name for p in folder.iterdir()} >= {"scorecard.duckdb", "auth.yaml", "mappings",
                                                  "demo.audit.jsonl"}  # fmt: skip
    notes.add(con, COACH, "阿杰", "praise", "written after the backup")
    con.cursor().execute("DELETE FROM tickets WHERE agent = '阿杰'")
    con.close()
    aside = backup.restore(folder, demo_copy, viewer=SYSTEM, now=dt.datetime(2026, 11, 23, 10))
    assert aside.exists() and aside.name == "demo.duckdb.before-restore-2026-11-23_100000"
    restored = open_store(demo_copy)
    assert store.table_counts(restored) == before
    assert "written after the backup" not in set(notes.timeline(restored, COACH)["body"])
    restored.close()
    kept = open_store(aside, read_only=True)  # the replaced store is intact, not deleted
    assert "written after the backup" in set(notes.timeline(kept, COACH)["body"])
    kept.close()


def test_restore_refuses_what_is_not_a_backup(tmp_path):
    with pytest.raises(errors.BackupError, match="is not a backup"):
        backup.restore(tmp_path, tmp_path / "s.duckdb", viewer=SYSTEM)
    (tmp_path / "scorecard.duckdb").write_bytes(b"not a database at all" * 100)
    with pytest.raises(errors.StoreError, match="damaged or not a Service Scorecard store"):
        backup.restore(tmp_path, tmp_path / "s.duckdb", viewer=SYSTEM)


def test_restore_refuses_while_the_store_is_in_use(demo_copy, tmp_path):
    con = open_store(demo_copy)
    folder = backup.backup(con, tmp_path / "b", viewer=SYSTEM)
    con.close()
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; "
                               f"c = duckdb.connect({str(demo_copy)!r}); print('ok', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(errors.BackupError, match="in use: stop the app"):
            backup.restore(folder, demo_copy, viewer=SYSTEM)
    finally:
        holder.kill()
    assert not list(demo_copy.parent.glob("*.before-restore-*"))  # nothing was moved


def test_backup_and_restore_commands(demo_copy, tmp_path):
    env_db = ["--db", str(demo_copy)]
    done = subprocess.run([sys.executable, "-m", "lib", "backup", "--out", str(tmp_path / "bk"), *env_db],
                          capture_output=True, text=True, cwd=store.ROOT, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    folder = next((tmp_path / "bk").iterdir())
    done = subprocess.run([sys.executable, "-m", "lib", "restore", str(folder), *env_db],
                          capture_output=True, text=True, cwd=store.ROOT, timeout=120)  # fmt: skip
    assert done.returncode == 0 and "previous store was kept" in done.stdout
