"""Alerts as array operations and incremental refreshes, and page renders that only read.

The reference below is the per-subject, per-day loop the detection used to be; the array
version must find the very same days with the same numbers. The incremental refresh must leave
the same alerts as a full one after any sequence of uploads.
"""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pandas as pd
import pytest

from lib.app.stores import open_store
from lib.auth.access import SYSTEM
from lib.core import store
from lib.ingest.mapping import from_dict
from lib.ingest.pipeline import ingest_file
from lib.monitoring import alerts


def reference(series: pd.DataFrame, *, window=28, min_days=7, min_volume=5, z=4.0, guard=0):
    """The former loop: one subject, one day at a time."""
    s = series.sort_values("day").reset_index(drop=True)
    days = pd.to_datetime(s["day"]).to_numpy()
    values, volume = s["value"].to_numpy(dtype=float), s["n"].to_numpy(dtype=float)
    usable = (volume >= min_volume) & ~np.isnan(values)
    rows = []
    for i in range(len(s)):
        if not usable[i]:
            continue
        stop = days[i] - np.timedelta64(guard, "D")
        past = usable & (days >= stop - np.timedelta64(window, "D")) & (days < stop)
        if past.sum() < min_days:
            continue
        med = float(np.median(values[past]))
        spread = max(1.4826 * float(np.median(np.abs(values[past] - med))), 0.05 * abs(med), 1e-9)
        score = (values[i] - med) / spread
        if abs(score) >= z:
            rows.append((pd.Timestamp(days[i]).date(), values[i], med, spread, score))
    return rows


@pytest.mark.parametrize("seed", range(6))
def test_array_detection_finds_what_the_loop_found(seed):
    rng = np.random.default_rng(seed)
    frames = []
    for subject in range(5):
        days = sorted(rng.choice(120, size=int(rng.integers(20, 110)), replace=False))
        value = rng.normal(60, 8, len(days))
        value[len(days) // 2 :] += rng.choice([0, 60, -40])  # some subjects change
        value[rng.random(len(days)) < 0.05] = np.nan
        frames.append(pd.DataFrame({
            "grp": f"S{subject}", "day": [dt.date(2026, 1, 1) + dt.timedelta(days=int(d)) for d in days],
            "value": value, "n": rng.integers(0, 20, len(days)),
        }))  # fmt: skip
    frame = pd.concat(frames, ignore_index=True)
    options = {"window": int(rng.integers(7, 30)), "min_days": int(rng.integers(3, 8)),
               "min_volume": 5, "z": float(rng.uniform(2, 4)), "guard": int(rng.integers(0, 3))}  # fmt: skip
    got = alerts.robust_changes_all(frame, **options)
    for subject, part in frame.groupby("grp"):
        want = reference(part, **options)
        mine = got[got["grp"] == subject]
        assert len(mine) == len(want)
        for row, (day, value, med, spread, score) in zip(mine.itertuples(), want):
            assert (row.day, row.value) == (day, value)
            assert (row.baseline, row.spread, row.z) == pytest.approx((med, spread, score))


RULES = {"lookback_days": 60, "rules": [
    {"id": "slow", "kind": "sudden_change", "kpi": "first_response_time", "scope": "agent",
     "severity": "warning", "window": 14, "min_days": 5, "min_volume": 3, "z": 3, "persist": 2},
    {"id": "team_slow", "kind": "sudden_change", "kpi": "first_response_time", "scope": "team",
     "severity": "info", "window": 14, "min_days": 5, "min_volume": 3, "z": 3, "persist": 2},
    {"id": "reply", "kind": "breach", "kpi": "reply_rate", "scope": "agent", "severity": "critical",
     "below": 0.9, "period": "week", "min_n": 5},
    {"id": "queue", "kind": "backlog", "scope": "agent", "severity": "warning",
     "max_unreplied": 2, "sla_hours": 24, "window_days": 14},
]}  # fmt: skip
MAPPING = {"name": "t", "kind": "tickets", "columns": {
    "ticket_id": "id", "agent": "agent", "created_at": "created", "first_response_at": "first",
    "team": "team"}}  # fmt: skip


def _upload(con, tmp_path, rng, n, first_day, days, agents, slow):
    lines = ["id,agent,created,first,team"]
    for _ in range(n):
        agent = rng.choice(agents)
        created = dt.datetime(2026, 3, 1, 9) + dt.timedelta(days=first_day + rng.randrange(days),
                                                            minutes=rng.randrange(600))  # fmt: skip
        wait = rng.gauss(300 if agent in slow else 60, 15)
        first = (
            ""
            if rng.random() < 0.08
            else f"{created + dt.timedelta(seconds=abs(wait)):%Y-%m-%d %H:%M:%S}"
        )
        lines.append(f"T{rng.randrange(10**9)},{agent},{created:%Y-%m-%d %H:%M:%S},{first},"
                     f"{'X' if agent < 'D' else 'Y'}")  # fmt: skip
    path = tmp_path / f"u{rng.randrange(10**9)}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ingest_file(con, path, from_dict(MAPPING)).upload_id


def _alerts(con):
    cols = ", ".join(alerts.COLUMNS)
    return con.execute(f"SELECT {cols} FROM alerts ORDER BY alert_key").fetchall()


@pytest.mark.parametrize("seed", range(3))
def test_incremental_refresh_leaves_the_same_alerts_as_a_full_one(tmp_path, monkeypatch, seed):
    monkeypatch.setattr(alerts, "load", lambda path=None: RULES)
    rng = random.Random(seed)
    inc = open_store(tmp_path / "inc.duckdb")
    full = open_store(tmp_path / "full.duckdb")
    agents = ["A", "B", "C", "D", "E", "F"]
    partial = 0
    for step in range(7):
        # Mostly uploads inside the data's range (a late export, a correction), sometimes a
        # newer day that moves every lookback window.
        first_day = rng.choice([0, 10, 20]) if step and rng.random() < 0.7 else 20 + 5 * step
        chosen = rng.sample(agents, rng.randint(1, 3)) if step else agents
        slow = {"B"} if step >= 3 else set()
        seed_state = rng.getstate()
        for con in (inc, full):
            rng.setstate(seed_state)
            upload = _upload(con, tmp_path, rng, 120, first_day, 10, chosen, slow)
            if con is inc:
                before = alerts._meta(con, "alerts_end")
                alerts.refresh(con, SYSTEM, uploads=[upload])
                partial += before == alerts._meta(con, "alerts_end") and step > 0
            else:
                alerts.refresh(con, SYSTEM)
        assert _alerts(inc) == _alerts(full), f"after upload {step}"
    assert partial, "no upload was refreshed incrementally"
    assert _alerts(full), "the uploads raised no alert to compare"


def test_rendering_overview_and_monitoring_writes_nothing(demo_copy, monkeypatch, accounts):
    from tests.test_app import new_app

    def refuse(*args, **kwargs):
        raise AssertionError("a page render wrote to the store")

    app = new_app(demo_copy, monkeypatch, "boss").run()  # signs in: the first run may set up
    monkeypatch.setattr(store, "transaction", refuse)
    monkeypatch.setattr(store, "write", refuse)
    for page in ("overview", "monitoring"):
        app.switch_page(f"pages/{page}.py").run()
        assert not app.exception, app.exception
        assert not app.error, [e.value for e in app.error]
