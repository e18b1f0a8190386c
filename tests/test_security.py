"""Hostile data through every way out: formula cells in each CSV/XLSX the app or the command
line writes, and the text people and files wrote shown as text on the pages and in the report.

The hostile store is the demo plus one upload (through the page, from a file named like a
formula) whose rejected cells are formulas and whose agents, comments and notes hold Markdown
links, images and HTML."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys

import openpyxl
import pandas as pd
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager

from lib import cli, store
from tests.corpus import HEAD, row
from tests.test_app import new_app

FORMULAS = ['=HYPERLINK("http://127.0.0.1:9/x")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3",
            " =1+1"]  # fmt: skip
FILE = "=1+1.csv"


def hostile_csv() -> bytes:
    lines = [HEAD, row("Z1", handle=FORMULAS[0]), row("Z2", csat=FORMULAS[1]),
             row("Z3", created=FORMULAS[2]), row("Z4", handle=FORMULAS[3]),
             row("Z5", handle=FORMULAS[4]), row("Z6")]  # fmt: skip
    return ("\n".join(lines) + "\n").encode("utf-8")


def live_formula(value) -> bool:
    """Whether a spreadsheet would run this cell."""
    return isinstance(value, str) and value.lstrip(" ").startswith(("=", "+", "-", "@"))


@pytest.fixture
def downloads(monkeypatch):
    """Every file a download button offers, by file name (deferred ones generated)."""
    got: dict[str, bytes] = {}
    add, deferred = MediaFileManager.add, MediaFileManager.add_deferred

    def record_add(self, data, mimetype, coordinates, file_name=None, **kw):
        if file_name:
            got[file_name] = data if isinstance(data, bytes) else str(data).encode()
        return add(self, data, mimetype, coordinates, file_name, **kw)

    def record_deferred(self, make, mimetype, coordinates, file_name=None, **kw):
        if file_name:
            data = make()
            got[file_name] = data if isinstance(data, bytes) else data.encode()
        return deferred(self, make, mimetype, coordinates, file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add", record_add)
    monkeypatch.setattr(MediaFileManager, "add_deferred", record_deferred)
    return got


def cells(name: str, data: bytes) -> list:
    if name.endswith(".xlsx"):
        book = openpyxl.load_workbook(io.BytesIO(data))
        return [c for ws in book for r in ws.iter_rows(values_only=True) for c in r]
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    return list(frame.columns) + frame.to_numpy().ravel().tolist()


def test_every_download_neutralises_formula_cells(demo_copy, monkeypatch, accounts, downloads):
    at = new_app(demo_copy, monkeypatch, "admin").run()
    at.switch_page("pages/upload.py").run()
    at.file_uploader[0].set_value((FILE, hostile_csv(), "text/csv")).run()
    next(s for s in at.selectbox if s.label == "Preset").set_value("demo_tickets").run()
    next(b for b in at.button if b.label == "Store").click().run()
    assert not at.exception and not at.error
    for page in ("overview", "rewards", "audit", "upload"):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception
    wanted = {"quarantine_all.csv", "audit.csv"}
    assert wanted <= set(downloads) and any(n.startswith("quarantine_") for n in downloads)
    assert any(n.endswith(".xlsx") for n in downloads) and any(
        n.startswith("bonus_") for n in downloads
    )
    seen = {n: cells(n, d) for n, d in downloads.items() if n.endswith((".csv", ".xlsx"))}
    quarantine = " ".join(map(str, seen["quarantine_all.csv"]))
    for formula in FORMULAS:  # the rejected cells are there, neutralised
        assert "'" + formula in quarantine, formula
    assert "'" + FILE in quarantine and "'" + FILE in " ".join(map(str, seen["audit.csv"]))
    for name, values in seen.items():
        assert not [v for v in values if live_formula(v)], name


def test_the_quarantine_command_neutralises_formula_cells(tmp_path, accounts):
    from lib.ingest import ingest_file
    from lib.mapping import load as load_mapping

    db, path = tmp_path / "s.duckdb", tmp_path / FILE
    path.write_bytes(hostile_csv())
    con = store.connect(db)
    ingest_file(con, path, load_mapping("demo_tickets"))
    con.close()
    out = tmp_path / "problems.csv"
    assert cli.main(["quarantine", "--db", str(db), "--out", str(out)]) == 0
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        cli.main(["quarantine", "--db", str(db)])
    for data in (out.read_bytes(), printed.getvalue().encode("utf-8")):
        values = cells("q.csv", data)
        assert len(values) > 10 and not [v for v in values if live_formula(v)]
        assert "'" + FORMULAS[1] in values
    done = subprocess.run([sys.executable, "-m", "lib", "scorecard", "--db", str(db), "--format",
                           "csv"], cwd=store.ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert not [v for v in cells("c.csv", done.stdout.encode()) if live_formula(v)]
