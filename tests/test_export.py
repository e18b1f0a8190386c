"""Scorecard exports and the scorecard/kpis/schemes commands."""

import json
import subprocess
import sys

import openpyxl
import pandas as pd
import pytest

from lib import export, schemes, scoring, store
from lib.access import SYSTEM
from lib.periods import parse
from tests.kpi_fixtures import D, insert, service_store, t


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("=HYPERLINK(1)", "'=HYPERLINK(1)"), ("+1", "'+1"), ("-2", "'-2"), ("@SUM", "'@SUM"),
     ("\tx", "'\tx"), ("小美", "小美"), (3, 3), (-2.5, -2.5)],
)  # fmt: skip
def test_formula_injection_is_neutralised(cell, expected):
    assert export.neutralise(cell) == expected


def card_with_a_hostile_name(tmp_path):
    con = service_store(tmp_path / "s.duckdb")
    insert(con, "tickets", [t("H1", "=cmd|' /C calc'!A0", D(2026, 5, 9, 9), fr=5, res=9, csat=5)])
    return scoring.scorecard(con, schemes.get(con, "small_shop"), parse("2026-05"), viewer=SYSTEM)


def test_csv_and_xlsx_exports(tmp_path):
    card = card_with_a_hostile_name(tmp_path)
    text = export.write(card, "csv", None)
    assert "'=cmd" in text and "\n=cmd" not in text
    out = tmp_path / "card.xlsx"
    export.write(card, "xlsx", out)
    sheet = openpyxl.load_workbook(out).active
    names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "'=cmd|' /C calc'!A0" in names and "A" in names
    header = [c.value for c in sheet[1]]
    assert header[:8] == ["agent", "team", "composite", "composite_low", "composite_high", "grade",
                          "rank", "rank_range"]  # fmt: skip
    assert "csat score" in header and "flags" in header


def test_json_export_has_every_kpi_with_its_source(tmp_path):
    card = card_with_a_hostile_name(tmp_path)
    data = json.loads(export.as_json(card))
    a = next(x for x in data["agents"] if x["agent"] == "A")
    assert data["scheme"] == "small_shop" and data["period"] == "2026-05"
    assert set(a["kpis"]) == {"csat", "complaint_rate", "fcr_rate", "first_response_time",
                              "avg_response_time"}  # fmt: skip
    assert a["kpis"]["csat"]["source"] == "tickets" and a["kpis"]["csat"]["display"] == "66.7%"
    # No daily reports in this store: the KPI is there with null values, never NaN.
    assert a["kpis"]["avg_response_time"]["value"] is None
    assert a["kpis"]["avg_response_time"]["status"] == "no data"


def cli(*args, db=None):
    extra = ["--db", str(db)] if db else []
    return subprocess.run([sys.executable, "-m", "lib", *args, *extra], capture_output=True,
                          text=True, cwd=store.ROOT)  # fmt: skip


def test_scorecard_command(tmp_path):
    db = tmp_path / "s.duckdb"
    service_store(db).close()
    out = cli(
        "scorecard", "--scheme", "small_shop", "--period", "2026-05", "--format", "json", db=db
    )
    assert out.returncode == 0, out.stderr
    assert {a["agent"] for a in json.loads(out.stdout)["agents"]} == {"A", "B"}
    table = cli("scorecard", "--from", "2026-05-01", "--to", "2026-05-31", "--team", "X", db=db)
    assert table.returncode == 0 and "A" in table.stdout and " B " not in table.stdout
    xlsx = tmp_path / "x.xlsx"
    assert (
        cli(
            "scorecard", "--period", "2026-05", "--format", "xlsx", "--out", str(xlsx), db=db
        ).returncode
        == 0
    )
    assert len(pd.read_excel(xlsx)) == 2
    for bad, message in [(["--period", "2026-13"], "no month 13"),
                         (["--scheme", "nope"], "no scheme of that name"),
                         (["--format", "xlsx"], "needs --out")]:  # fmt: skip
        out = cli("scorecard", *bad, db=db)
        assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr


def test_kpis_and_schemes_commands(tmp_path):
    out = cli("kpis", "--check")
    assert (
        out.returncode == 0
        and "SQL check: ok" in out.stdout
        and "first_response_time" in out.stdout
    )
    zh = cli("kpis", "--lang", "zh")
    assert "首次响应时长" in zh.stdout
    listing = cli("schemes", db=tmp_path / "x.duckdb")
    assert listing.returncode == 0 and "big_seller_12" in listing.stdout
    history = cli("schemes", "after_sales", db=tmp_path / "x.duckdb")
    assert "v1" in history.stdout and "built-in preset" in history.stdout


def test_html_report_is_self_contained_and_handles_missing_values(tmp_path):
    from lib import report

    con = service_store(tmp_path / "s.duckdb")
    card = scoring.scorecard(con, schemes.get(con, "balanced"), parse("2026-05"), viewer=SYSTEM)
    page = report.monthly_html(
        con, SYSTEM, card, None, "zh"
    )  # April has no data: no changes to show
    assert page.startswith("<!doctype html>") and "客服绩效报告 2026-05" in page
    assert "<script src=" not in page and len(page) > 1_000_000  # plotly.js inline: opens offline
    assert "<td>A</td>" in page or ">A<" in page
