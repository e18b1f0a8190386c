"""Scorecard exports and the scorecard/kpis/schemes commands."""

import io
import json
import re
import subprocess
import sys

import openpyxl
import pandas as pd
import pytest

from lib.auth.access import SYSTEM, Viewer
from lib.core import store
from lib.core.periods import parse
from lib.metrics import schemes, scoring
from lib.present import export
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
    from lib.present import report

    con = service_store(tmp_path / "s.duckdb")
    card = scoring.scorecard(con, schemes.get(con, "balanced"), parse("2026-05"), viewer=SYSTEM)
    page = report.monthly_html(
        con, SYSTEM, card, None, "zh"
    )  # April has no data: no changes to show
    assert page.startswith("<!doctype html>") and "客服绩效报告 2026-05" in page
    assert "<script src=" not in page and len(page) > 1_000_000  # plotly.js inline: opens offline
    assert "<td>A</td>" in page or ">A<" in page


def test_exports_for_people_are_in_their_language_with_units(tmp_path):
    db = tmp_path / "s.duckdb"
    con = service_store(db)
    card = scoring.scorecard(con, schemes.get(con, "small_shop"), parse("2026-05"), viewer=SYSTEM)
    raw = export.wide(card).set_index("agent")
    zh = export.for_people(card, "zh").set_index("客服")
    assert not [c for c in zh.columns if re.search(r"[a-z]_[a-z]|[a-z]{3,}", str(c))]  # words only
    assert zh.loc["A", "满意度（%）"] == round(raw.loc["A", "csat value"] * 100, 1)  # a percentage
    assert zh.loc["A", "一次解决率（%）"] == round(raw.loc["A", "fcr_rate value"] * 100, 1)
    names = {g.code: g.label("zh") for g in card.scheme.grades}
    assert [names.get(g, "") for g in raw["grade"]] == list(zh["等级"])  # grades by name
    en = export.for_people(card, "en")
    assert "CSAT (%)" in en.columns and "Agent" in en.columns
    out = tmp_path / "zh.xlsx"
    export.write(card, "xlsx", out, lang="zh")
    header = next(openpyxl.load_workbook(out).active.iter_rows(max_row=1, values_only=True))
    assert header[0] == "客服" and "满意度（%）" in header


def test_durations_for_people_are_in_the_kpis_unit(tmp_path):
    con = service_store(tmp_path / "s.duckdb")
    card = scoring.scorecard(con, schemes.get(con, "balanced"), parse("2026-05"), viewer=SYSTEM)
    raw = export.wide(card).set_index("agent")
    zh = export.for_people(card, "zh").set_index("客服")
    assert zh.loc["A", "首次响应时长（秒）"] == round(raw.loc["A", "first_response_time value"])


def test_the_scorecard_command_stays_machine_readable_unless_a_language_is_asked_for(tmp_path):
    db = tmp_path / "s.duckdb"
    service_store(db).close()
    plain = cli(
        "scorecard", "--scheme", "small_shop", "--period", "2026-05", "--format", "csv", db=db
    )
    assert plain.returncode == 0, plain.stderr
    header = plain.stdout.lstrip("\ufeff").splitlines()[0].split(",")
    assert header[:3] == ["agent", "team", "composite"] and "csat value" in header
    value = float(pd.read_csv(io.StringIO(plain.stdout))["csat value"].dropna().iloc[0])
    assert 0 <= value <= 1  # raw: a share, not a percentage
    zh = cli("scorecard", "--scheme", "small_shop", "--period", "2026-05", "--format", "csv",
             "--lang", "zh", db=db)  # fmt: skip
    assert zh.returncode == 0, zh.stderr
    frame = pd.read_csv(io.StringIO(zh.stdout))
    assert list(frame.columns[:3]) == ["客服", "小组", "得分"]
    assert frame["满意度（%）"].dropna().iloc[0] == round(value * 100, 1)


def test_every_export_says_which_scheme_version_scored_it(tmp_path):
    """The overview's CSV and Excel (for people), the command line's CSV (for programs) and the
    bonus split name the version: here version 2 of 小店简版, in force from 1 May."""
    import datetime as dt

    from lib.coaching import rewards

    con = service_store(tmp_path / "s.duckdb")
    body = schemes.preset_body("small_shop")
    body["grades"][-1]["min"] = 0  # any change makes a new version
    schemes.save(con, Viewer("周主管", "manager"), body, reason="May review", now=dt.datetime(2026, 6, 10, 9),
                 in_force_from=dt.date(2026, 5, 1))  # fmt: skip
    may = parse("2026-05")
    card = scoring.scorecard(con, schemes.resolve(con, "small_shop", may.end), may, viewer=SYSTEM)
    zh_words = "小店简版 · 第 2 版，自 2026-05-01 起生效"
    en_words = "Small shop · version 2, in force from 2026-05-01"

    zh = pd.read_csv(io.StringIO(export.write(card, "csv", None, lang="zh")))
    assert len(zh) == len(card.agents) and set(zh["计分方案"]) == {zh_words}
    book = openpyxl.load_workbook(io.BytesIO(export.xlsx_bytes(card, "en"))).active
    rows = list(book.iter_rows(values_only=True))
    column = rows[0].index("Scoring scheme")
    assert {r[column] for r in rows[1:]} == {en_words}

    plain = pd.read_csv(io.StringIO(export.write(card, "csv", None)))  # for programs
    assert set(plain["scheme_version"]) == {2} and set(plain["in_force_from"]) == {"2026-05-01"}
    assert json.loads(export.as_json(card))["in_force_from"] == "2026-05-01"

    split = rewards.split(card, 1000, viewer=SYSTEM, method="proportional", min_grade="D")
    lines = pd.read_csv(io.BytesIO(export.csv_bytes(export.bonus_lines(split.lines, card.scheme, "zh"))),
                        encoding="utf-8-sig")  # fmt: skip
    assert set(lines["计分方案"]) == {zh_words} and len(lines) == len(card.agents)
    assert set(lines["有资格"]) <= {"是", "否"}

    april = parse("2026-04")  # before May the built-in preset scored
    old = scoring.scorecard(
        con, schemes.resolve(con, "small_shop", april.end), april, viewer=SYSTEM
    )
    assert set(export.for_people(old, "en")["Scoring scheme"]) == {
        "Small shop · version 1, the built-in preset"
    }


def test_the_text_table_leaves_a_missing_team_and_grade_blank(tmp_path):
    from lib.auth.access import SYSTEM
    from lib.core.periods import parse
    from lib.metrics import schemes, scoring
    from lib.present import export
    from tests.kpi_fixtures import daily_store

    con = daily_store(tmp_path / "d.duckdb")
    period = parse("2026-05")
    card = scoring.scorecard(con, schemes.resolve(con, schemes.DEFAULT, period.end), period,
                             viewer=SYSTEM)  # fmt: skip
    assert card.agents["team"].isna().all()
    text = export.as_text(card)
    assert "nan" not in text.lower() and "A " in text
