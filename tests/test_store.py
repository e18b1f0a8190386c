"""The store: schema matches the table specs, migrations, refusals that leave files untouched."""

import hashlib
import subprocess
import sys

import duckdb
import pytest

from lib.core import errors, store
from lib.core.tables import SQL_TYPES, TABLES


def test_schema_matches_the_canonical_table_specs(con):
    cur = con.cursor()
    for name, table in TABLES.items():
        got = cur.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_name = ? ORDER BY ordinal_position",
            [name],
        ).fetchall()
        want = [(c.name, SQL_TYPES[c.kind], "NO" if c.required else "YES") for c in table.stored]
        # Columns added by later migrations stand after upload_id.
        assert sorted(got) == sorted([*want, ("upload_id", "BIGINT", "YES")])


def test_migrations_bring_an_old_store_up_to_date(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.close()  # version 0: created but never migrated
    con = store.connect(path)
    assert store.schema_version(con) == store.LATEST_VERSION
    con.close()
    con = store.connect(path)  # opening again applies nothing new
    assert store.schema_version(con) == store.LATEST_VERSION


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_newer_store_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "newer.duckdb"
    con = store.connect(path)
    con.execute("UPDATE schema_meta SET value = '999' WHERE key = 'schema_version'")
    con.close()
    before = digest(path)
    with pytest.raises(errors.StoreError, match="newer version"):
        store.connect(path)
    assert digest(path) == before


def test_foreign_database_is_refused(tmp_path):
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE invoices (id INT)")
    con.close()
    with pytest.raises(errors.StoreError, match="not a Service Scorecard store"):
        store.connect(path)


def test_corrupt_file_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "corrupt.duckdb"
    path.write_bytes(b"this is not a database" * 1000)
    before = digest(path)
    with pytest.raises(errors.StoreError, match="could not be opened"):
        store.connect(path)
    assert digest(path) == before


def test_store_locked_by_another_process_gives_a_clear_message(tmp_path):
    path = tmp_path / "locked.duckdb"
    store.connect(path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import duckdb,sys,time; c=duckdb.connect({str(path)!r}); print('ok', flush=True); "
         "sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(errors.StoreError, match="in use by another program"):
            store.connect(path)
    finally:
        holder.stdin.close()
        holder.wait(10)


def test_db_path_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("SCORECARD_DB", raising=False)
    assert store.resolve_db_path() == store.DEFAULT_DB
    monkeypatch.setenv("SCORECARD_DB", str(tmp_path / "env.duckdb"))
    assert store.resolve_db_path() == tmp_path / "env.duckdb"
    assert store.resolve_db_path(tmp_path / "arg.duckdb") == tmp_path / "arg.duckdb"


def test_importing_lib_does_not_import_streamlit():
    code = (
        "import sys, pkgutil, importlib, lib\n"
        "for m in pkgutil.iter_modules(lib.__path__):\n    if m.name != '__main__': importlib.import_module('lib.' + m.name)\n"
        "assert 'streamlit' not in sys.modules, 'lib imported streamlit'\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=store.ROOT)  # fmt: skip
    assert out.returncode == 0, out.stderr


def test_two_copies_of_a_store_that_change_apart_never_share_a_cached_result(tmp_path):
    import shutil

    first = tmp_path / "a.duckdb"
    con = store.connect(first)
    store.write(con, lambda cur: None)
    con.close()
    shutil.copy(first, tmp_path / "b.duckdb")
    a, b = store.connect(first), store.connect(tmp_path / "b.duckdb")
    assert store.store_id(a) == store.store_id(b)
    assert store.memo(a, "what", lambda: "a, unchanged") == "a, unchanged"
    assert store.memo(b, "what", lambda: "b") == "a, unchanged"  # the same data: shared
    store.write(a, lambda cur: None)
    store.write(b, lambda cur: None)
    assert store.data_version(a) == store.data_version(b)  # the same count, different data
    assert store.memo(a, "what", lambda: "a, changed") == "a, changed"
    assert store.memo(b, "what", lambda: "b, changed") == "b, changed"
