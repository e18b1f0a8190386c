"""Hostile data through every way out: formula cells in each CSV/XLSX the app or the command
line writes, and the text people and files wrote shown as text on the pages and in the report.

The hostile store is the demo plus one upload (through the page, from a file named like a
formula) whose rejected cells are formulas and whose agents, comments and notes hold Markdown
links, images and HTML."""

from __future__ import annotations

import contextlib
import io
import os
import re
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


# --- text from users is shown as text ---------------------------------------------------

TRAP = "127.0.0.1:9"
HOSTILE = (f"![r](http://{TRAP}/b.png) [Session expired](http://{TRAP}/phish) "
           f'<a href="http://{TRAP}/a">a</a> <img src="http://{TRAP}/i.png"> http://{TRAP}/bare '
           ":red[red] $x^2$ **bold**")  # fmt: skip
HOSTILE_NAME = f'<a href="http://{TRAP}/n">n</a> [x](http://{TRAP}/l)'  # no comma: a CSV cell


def hostile_store(db, hostile=HOSTILE, name=HOSTILE_NAME, when="2026-11-"):
    """The demo store plus an agent with a hostile name, and a note, a reply and a dispute
    with hostile text."""
    import csv

    from lib import notes, reviews
    from lib.access import Viewer
    from lib.ingest import ingest_file
    from lib.mapping import load as load_mapping

    path = db.with_name("hostile_agent.csv")
    with open(path, "w", newline="", encoding="utf-8") as out:
        w = csv.writer(out)
        w.writerow(HEAD.split(","))
        for i in range(40):
            day = f"{when}{1 + i % 14:02d}"
            w.writerow(row(f"H{i}", agent=name, created=f"{day} 09:00", first=f"{day} 09:01",
                           resolved=f"{day} 10:00", comment=hostile).split(","))  # fmt: skip
    con = store.connect(db)
    ingest_file(con, path, load_mapping("demo_tickets"))
    coach, ajie = Viewer("coach", "trainer"), Viewer("ajie", "agent", "阿杰")
    note = notes.add(con, coach, "阿杰", "praise", hostile)
    notes.acknowledge(con, ajie, note, hostile)
    mine = reviews.scored(con, ajie)
    taken = set(reviews.disputes(con, ajie)["review_id"])
    review = mine[~mine["review_id"].isin(taken)].iloc[0]
    dispute = reviews.open_dispute(con, ajie, review["review_id"], hostile,
                                   now=pd.Timestamp(review["reviewed_at"]).to_pydatetime())  # fmt: skip
    con.close()
    return dispute


# Markup that Markdown would act on: a character is inert when a backslash escapes it.
MARKUP = [re.compile(p) for p in (r"(?<!\\)\]\(", r"(?<!\\)<(a|img)\b", r"https?://",
                                   r"(?<!\\):red\[", r"(?<!\\)\*\*bold")]  # fmt: skip


def shown_as_markup(at) -> list[str]:
    """Text on the page that a browser would turn into a link or an image."""
    found = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "subheader",
                 "header", "title", "exception"):  # fmt: skip
        for element in at.get(kind):
            value = str(getattr(element, "value", ""))
            found += [value for m in MARKUP if m.search(value)]
    for element in at.metric:
        value = f"{element.label} {element.value}"
        found += [value for m in MARKUP if m.search(value)]
    for chart in at.get("plotly_chart"):
        spec = chart.proto.spec
        found += [spec[max(0, spec.find(m) - 80) :][:200] for m in ("<a ", "<img") if m in spec]
    return found


@pytest.fixture
def hostile_copy(demo_copy, monkeypatch):
    monkeypatch.setenv("HOSTILE_DISPUTE", str(hostile_store(demo_copy)))
    return demo_copy


@pytest.mark.parametrize("page", ["overview", "scorecard", "coaching", "plans", "rewards",
                                  "monitoring", "quality", "calibration", "upload", "audit",
                                  "users"])  # fmt: skip
def test_hostile_text_is_shown_as_text_on_every_page(page, hostile_copy, monkeypatch, accounts):
    at = new_app(hostile_copy, monkeypatch, "admin", agent=HOSTILE_NAME).run()
    at.switch_page(f"pages/{page}.py").run()
    if page == "coaching":
        at.selectbox(key="coach_agent").set_value("阿杰").run()
    if page == "quality":  # the manager's view of the hostile dispute
        pick = next(s for s in at.selectbox if s.label == "Open dispute")
        pick.set_value(int(os.environ["HOSTILE_DISPUTE"])).run()
    assert not at.exception
    assert shown_as_markup(at) == []


def test_an_agent_sees_hostile_replies_as_text(hostile_copy, monkeypatch, accounts):
    at = new_app(hostile_copy, monkeypatch, "ajie").run()
    for page in ("scorecard", "coaching", "quality"):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception and shown_as_markup(at) == []


def test_hostile_text_in_the_html_report_is_escaped(hostile_copy):
    from lib import report, schemes, scoring
    from lib.access import SYSTEM
    from lib.periods import parse

    con = store.connect(hostile_copy, read_only=True)
    card = scoring.scorecard(con, schemes.get(con, "balanced"), parse("2026-11"), viewer=SYSTEM)
    assert HOSTILE_NAME in set(card.agents["agent"])
    page = report.monthly_html(con, SYSTEM, card, None, "en")
    assert f'<a href="http://{TRAP}' not in page and f'src="http://{TRAP}' not in page
    assert "&lt;a href=" in page  # the name is there, as text
