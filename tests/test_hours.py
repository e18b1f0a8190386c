"""Service hours: a table of cases worked out by hand, counted by the SQL macro and by Python,
and the KPIs and schemes that count them."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from lib.app.stores import open_store
from lib.auth import access
from lib.core import errors
from lib.core.periods import parse
from lib.metrics import hours, kpis, schemes, scoring
from tests.kpi_fixtures import D, insert, t

SHOP = hours.parse("08:00-23:00", "2026-10-01")  # 15 service hours a day; 1 Oct closed
ALL_DAY = hours.parse("00:00-24:00")

# (calendar, created, answered, service seconds) — each worked out by hand.
CASES = [
    (SHOP, D(2026, 9, 8, 23, 30), D(2026, 9, 9, 8, 5), 5 * 60),  # the example
    (SHOP, D(2026, 9, 8, 10, 0), D(2026, 9, 8, 10, 5), 5 * 60),  # inside hours: as elapsed
    (SHOP, D(2026, 9, 8, 7, 0), D(2026, 9, 8, 8, 30), 30 * 60),  # counted from opening
    (SHOP, D(2026, 9, 8, 22, 50), D(2026, 9, 8, 23, 10), 10 * 60),  # stops at closing
    (SHOP, D(2026, 9, 8, 22, 0), D(2026, 9, 9, 9, 0), 2 * 3600),  # 1 h tonight + 1 h tomorrow
    (SHOP, D(2026, 9, 8, 1, 0), D(2026, 9, 8, 2, 0), 0),  # both in the night
    (SHOP, D(2026, 9, 8, 10, 0), D(2026, 9, 10, 10, 0), 2 * 15 * 3600),  # two whole days
    (SHOP, D(2026, 9, 30, 22, 0), D(2026, 10, 2, 8, 30), 3600 + 30 * 60),  # over the holiday
    (SHOP, D(2026, 10, 1, 12, 0), D(2026, 10, 2, 8, 10), 10 * 60),  # created on the holiday
    (SHOP, D(2026, 10, 1, 9, 0), D(2026, 10, 1, 18, 0), 0),  # all of it on the holiday
    (ALL_DAY, D(2026, 9, 8, 23, 30), D(2026, 9, 9, 8, 5), 8 * 3600 + 35 * 60),  # 24 h service
    (None, D(2026, 9, 8, 23, 30), D(2026, 9, 9, 8, 5), 8 * 3600 + 35 * 60),  # calendar time
]


@pytest.mark.parametrize("calendar,created,answered,expected", CASES)
def test_service_seconds_table(con, calendar, created, answered, expected):
    cur = con.cursor()
    hours.install(cur, calendar)
    got = cur.execute("SELECT service_seconds(?::TIMESTAMP, ?::TIMESTAMP)", [created, answered])
    assert got.fetchone()[0] == expected
    if calendar is not None:
        assert calendar.seconds(created, answered) == expected


@pytest.mark.parametrize("text,problem", [
    ("8-23", "not like 08:00-23:00"), ("23:00-08:00", "close before they open"),
    ("08:00-25:00", "not times of day"),
])  # fmt: skip
def test_bad_service_hours_are_refused_clearly(text, problem):
    with pytest.raises(errors.HoursError, match=problem):
        hours.parse(text)
    with pytest.raises(errors.HoursError, match="not a date"):
        hours.parse("08:00-23:00", "2026-13-01")


def test_from_env_and_describe(tmp_path):
    assert hours.from_env({}) is None
    (tmp_path / "holidays.txt").write_text("2026-10-01\n2026-10-02\n", encoding="utf-8")
    cal = hours.from_env({"SCORECARD_SERVICE_HOURS": "08:00–23:00",
                          "SCORECARD_HOLIDAYS": f"@{tmp_path / 'holidays.txt'}"})  # fmt: skip
    assert cal.holidays == (dt.date(2026, 10, 1), dt.date(2026, 10, 2))
    assert cal.describe("en") == "counted in service hours only, 08:00–23:00, holidays excluded"
    frt = kpis.load_catalogue().get("first_response_time")
    assert frt.describe("en", cal).endswith(
        "(counted in service hours only, 08:00–23:00, holidays excluded)"
    )
    assert frt.describe("en").endswith("(calendar time)")
    csat = kpis.load_catalogue().get("csat")
    assert csat.describe("en", cal) == csat.description["en"]


def test_catalogue_marks_exactly_the_kpis_that_count_service_hours():
    marked = {k for k, v in kpis.load_catalogue().kpis.items() if v.service_hours}
    assert marked == {"first_response_time", "resolution_time", "sla_breach_rate"}


def _night_store(con):
    """Ten tickets created 23:30 and answered and resolved 08:05; one urgent ticket (limit 4 h) created
    22:00 and resolved 10:00 the next day: 12 h of calendar time, 3 h of service time."""
    night = 8 * 3600 + 35 * 60  # answered and resolved at 08:05: within the 24 h normal limit
    rows = [t(f"N{i}", "A", D(2026, 9, 1 + i, 23, 30), fr=night, res=night) for i in range(10)]
    rows.append(t("U1", "A", D(2026, 9, 20, 22, 0), fr=60, res=12 * 3600, priority="urgent"))
    insert(con, "tickets", rows)


def test_compute_counts_service_hours_only_when_asked_and_caches_apart(con):
    _night_store(con)
    ids = ["first_response_time", "sla_breach_rate"]
    start, end = dt.date(2026, 9, 1), dt.date(2026, 10, 1)

    def values(calendar):
        frame = kpis.compute(con, start, end, kpi_ids=ids, service_hours=calendar)
        return dict(zip(frame["kpi"], frame["value"]))

    calendar_time = values(None)
    assert calendar_time["first_response_time"] == 8 * 3600 + 35 * 60
    assert calendar_time["sla_breach_rate"] == 1 / 11  # U1 took 12 h against 4 h
    service = values(SHOP)
    assert service["first_response_time"] == 300
    assert service["sla_breach_rate"] == 0  # U1 took 1 h + 2 h = 3 h of service time
    assert values(None) == calendar_time  # the cache keeps the two apart
    earlier = hours.parse("06:00-23:00")  # other hours, other results: part of the cache key
    assert values(earlier)["first_response_time"] == 2 * 3600 + 5 * 60


def test_scheme_says_whether_it_counts_service_hours(con, monkeypatch):
    _night_store(con)
    body = yaml.safe_load(
        (schemes.ROOT / "config" / "schemes" / "balanced.yaml").read_text("utf-8")
    )
    monkeypatch.setenv("SCORECARD_SERVICE_HOURS", "08:00-23:00")
    period = parse("2026-09")

    def frt(body):
        scheme = schemes.from_dict(body)
        card = scoring.scorecard(con, scheme, period, viewer=access.SYSTEM)
        d = card.details
        return d[(d["agent"] == "A") & (d["kpi"] == "first_response_time")]["value"].iloc[0]

    assert "first_response_time" in schemes.from_dict(body).kpi_ids
    assert schemes.from_dict(body).business_hours is False
    assert frt(body) == 8 * 3600 + 35 * 60
    assert frt({**body, "business_hours": True}) == 300
    with pytest.raises(errors.SchemeError, match="business_hours is true or false"):
        schemes.from_dict({**body, "business_hours": "yes"})


def test_kpis_command_says_how_a_scheme_counts_times(tmp_path, monkeypatch, capsys):
    from lib.app.cli import main

    monkeypatch.setenv("SCORECARD_SERVICE_HOURS", "08:00-23:00")
    body = yaml.safe_load(
        (schemes.ROOT / "config" / "schemes" / "balanced.yaml").read_text("utf-8")
    )
    path = tmp_path / "shop.yaml"
    path.write_text(yaml.safe_dump({**body, "business_hours": True}, allow_unicode=True), "utf-8")
    db = str(tmp_path / "k.duckdb")
    assert main(["kpis", "--scheme", str(path), "--db", db]) == 0
    out = capsys.readouterr().out
    assert out.count("(counted in service hours only, 08:00–23:00)") == 3
    assert main(["kpis", "--scheme", "balanced", "--db", db]) == 0
    assert capsys.readouterr().out.count("(calendar time)") == 3


def test_weights_page_switches_a_scheme_to_service_hours(demo_copy, monkeypatch, accounts):
    from tests.test_app import new_app

    monkeypatch.setenv("SCORECARD_SERVICE_HOURS", "08:00-23:00")
    app = new_app(demo_copy, monkeypatch, "boss").run()
    app.switch_page("pages/weights.py").run()
    assert not app.exception
    box = next(c for c in app.checkbox if c.label.startswith("Count times in service hours"))
    assert box.value is False
    assert "08:00–23:00" in box.help
    box.check().run()
    app.text_input(key="weights_reason").set_value("platform rules count service hours").run()
    next(b for b in app.button if b.label == "Save version").click().run()
    assert not app.exception and "Saved as version 2." in [s.value for s in app.success]
    con = open_store(demo_copy)
    assert schemes.get(con, "balanced").business_hours is True
    assert "business_hours: added True" in schemes.versions(con, "balanced").iloc[0]["diff"]
