"""Every file of the bad-input corpus (tests/corpus.py), through the library and the CLI: a
clear message naming the file (and, for rows set aside, row, column and reason), counts that
add up, never a traceback, and nothing stored before changed."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import threading
import time

import psutil
import pytest

from lib.app import cli
from lib.app.stores import open_store
from lib.core import store, textsafe
from lib.core.errors import UnusableFile
from lib.ingest import reader
from lib.ingest.mapping import load as load_mapping
from lib.ingest.pipeline import ingest_file
from tests.corpus import GOOD, HEAD, _xlsx_with_cell, cases, write_bomb, write_corpus, write_large

CASES = cases()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return {case.name: path for case, path in write_corpus(tmp_path_factory.mktemp("corpus"))}


def stored_before(tmp_path):
    """A store holding one good upload, and a snapshot of what it holds."""
    con = open_store(tmp_path / "s.duckdb")
    first = tmp_path / "first.csv"
    first.write_text("\n".join([HEAD, *GOOD]) + "\n", encoding="utf-8")
    ingest_file(con, first, load_mapping("demo_tickets"))
    return con, snapshot(con)


def snapshot(con):
    return con.execute("SELECT * FROM tickets ORDER BY ticket_id").fetchall()


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 30 and len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_bad_file_gets_a_clear_answer_and_changes_nothing_stored(case, corpus, tmp_path):
    con, before = stored_before(tmp_path)
    path = corpus[case.name]
    if case.outcome == "unusable":
        with pytest.raises(UnusableFile) as exc:
            ingest_file(con, path, load_mapping(case.preset))
        assert str(exc.value).startswith(f"{case.name}: ")
        assert case.reason.lower() in str(exc.value).lower()
        assert snapshot(con) == before
        return
    result = ingest_file(con, path, load_mapping(case.preset))
    assert result.status == "stored"
    assert result.accepted + result.duplicates + result.quarantined == result.rows_read > 0
    assert result.quarantined >= case.quarantined
    for error in result.errors:
        assert error.row >= 1 and error.column and error.reason
    if case.reason:
        assert any(case.reason in e.reason for e in result.errors), [
            e.reason for e in result.errors
        ]
    kept = {r[0]: r for r in snapshot(con)}
    assert all(kept[r[0]] == r for r in before), "a row stored before was changed"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_cli_answers_without_a_traceback(case, corpus, tmp_path):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["ingest", str(corpus[case.name]), "--mapping", case.preset,
                         "--db", str(tmp_path / "cli.duckdb")])  # fmt: skip
    text = out.getvalue() + err.getvalue()
    assert "Traceback" not in text and case.name in text
    assert code == (2 if case.outcome == "unusable" else 0)


def test_text_that_looks_like_a_formula_is_stored_as_text(corpus, tmp_path):
    con, _ = stored_before(tmp_path)
    ingest_file(con, corpus["formula_injection.csv"], load_mapping("demo_tickets"))
    got = dict(
        con.execute("SELECT ticket_id, comment FROM tickets WHERE ticket_id LIKE 'F%'").fetchall()
    )
    assert got == {"F1": "+SUM(A1)", "F2": "@cmd", "F3": "-1+1"}


@pytest.mark.slow
def test_a_200_mb_export_is_stored_whole_with_its_broken_rows_set_aside(tmp_path):
    con, before = stored_before(tmp_path)
    con.close()
    path = tmp_path / "large_200mb.csv"
    tickets, broken = write_large(path)
    assert path.stat().st_size >= 200_000_000 and broken >= 10
    done = subprocess.run([sys.executable, "-m", "lib", "ingest", str(path), "--mapping", "demo_tickets",
                           "--db", str(tmp_path / "s.duckdb"), "--json"],
                          cwd=store.ROOT, capture_output=True, text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    (summary,) = json.loads(done.stdout)["files"]
    assert (summary["rows_read"], summary["accepted"], summary["quarantined"]) == (
        tickets,
        tickets - broken,
        broken,
    )
    assert {e["column"] for e in summary["errors"]} == {"Handle Time"}
    con = open_store(tmp_path / "s.duckdb", read_only=True)
    kept = {r[0]: r for r in snapshot(con)}
    assert all(kept[r[0]] == r for r in before) and len(kept) == len(before) + tickets - broken


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_upload_page_answers_each_bad_file(case, corpus, tmp_path, monkeypatch, accounts):
    from tests.test_app import new_app

    con, before = stored_before(tmp_path)
    con.close()
    at = new_app(tmp_path / "s.duckdb", monkeypatch, "admin").switch_page("pages/upload.py").run()
    assert at.header[0].value == "Upload data"  # opened there, as by its address
    at.file_uploader[0].set_value((case.name, corpus[case.name].read_bytes(), "text/csv")).run()
    assert not at.exception
    if not at.error:  # readable: store it with the case's preset
        next(s for s in at.selectbox if s.label == "Preset").set_value(case.preset).run()
        assert not at.exception
        if not at.error:
            next(b for b in at.button if b.label == "Store").click().run()
            assert not at.exception
    errors = " ".join(e.value for e in at.error)
    name = textsafe.md(case.name)  # file names are shown as text, escaped for Markdown
    if case.outcome == "unusable":
        assert errors.startswith("This file cannot be used") and name in errors, errors
    else:
        assert not errors and f"{name}: " in at.success[0].value
        assert any("= rows read." in c.value for c in at.caption)
    kept = {r[0]: r for r in snapshot(open_store(tmp_path / "s.duckdb"))}
    assert all(kept[r[0]] == r for r in before), "a row stored before was changed"


class PeakMemory:
    """The highest resident memory of a process (and, unless told not to, its children),
    sampled every 10 ms."""

    def __init__(self, process: psutil.Process, children: bool = True):
        self.process, self.peak, self._stop = process, 0, threading.Event()
        self.children = children
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                procs = [self.process]
                if self.children:
                    procs += self.process.children(recursive=True)
                self.peak = max(self.peak, sum(p.memory_info().rss for p in procs))
            time.sleep(0.01)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    path = tmp_path_factory.mktemp("bomb") / "bomb.xlsx"
    write_bomb(path)  # a 2 GiB cell in a ~2 MB workbook
    return path


def test_a_zip_bomb_is_refused_in_seconds_without_the_memory(bomb, tmp_path):
    assert bomb.stat().st_size < 5_000_000
    con, before = stored_before(tmp_path)
    # What refusing the bomb costs, over what this test process already holds (the whole
    # suite runs in one process, so its own size says little). Its children (the browser and
    # app a browser test left running in this process) are not this read's memory.
    baseline = psutil.Process().memory_info().rss
    start = time.monotonic()
    with PeakMemory(psutil.Process(), children=False) as memory, pytest.raises(UnusableFile) as exc:
        ingest_file(con, bomb, load_mapping("demo_tickets"))
    elapsed = time.monotonic() - start
    assert str(exc.value).startswith("bomb.xlsx: ") and "zip bomb" in str(exc.value)
    grown = max(memory.peak, psutil.Process().memory_info().rss) - baseline
    assert elapsed < 10 and grown < 1_000_000_000, (elapsed, grown)
    assert snapshot(con) == before


def test_the_cli_refuses_the_zip_bomb_in_seconds_without_the_memory(bomb, tmp_path):
    start = time.monotonic()
    child = subprocess.Popen([sys.executable, "-m", "lib", "ingest", str(bomb), "--mapping",
                              "demo_tickets", "--db", str(tmp_path / "cli.duckdb")],
                             cwd=store.ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)  # fmt: skip
    with PeakMemory(psutil.Process(child.pid)) as memory:
        out, err = child.communicate(timeout=60)
    elapsed = time.monotonic() - start
    assert child.returncode == 2 and "Traceback" not in err and "zip bomb" in out + err
    assert elapsed < 10 and memory.peak < 1_000_000_000, (elapsed, memory.peak)


def test_a_long_cell_that_does_not_compress_is_found_before_parsing(tmp_path, monkeypatch):
    """The byte scan, not the compression ratio, catches a long cell of varied text."""
    monkeypatch.setenv("SCORECARD_MAX_CELL_CHARS", "1000")
    path = tmp_path / "varied.xlsx"
    path.write_bytes(_xlsx_with_cell(7000, letter=b"q"))
    with pytest.raises(UnusableFile, match="longer than the limit of 1,000 characters"):
        reader.check_workbook(path, "varied.xlsx")
    monkeypatch.setenv("SCORECARD_MAX_CELL_CHARS", "5000")  # within 6 × the limit: read, exact
    with pytest.raises(UnusableFile, match=r"row 2, column B\) is longer than the limit"):
        reader.read_table(path)


def test_a_csv_made_of_one_50_mb_line_is_refused_with_a_message(tmp_path):
    path = tmp_path / "one_line.csv"
    path.write_bytes(b"a," * 25_000_000)
    with pytest.raises(UnusableFile, match="one_line.csv: the first line is longer than"):
        reader.read_table(path)


def test_a_csv_with_one_50_mb_cell_is_refused_and_named(tmp_path):
    """The cell is in the first data row, so a preview sees it too (it used to say "no rows")."""
    path = tmp_path / "big_cell.csv"
    path.write_text(HEAD + "\n" + GOOD[1].replace("好", "y" * 50_000_000) + "\n" + GOOD[0] + "\n")
    for preview in (5, None):
        with pytest.raises(UnusableFile, match="big_cell.csv: a (row|cell).* longer than"):
            reader.read_table(path, max_rows=preview)
