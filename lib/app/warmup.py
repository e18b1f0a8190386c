"""Warm-up when the app starts: the work the first page needs, done before anyone signs in.

The overview of a large store needs its alerts brought up to date with the data and the KPI
values of the latest full month and the month before, its trend and its split by channel; computed once in the background while
the login form is shown, they are ready (in `store.memo` and the alerts table) when the first
person signs in. Everything here is what the pages would otherwise compute on their first run,
keyed by the data version, so nothing changes in what anyone sees.
"""

from __future__ import annotations

import threading
import time

from lib.auth.access import SYSTEM
from lib.core.periods import parse
from lib.metrics import kpis, schemes, scoring
from lib.monitoring import alerts
from lib.present import views


def warm(con) -> float:
    """Bring alerts up to date and score the default month and the one before with the
    default scheme; returns the seconds it took. An empty store needs nothing."""
    start = time.perf_counter()
    months = views.months_with_data(con)
    if not months:
        return 0.0
    alerts.refresh(con, SYSTEM)
    period = parse(views.default_month(con, months))
    names = schemes.names(con)
    name = schemes.DEFAULT if schemes.DEFAULT in names else names[0]
    cards = [scoring.scorecard(con, schemes.resolve(con, name, p.end), p, viewer=SYSTEM)
             for p in (period, period.previous())]  # fmt: skip
    views.headline(con, SYSTEM, cards[0], None, "en")  # this month against the one before
    # The overview's trend (its first KPI with data) and channel split (its first KPI that
    # splits by channel), as the page asks for them when it first opens.
    with_data = views.kpis_with_data(cards[0])
    if with_data:
        views.trend(con, SYSTEM, with_data[0], period)
    splittable = set(kpis.by_channel(kpis.load_catalogue()))
    split = [k for k in cards[0].scheme.kpi_ids if k in splittable]
    if split:
        views.channels(con, SYSTEM, period, None, split[:1], "en")
    from lib.present import charts, report  # noqa: F401 - loads Plotly and the report's modules once

    return time.perf_counter() - start


def start(con) -> threading.Thread:
    """Run `warm` in a background thread (errors are left for the pages to meet and report)."""

    def run():
        try:
            seconds = warm(con)
            print(f"Warm-up done in {seconds:.1f} s.", flush=True)
        except Exception as exc:  # noqa: BLE001 - the pages report problems with the store
            print(f"Warm-up skipped: {exc}", flush=True)

    thread = threading.Thread(target=run, name="scorecard-warmup", daemon=True)
    thread.start()
    return thread
