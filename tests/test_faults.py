"""Faults from outside: an upload killed half-way through its transaction, a full disk and a
read-only data folder. (An audit log that cannot be written while the app runs: test_browser.)"""

from __future__ import annotations

import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from lib.app.stores import open_store
from lib.core import store
from lib.ingest.mapping import load as load_mapping
from lib.ingest.pipeline import ingest_file
from tests.corpus import GOOD, HEAD, row

# Runs an upload in another process that stops inside the transaction — after the rows and
# the quarantine are written, before the commit — and says so, so that it can be killed there.
STALLING_UPLOAD = """
import sys, time
from lib.app.stores import open_store
from lib.ingest import pipeline
from lib.ingest.mapping import load

real = pipeline._quarantine

def stall(*args, **kwargs):
    real(*args, **kwargs)
    print("INSIDE", flush=True)
    time.sleep(120)

pipeline._quarantine = stall
pipeline.ingest_file(open_store(sys.argv[1]), sys.argv[2], load("demo_tickets"))
"""


def _stored(db) -> tuple[dict, int]:
    con = open_store(db, read_only=True)
    try:
        tables = ("tickets", "uploads", "quarantine")
        rows = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}
        return rows, store.data_version(con)
    finally:
        con.close()


def _store_with_three_tickets(folder):
    db, first = folder / "s.duckdb", folder / "first.csv"
    first.write_text("\n".join([HEAD, *GOOD]) + "\n", encoding="utf-8")
    con = open_store(db)
    ingest_file(con, first, load_mapping("demo_tickets"))
    con.close()
    return db


def _export(path, tickets: int, extra: tuple[str, ...] = ()) -> None:
    """A ticket export of `tickets` good June tickets, then the `extra` lines."""
    days = [f"2026-06-{1 + i % 28:02d}" for i in range(tickets)]
    lines = [row(f"F{i}", created=f"{d} 10:00", first=f"{d} 10:05", resolved=f"{d} 12:00")
             for i, d in enumerate(days)]  # fmt: skip
    path.write_text("\n".join([HEAD, *lines, *extra]) + "\n", encoding="utf-8")


def test_an_upload_killed_half_way_leaves_the_store_exactly_as_before(tmp_path):
    db = _store_with_three_tickets(tmp_path)
    before = _stored(db)
    big = tmp_path / "big.csv"
    _export(big, 5000, extra=(row("BAD", handle="-1"),))
    proc = subprocess.Popen([sys.executable, "-c", STALLING_UPLOAD, str(db), str(big)],
                            cwd=store.ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        assert proc.stdout.readline().strip() == b"INSIDE", proc.stderr.read().decode()
    finally:
        proc.kill()
        proc.wait(timeout=30)

    assert _stored(db) == before  # rows of tickets, uploads and quarantine, and the data version
    con = open_store(db)
    again = ingest_file(con, big, load_mapping("demo_tickets"))  # and the store still works
    assert (again.accepted, again.quarantined) == (5000, 1)


def _cli(*args, preexec_fn=None):
    """`python -m lib ARGS` in a child process."""
    return subprocess.run([sys.executable, "-m", "lib", *map(str, args)], cwd=store.ROOT,
                          capture_output=True, text=True, preexec_fn=preexec_fn, timeout=300)  # fmt: skip


def test_a_full_disk_during_an_upload_is_reported_and_nothing_is_lost(tmp_path):
    db = _store_with_three_tickets(tmp_path)
    before = _stored(db)
    big = tmp_path / "june.csv"
    _export(big, 60_000)
    limit = db.stat().st_size + 256 * 1024  # the store may grow by a quarter MB: the disk is full

    def small_disk():  # in the child: writes past `limit` bytes fail with "File too large"
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

    done = _cli("ingest", "--db", db, "--mapping", "demo_tickets", big, preexec_fn=small_disk)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert f"Nothing was saved: the disk holding {db} is full" in done.stderr
    assert _stored(db) == before
    again = _cli("ingest", "--db", db, "--mapping", "demo_tickets", big)  # space again: it works
    assert again.returncode == 0 and "60,000 accepted" in again.stdout, again.stderr


# The command line as a user without root's right to write anywhere: what an upload needs is
# loaded first, as the interpreter's own files may not be readable by that user.
UNPRIVILEGED_CLI = """
import os, sys
from lib.monitoring import alerts
from lib.app import cli
from lib.ingest import pipeline, mapping, reader
from lib.core import store
if os.geteuid() == 0:
    os.setgid(65534)
    os.setuid(65534)
sys.exit(cli.main(sys.argv[1:]))
"""


def test_a_read_only_data_folder_is_reported_and_nothing_is_lost():
    folder = Path(tempfile.mkdtemp(prefix="scorecard-ro-"))  # outside tmp_path: others may read
    try:
        db = _store_with_three_tickets(folder)
        _export(folder / "june.csv", 10)
        before = _stored(db)
        for path in folder.iterdir():
            path.chmod(0o444)
        folder.chmod(0o555)
        args = ["ingest", "--db", db, "--mapping", "demo_tickets", folder / "june.csv"]
        done = subprocess.run([sys.executable, "-c", UNPRIVILEGED_CLI, *map(str, args)],
                              cwd=store.ROOT, capture_output=True, text=True, timeout=300)  # fmt: skip
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert f"The data file {db} cannot be written: the folder is read-only" in done.stderr
        assert _stored(db) == before
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)
