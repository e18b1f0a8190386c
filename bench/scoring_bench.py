"""Scoring benchmark: re-scoring after a weight change, and computing KPIs from raw tickets.

    python bench/scoring_bench.py [--rows 1000000] [--repeat 50]

Builds (once) `bench/out/scoring_<rows>.duckdb` from the ingest benchmark's generated export:
1,000,000 tickets, 200 agents, 12 months (2025-12 to 2026-11). Then, for one month (2026-06)
with the default scheme:
  - re-score: change one weight, validate the scheme and score every agent from the KPI values
    already computed — what happens when a manager moves a slider. Target: median ≤ 50 ms.
  - from raw: every KPI of the scheme for every agent from the raw tickets, cache cleared.
    Target: ≤ 1 s. The same for a whole year is printed for reference.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest_bench import OUT, generate  # noqa: E402

from lib.app.stores import open_store  # noqa: E402
from lib.auth.access import SYSTEM  # noqa: E402
from lib.core import store  # noqa: E402
from lib.core.periods import parse  # noqa: E402
from lib.ingest import mapping  # noqa: E402
from lib.ingest.pipeline import ingest_file  # noqa: E402
from lib.metrics import kpis, schemes, scoring  # noqa: E402


def build(rows: int) -> Path:
    db = OUT / f"scoring_{rows}.duckdb"
    if not db.exists():
        print(f"building {db.name} from {rows:,} generated tickets …", flush=True)
        con = open_store(db)
        ingest_file(con, generate(rows), mapping.load("demo_tickets"))
        con.close()
    return db


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    con = open_store(build(args.rows))
    n_tickets, n_agents = con.execute(
        "SELECT count(*), count(DISTINCT agent) FROM tickets"
    ).fetchone()
    month = parse("2026-06")
    body = schemes.preset_body(schemes.DEFAULT)
    scheme = schemes.from_dict(body)
    month_rows = con.execute(
        "SELECT count(*) FROM tickets WHERE created_at >= ? AND created_at < ?",
        [month.start, month.end],
    ).fetchone()[0]
    print(
        f"store: {n_tickets:,} tickets, {n_agents} agents; month {month.label}: {month_rows:,} tickets"
    )

    def from_raw():
        store._MEMO.clear()
        return kpis.compute(con, month.start, month.end, kpi_ids=scheme.kpi_ids)

    raw = timed(from_raw, 5)
    values = from_raw()
    teams = dict(kpis.agent_teams(con).itertuples(index=False, name=None))
    weights = iter(range(10**9))

    def rescore():
        changed = copy.deepcopy(body)
        changed["dimensions"]["experience"]["weight"] = 30 + next(weights) % 40  # a slider move
        agents, _ = scoring.score(values, schemes.from_dict(changed), period_days=month.days,
                                  teams=teams)  # fmt: skip
        return agents

    rescore()
    re = timed(rescore, args.repeat)
    year = parse("2026")

    def year_from_raw():
        store._MEMO.clear()
        kpis.compute(con, year.start, year.end, kpi_ids=scheme.kpi_ids)

    yr = timed(year_from_raw, 3)
    card = timed(
        lambda: (store._MEMO.clear(), scoring.scorecard(con, scheme, month, viewer=SYSTEM)), 3
    )
    ms = lambda xs: f"{statistics.median(xs) * 1000:7.1f} ms"  # noqa: E731
    print(
        f"re-score {n_agents} agents after a weight change: median {ms(re)}  "
        f"(p95 {sorted(re)[int(len(re) * 0.95) - 1] * 1000:.1f} ms, {len(re)} runs)"
    )
    print(f"KPIs from raw tickets, one month:           median {ms(raw)}  ({len(raw)} runs)")
    print(f"scorecard from raw, one month (end to end): median {ms(card)}")
    print(f"KPIs from raw tickets, whole year:          median {ms(yr)}")
    ok_re = statistics.median(re) <= 0.05
    ok_raw = statistics.median(raw) <= 1.0
    print(
        f"re-score target ≤ 50 ms: {'met' if ok_re else 'NOT met'}; "
        f"from raw target ≤ 1 s: {'met' if ok_raw else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
