"""Scale benchmark: how ingest, storage, scoring and alerts grow with a year of tickets.

    python bench/scale.py [--sizes 1,5,20] [--out DIR] [--generate-only]

For each size (millions of tickets: 1 with 200 agents, 5 with 1,000, 20 with 2,000, a year
each, 2025-12 to 2026-11) writes a seeded ticket export in the demo_tickets layout to `--out`
(default: the system's temporary folder, `scorecard-bench/`; 20 million tickets are about
2.3 GB), once, then on a fresh store, each step a fresh process timed from outside:
  - bare read: DuckDB's `read_csv` of the file into a table (the floor, for reference);
  - ingest: `python -m lib ingest FILE --mapping demo_tickets` (read, parse, check, store,
    and the alerts for the agents it touched), with its peak memory (max RSS);
  - store size: the DuckDB file after the ingest;
  - scorecard: one month (2026-06) with the default scheme, every agent: cold (the first in
    a process that has just opened the store) and warm (again in that process with the KPI
    cache cleared, so the KPIs are computed again from the tickets, as for a new filter);
  - alert refresh: every rule over every agent and team (`alerts.refresh(force=True)`).
Prints a table for the README. Stores are deleted after each size unless `--keep`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(tempfile.gettempdir()) / "scorecard-bench"
AGENTS = {1: 200, 5: 1_000, 20: 2_000}  # millions of tickets → agents
CHUNK = 1_000_000  # rows generated at a time: a 20-million-row file is written in parts

# Each step runs as its own process; the wrapper reports its wall time and peak memory.
WRAPPER = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
if done.returncode:
    sys.stderr.write(done.stderr[-3000:])
    sys.exit(done.returncode)
print(json.dumps({"seconds": time.perf_counter() - t, "out": done.stdout,
                  "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""
READ_CSV = """
import duckdb, sys
con = duckdb.connect(sys.argv[2])
con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?)", [sys.argv[1]])
"""
# The month's scorecard cold and warm, then the alert refresh, in one fresh process.
QUERIES = """
import json, sys, time
sys.path.insert(0, sys.argv[2])
from lib.auth.access import SYSTEM
from lib.core import store
from lib.core.periods import parse
from lib.metrics import schemes, scoring
from lib.monitoring import alerts
con = store.connect(sys.argv[1])
scheme = schemes.from_dict(schemes.preset_body(schemes.DEFAULT))
month = parse("2026-06")
t = time.perf_counter(); card = scoring.scorecard(con, scheme, month, viewer=SYSTEM)
cold = time.perf_counter() - t
store._MEMO.clear()
t = time.perf_counter(); scoring.scorecard(con, scheme, month, viewer=SYSTEM); warm = time.perf_counter() - t
t = time.perf_counter(); alerts.refresh(con, SYSTEM, force=True); refresh = time.perf_counter() - t
print(json.dumps({"cold": cold, "warm": warm, "alerts": refresh, "agents": len(card.agents)}))
"""


def generate(millions: int, out: Path = OUT) -> Path:
    """A year of tickets (seeded) in the demo_tickets layout, written a million rows at a time,
    in time order."""
    import numpy as np
    from ingest_bench import ticket_frame  # beside this script

    rows, agents = millions * 1_000_000, AGENTS.get(millions, 200)
    path = out / f"scale_{millions}m.csv"
    if path.exists():
        return path
    out.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(".part")
    rng = np.random.default_rng(millions)
    year = 365 * 86400
    parts = max(1, rows // CHUNK)
    with part.open("w", encoding="utf-8", newline="") as f:
        for i in range(parts):
            n = rows // parts + (1 if i < rows % parts else 0)
            span = (i * year // parts, (i + 1) * year // parts)
            frame = ticket_frame(rng, n, first_id=i * CHUNK + 1, agents=agents,
                                 teams=["A", "B", "C", "D", "E", "F", "G", "H"],
                                 customers=30 * agents * 50, span=span)  # fmt: skip
            frame.to_csv(f, index=False, header=i == 0)
            print(f"  generated {min((i + 1) * CHUNK, rows):,} of {rows:,} rows", flush=True)
    part.rename(path)
    return path


def timed(argv: list[str]) -> dict:
    done = subprocess.run([sys.executable, "-c", WRAPPER, *argv], capture_output=True,
                          text=True, cwd=ROOT)  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"{argv[:4]} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(millions: int, out: Path, keep: bool) -> dict:
    path = generate(millions, out)
    db = out / f"scale_{millions}m.duckdb"
    floor_db = out / f"scale_{millions}m_read_csv.duckdb"
    for f in (db, floor_db, Path(f"{db}.wal"), Path(f"{floor_db}.wal")):
        f.unlink(missing_ok=True)
    floor = timed([sys.executable, "-c", READ_CSV, str(path), str(floor_db)])
    floor_db.unlink(missing_ok=True)
    ingest = timed([sys.executable, "-m", "lib", "ingest", str(path), "--mapping",
                    "demo_tickets", "--db", str(db)])  # fmt: skip
    size = db.stat().st_size + (
        Path(f"{db}.wal").stat().st_size if Path(f"{db}.wal").exists() else 0
    )
    queries = timed([sys.executable, "-c", QUERIES, str(db), str(ROOT)])
    found = json.loads(queries["out"].strip().splitlines()[-1])
    if not keep:
        db.unlink(missing_ok=True)
    return {"millions": millions, "agents": AGENTS.get(millions, 200),
            "file_mb": path.stat().st_size / 1e6, "read_csv": floor["seconds"],
            "ingest": ingest["seconds"], "peak_mb": ingest["peak_mb"], "store_mb": size / 1e6,
            "cold": found["cold"], "warm": found["warm"], "alerts": found["alerts"],
            "query_peak_mb": queries["peak_mb"]}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,5,20", help="millions of tickets, comma-separated")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for files and stores")
    parser.add_argument("--keep", action="store_true", help="keep the stores")
    parser.add_argument("--generate-only", action="store_true", help="only write the files")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.generate_only:
        for m in sizes:
            print(generate(m, args.out))
        return 0
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the start", flush=True)
    rows = []
    for m in sizes:
        found = measure(m, args.out, args.keep)
        rows.append(found)
        print(json.dumps(found), flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end\n")
    print("| tickets | agents | file | bare `read_csv` | ingest (CLI) | ingest ÷ read | peak memory "
          "| store | month's scorecard, cold | warm | alert refresh |")  # fmt: skip
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['millions']:,} M | {r['agents']:,} | {r['file_mb']:,.0f} MB | {r['read_csv']:.1f} s "
              f"| {r['ingest']:.1f} s | {r['ingest'] / r['read_csv']:.1f}× | {r['peak_mb']:,.0f} MB "
              f"| {r['store_mb']:,.0f} MB | {r['cold']:.2f} s | {r['warm']:.2f} s "
              f"| {r['alerts']:.1f} s |")  # fmt: skip
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        growth = b["millions"] / a["millions"]
        for key in ("ingest", "store_mb", "cold", "warm", "alerts"):
            print(f"{key}: ×{b[key] / a[key]:.1f} for ×{growth:.0f} the tickets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
