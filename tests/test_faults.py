"""Faults from outside: an upload whose process is killed half-way through its transaction."""

from __future__ import annotations

import subprocess
import sys

from lib import store
from lib.ingest import ingest_file
from lib.mapping import load as load_mapping
from tests.corpus import GOOD, HEAD, row

# Runs an upload in another process that stops inside the transaction — after the rows and
# the quarantine are written, before the commit — and says so, so that it can be killed there.
STALLING_UPLOAD = """
import sys, time
from lib import ingest, store
from lib.mapping import load

real = ingest._quarantine

def stall(*args, **kwargs):
    real(*args, **kwargs)
    print("INSIDE", flush=True)
    time.sleep(120)

ingest._quarantine = stall
ingest.ingest_file(store.connect(sys.argv[1]), sys.argv[2], load("demo_tickets"))
"""


def test_an_upload_killed_half_way_leaves_the_store_exactly_as_before(tmp_path):
    db = tmp_path / "s.duckdb"
    first = tmp_path / "first.csv"
    first.write_text("\n".join([HEAD, *GOOD]) + "\n", encoding="utf-8")
    con = store.connect(db)
    ingest_file(con, first, load_mapping("demo_tickets"))
    tables = ("tickets", "uploads", "quarantine")
    before = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}
    version = store.data_version(con)
    con.close()

    big = tmp_path / "big.csv"
    days = [f"2026-05-{1 + i % 28:02d}" for i in range(5000)]
    lines = [row(f"K{i}", created=f"{d} 10:00", first=f"{d} 10:05", resolved=f"{d} 12:00")
             for i, d in enumerate(days)]  # fmt: skip
    big.write_text("\n".join([HEAD, *lines, row("BAD", handle="-1")]) + "\n", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-c", STALLING_UPLOAD, str(db), str(big)],
                            cwd=store.ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        assert proc.stdout.readline().strip() == b"INSIDE", proc.stderr.read().decode()
    finally:
        proc.kill()
        proc.wait(timeout=30)

    con = store.connect(db)
    after = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}
    assert after == before and store.data_version(con) == version
    again = ingest_file(con, big, load_mapping("demo_tickets"))  # and the store still works
    assert (again.accepted, again.quarantined) == (5000, 1)
