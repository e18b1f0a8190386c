"""Ingest benchmark: a generated ticket export, ingested end to end, beside DuckDB's read_csv.

    python bench/ingest_bench.py [--rows 1000000] [--repeat 3]

Writes `bench/out/tickets_<rows>.csv` once (seeded), then times, each as a fresh process on a
fresh store and timed from outside (start-up and imports included, as a user waits): (1) DuckDB
alone, `CREATE TABLE AS SELECT * FROM read_csv(...)`, the bare read; (2) the command line,
`python -m lib ingest FILE --mapping demo_tickets`: read, parse, validate, upsert, log and the
alerts that follow. Prints the best of the runs, rows/s, the ratio and each phase's peak memory
(max RSS). Targets: the command within 3x of the bare read_csv, and at most 1 GB of memory.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"

CHILD = {
    "read_csv": """
import duckdb, sys
path, db = sys.argv[1], sys.argv[2]
con = duckdb.connect(db)
con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?)", [path])
print(con.execute("SELECT count(*) FROM t").fetchone()[0])
con.close()
""",
}
# Each phase runs as its own process, timed from outside: what a user waits for, start-up
# and imports included. The wrapper reports the wall time and the phase's peak memory.
WRAPPER = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, capture_output=True)
print(json.dumps({"seconds": time.perf_counter() - t,
                  "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def command(phase: str, path: Path, db: str) -> list[str]:
    if phase == "read_csv":
        return [sys.executable, "-c", CHILD["read_csv"], str(path), db]
    # The command line as a user runs it: read, parse, validate, upsert, log, alerts.
    return [sys.executable, "-m", "lib", "ingest", str(path), "--mapping", "demo_tickets",
            "--db", db]  # fmt: skip


def generate(rows: int) -> Path:
    """A demo_tickets-style export with `rows` tickets, 200 agents, 12 months (seeded)."""
    import numpy as np
    import pandas as pd

    path = OUT / f"tickets_{rows}.csv"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(42)
    created = pd.Timestamp("2025-12-01") + pd.to_timedelta(
        np.sort(rng.integers(0, 365 * 86400, rows)), unit="s"
    )
    first = created + pd.to_timedelta(rng.lognormal(4, 1.2, rows), unit="s")
    solved = first + pd.to_timedelta(rng.lognormal(8, 1.5, rows), unit="s")
    rated = rng.random(rows) < 0.3
    frame = pd.DataFrame(
        {
            "Ticket ID": np.char.add("T", np.arange(1, rows + 1).astype(str)),
            "Agent": np.char.add("agent_", rng.integers(1, 201, rows).astype(str)),
            "Created At": created.strftime("%Y-%m-%d %H:%M:%S"),
            "First Response At": first.strftime("%Y-%m-%d %H:%M:%S"),
            "Resolved At": solved.strftime("%Y-%m-%d %H:%M:%S"),
            "Channel": rng.choice(["chat", "email", "phone", "social"], rows),
            "Priority": rng.choice(["low", "normal", "high", "urgent"], rows),
            "Status": "solved",
            "Team": rng.choice(["A", "B", "C", "D"], rows),
            "Customer": np.char.add("C", rng.integers(1, 300000, rows).astype(str)),
            "Category": rng.choice(["refund", "delivery", "product", "account"], rows),
            "Customer Contacts": rng.integers(1, 4, rows),
            "Agent Replies": rng.integers(1, 12, rows),
            "Reopens": rng.integers(0, 2, rows),
            "Transferred": rng.choice(["yes", "no"], rows, p=[0.1, 0.9]),
            "Escalated": rng.choice(["yes", "no"], rows, p=[0.05, 0.95]),
            "Complaint": rng.choice(["yes", "no"], rows, p=[0.03, 0.97]),
            "Handle Time": rng.integers(30, 3000, rows),
            "CSAT": np.where(rated, rng.integers(1, 6, rows).astype(str), ""),
            "Comment": np.where(rated & (rng.random(rows) < 0.4), "thanks, quick reply", ""),
        }
    )
    frame.to_csv(path, index=False)
    return path


def run(phase: str, path: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.duckdb")
        out = subprocess.run([sys.executable, "-c", WRAPPER, *command(phase, path, db)],
                             capture_output=True, text=True, check=True, cwd=ROOT)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    path = generate(args.rows)
    size_mb = path.stat().st_size / 1e6
    print(f"file: {path.name}, {args.rows:,} rows, {size_mb:,.0f} MB")
    results = {}
    for phase in ("read_csv", "cli ingest"):
        runs = []
        for _ in range(args.repeat):
            runs.append(run("read_csv" if phase == "read_csv" else "ingest", path))
        secs = min(r["seconds"] for r in runs)
        peak = max(r["peak_mb"] for r in runs)
        results[phase] = (secs, peak)
        each = ", ".join(f"{r['seconds']:.2f}" for r in runs)
        print(f"{phase:>10}: best {secs:6.2f} s  ({args.rows / secs:,.0f} rows/s)  "
              f"peak memory {peak:,.0f} MB  runs: {each}")  # fmt: skip
    ratio = results["cli ingest"][0] / results["read_csv"][0]
    peak = results["cli ingest"][1]
    print(
        f"cli ingest / read_csv = {ratio:.2f}x (target <= 3x: {'met' if ratio <= 3 else 'NOT met'})"
    )
    print(f"cli ingest peak memory {peak:,.0f} MB (target <= 1000 MB: "
          f"{'met' if peak <= 1000 else 'NOT met'})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
