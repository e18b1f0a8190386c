"""The start-up warm-up leaves the first page's work done: alerts current, the default month's
scores and headline remembered, so the first overview computes nothing from raw tickets."""

import shutil

from lib.app import warmup
from lib.app.stores import open_store
from lib.auth.access import SYSTEM
from lib.core.periods import parse
from lib.metrics import kpis as engine
from lib.metrics import schemes, scoring
from lib.monitoring import alerts
from lib.present import views


def test_after_the_warm_up_the_overview_numbers_need_no_computing(
    demo_store, tmp_path, monkeypatch
):
    db = tmp_path / "s.duckdb"
    shutil.copy(demo_store, db)
    con = open_store(db)
    con.execute("DELETE FROM schema_meta WHERE key = 'alerts_version'")  # alerts out of date
    assert warmup.warm(con) > 0
    assert alerts.refresh(con, SYSTEM) == 0  # nothing left to do: already current

    def no_computing(*args, **kwargs):
        raise AssertionError("computed from raw tickets after the warm-up")

    monkeypatch.setattr(engine, "_run_relation", no_computing)
    monkeypatch.setattr(engine, "_run_custom", no_computing)
    period = parse(views.default_month(con, views.months_with_data(con)))
    scheme = schemes.resolve(con, schemes.DEFAULT, period.end)
    card = scoring.scorecard(con, scheme, period, viewer=SYSTEM)
    assert len(card.agents) == 30
    scoring.scorecard(con, scheme, period.previous(), viewer=SYSTEM)
    assert len(views.headline(con, SYSTEM, card, None, "zh")) == len(scheme.kpi_ids)


def test_an_empty_store_needs_no_warm_up(tmp_path):
    assert warmup.warm(open_store(tmp_path / "empty.duckdb")) == 0.0
