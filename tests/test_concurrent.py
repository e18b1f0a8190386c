"""Commands while the app is open on the same store: DuckDB gives one process write access, so
the app carries out the commands handed to it (lib/app/handoff.py). Proved with an app process
holding the store and with the real app in a browser, uploading while a command ingests."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from lib.app import handoff
from lib.app.stores import open_store
from tests.browser import ROOT

HEAD = ("Ticket ID,Agent,Created At,First Response At,Resolved At,Channel,Priority,Status,Team,"
        "Customer,Category,Customer Contacts,Agent Replies,Reopens,Transferred,Escalated,"
        "Complaint,Handle Time,CSAT,Comment\n")  # fmt: skip


def tickets(path: Path, prefix: str, n: int) -> Path:
    rows = "".join(
        f"{prefix}{i:04d},阿杰,2026-10-{1 + i % 28:02d} 10:00:00,2026-10-{1 + i % 28:02d} 10:02:00,"
        f"2026-10-{1 + i % 28:02d} 11:00:00,chat,normal,solved,售后组,C{i},退款,1,2,0,no,no,no,60,5,\n"
        for i in range(n)
    )
    path.write_text(HEAD + rows, encoding="utf-8")
    return path


def cli(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "lib", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


HOLDER = """
import sys, time
from lib.app import handoff
from lib.app.stores import open_store
con = open_store(sys.argv[1])  # holds the store like the app does
handoff.serve(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
"""


def _wait_serving(db: Path, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while not handoff.serving(db):
        assert time.time() < deadline, "the app never served the store"
        time.sleep(0.2)


def _count(db: Path, prefix: str) -> int:
    con = open_store(db, read_only=True)
    try:
        return con.execute("SELECT count(*) FROM tickets WHERE ticket_id LIKE ?",
                           [prefix + "%"]).fetchone()[0]  # fmt: skip
    finally:
        con.close()


def test_commands_run_while_another_process_holds_the_store(tmp_path):
    db = tmp_path / "s.duckdb"
    open_store(db).close()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], cwd=ROOT, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "ready"
        _wait_serving(db)
        a, b = tickets(tmp_path / "a.csv", "CA", 150), tickets(tmp_path / "b.csv", "CB", 150)
        jobs = [cli("ingest", str(a), "--mapping", "demo_tickets", "--db", str(db)),
                cli("ingest", str(b), "--mapping", "demo_tickets", "--db", str(db), "--json")]  # fmt: skip
        outs = [j.communicate(timeout=120) for j in jobs]
        assert [j.returncode for j in jobs] == [0, 0], outs
        assert "150 rows read — 150 accepted" in outs[0][0]
        assert '"accepted": 150' in outs[1][0]
        assert all("in use" not in err for _, err in outs)
        drop = tmp_path / "drop"
        drop.mkdir()
        tickets(drop / "day.csv", "CW", 20)
        watch = cli("watch", str(drop), "--mapping", "demo_tickets", "--once", "--settle", "0.3",
                    "--db", str(db))  # fmt: skip
        out, err = watch.communicate(timeout=120)
        assert watch.returncode == 0, err
        assert "(in the app) day.csv: " in err and "20 accepted" in err
        report = cli("report", "--period", "2026-10", "--lang", "en", "--out",
                     str(tmp_path / "r.html"), "--db", str(db))  # fmt: skip
        out, err = report.communicate(timeout=120)
        assert report.returncode == 0, err
        assert "Service scorecard report 2026-10" in (tmp_path / "r.html").read_text("utf-8")
    finally:
        holder.communicate("\n", timeout=30)
    assert (_count(db, "CA"), _count(db, "CB"), _count(db, "CW")) == (150, 150, 20)


def test_without_an_app_a_busy_store_is_still_reported(tmp_path):
    db = tmp_path / "s.duckdb"
    open_store(db).close()
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; "
                               f"c = duckdb.connect({str(db)!r}); print('ready', flush=True); "
                               "sys.stdin.readline()"], cwd=ROOT, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "ready"
        job = cli("ingest", str(tickets(tmp_path / "a.csv", "CA", 3)), "--mapping",
                  "demo_tickets", "--db", str(db))  # fmt: skip
        out, err = job.communicate(timeout=60)
        assert job.returncode == 2
        assert "in use by another program" in err
    finally:
        holder.communicate("\n", timeout=30)


@pytest.mark.browser
def test_app_upload_and_cli_ingest_at_the_same_time(demo_copy, accounts, tmp_path, chromium):
    from playwright.sync_api import expect

    from tests.browser import AppServer, contexts, open_tab, settle, sign_in
    from tests.conftest import PASSWORD

    in_app, by_cli = (
        tickets(tmp_path / "app.csv", "AP", 120),
        tickets(tmp_path / "cli.csv", "CL", 120),
    )
    with AppServer(demo_copy) as app, contexts(chromium) as new_context:
        tab = open_tab(new_context(), app.url)
        tab.set_default_timeout(60000)
        sign_in(tab, "admin", PASSWORD)
        _wait_serving(demo_copy)
        tab.get_by_role("link", name="Upload data").click()
        settle(tab)
        tab.locator("input[type='file']").set_input_files(str(in_app))
        expect(
            tab.get_by_text("Presets that fit this file: The built-in demo helpdesk export")
        ).to_be_visible()
        job = cli("ingest", str(by_cli), "--mapping", "demo_tickets", "--db", str(demo_copy))
        tab.get_by_role("button", name="Store").click()  # while the command runs
        out, err = job.communicate(timeout=180)
        expect(
            tab.get_by_text("Accepted + duplicates + quarantined = 120 = rows read.")
        ).to_be_visible()
        expect(tab.locator("[data-testid='stException']")).to_have_count(0)
        assert job.returncode == 0, err
        assert "120 rows read — 120 accepted" in out and err == ""
    assert (_count(demo_copy, "AP"), _count(demo_copy, "CL")) == (120, 120)


def test_the_app_runs_only_the_commands_that_may_run_beside_it(tmp_path):
    answer = handoff.run(["users", "add", "mallory", "--role", "admin"], {})
    assert answer["code"] == 2 and "stop the app for the others" in answer["stderr"]
    assert not handoff.allowed(["watch", "folder", "--mapping", "x"])  # an endless loop
    assert handoff.allowed(["watch", "folder", "--mapping", "x", "--once"])
    assert handoff.absolute(["ingest", "a.csv", "--mapping", "zendesk", "--out", "r.html"])[3:] == [
        "zendesk",
        "--out",
        str(Path("r.html").resolve()),
    ]
