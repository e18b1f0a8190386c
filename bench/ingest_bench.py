"""Ingest benchmark: generated exports ingested end to end by the command line, each beside a
floor measured in the same run.

    python bench/ingest_bench.py [--case all|small|tickets|agent_daily|xlsx] [--rows 1000000]
                                 [--repeat 3]

Writes its exports once (seeded) to the system's temporary folder (`scorecard-bench/`), then
times each step as a fresh process, from outside (start-up and imports included, as a user
waits), floor and command alternating so that neither gets a quieter machine:
  - small: `python -m lib --help` (target <= 0.3 s) and `python -m lib ingest` of a 4-row
    ticket file into a store that exists (target <= 1 s), and, for reference, into a store
    the command has to create;
  - tickets: `--rows` tickets (200 agents, 12 months) with `--mapping demo_tickets` against
    DuckDB's bare `read_csv` of the same file into a table;
  - agent_daily: 1,000,000 per-agent daily rows (2,740 agents, a year) in the 千牛 layout with
    `--mapping qianniu_agent_daily`, against the bare `read_csv`;
  - xlsx: a 200,000-row workbook (548 agents, a year, 千牛 layout) against the fastest
    reader of the same sheet (calamine's rows as Python values; see bench/xlsx_readers.py).
A command run includes reading, parsing, checks, the upsert, the upload log and the alerts for
the agents it touched. Prints best and worst of the runs, the ratio of the bests, peak memory
(max RSS) and the CPU seconds, which a busy machine disturbs less than the wall clock.
Targets: each ingest within 3x of its floor, and at most 1 GB of memory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(tempfile.gettempdir()) / "scorecard-bench"

FLOORS = {
    "read_csv": """
import duckdb, sys
con = duckdb.connect(sys.argv[2])
con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?)", [sys.argv[1]])
print(con.execute("SELECT count(*) FROM t").fetchone()[0])
con.close()
""",
    "calamine": """
import sys
from python_calamine import CalamineWorkbook
book = CalamineWorkbook.from_path(sys.argv[1])
rows = book.get_sheet_by_index(0).to_python()
print(len(rows))
""",
}
# Each step runs as its own process, timed from outside: what a user waits for, start-up
# and imports included. The wrapper reports the wall time, CPU time and peak memory.
WRAPPER = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, capture_output=True)
used = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": time.perf_counter() - t, "cpu": used.ru_utime + used.ru_stime,
                  "peak_mb": used.ru_maxrss / 1024}))
"""
SMALL = """Ticket ID,Agent,Created At,First Response At,Resolved At,Channel,Priority,Status,Team,\
Customer,Category,Customer Contacts,Agent Replies,Reopens,Transferred,Escalated,Complaint,\
Handle Time,CSAT,Comment
T1,agent_1,2026-01-02 10:00:00,2026-01-02 10:01:00,2026-01-02 11:00:00,chat,low,solved,A,C1,\
refund,1,2,0,no,no,no,300,5,thanks
T2,agent_2,2026-01-02 10:05:00,2026-01-02 10:07:00,2026-01-02 12:00:00,email,normal,solved,B,C2,\
delivery,2,3,1,yes,no,no,600,,
T3,agent_1,2026-01-03 09:00:00,2026-01-03 09:00:30,2026-01-03 09:30:00,phone,high,solved,A,C3,\
product,1,1,0,no,yes,yes,120,2,slow reply
T4,agent_3,2026-01-03 11:00:00,,,social,urgent,open,C,C4,account,1,0,0,no,no,no,,,
"""
DAILY_HEADERS = ["日期", "客服昵称", "接待人数", "询单人数", "最终付款人数", "客服销售额", "退款金额",
                 "平均响应时长(秒)", "首次响应时长", "旺旺回复率", "3分钟回复率", "客户满意率"]  # fmt: skip


def ticket_frame(rng, n: int, *, first_id: int, agents: int, teams: list[str], customers: int,
                 span: tuple[int, int] = (0, 365 * 86400)):  # fmt: skip
    """`n` demo_tickets-style rows created within `span` seconds of 2025-12-01, ids from
    `first_id`, drawn from `rng` (the same draws, in the same order, give the same rows)."""
    import numpy as np
    import pandas as pd

    created = pd.Timestamp("2025-12-01") + pd.to_timedelta(
        np.sort(rng.integers(span[0], span[1], n)), unit="s"
    )
    first = created + pd.to_timedelta(rng.lognormal(4, 1.2, n), unit="s")
    solved = first + pd.to_timedelta(rng.lognormal(8, 1.5, n), unit="s")
    rated = rng.random(n) < 0.3
    return pd.DataFrame(
        {
            "Ticket ID": np.char.add("T", np.arange(first_id, first_id + n).astype(str)),
            "Agent": np.char.add("agent_", rng.integers(1, agents + 1, n).astype(str)),
            "Created At": created.strftime("%Y-%m-%d %H:%M:%S"),
            "First Response At": first.strftime("%Y-%m-%d %H:%M:%S"),
            "Resolved At": solved.strftime("%Y-%m-%d %H:%M:%S"),
            "Channel": rng.choice(["chat", "email", "phone", "social"], n),
            "Priority": rng.choice(["low", "normal", "high", "urgent"], n),
            "Status": "solved",
            "Team": rng.choice(teams, n),
            "Customer": np.char.add("C", rng.integers(1, customers, n).astype(str)),
            "Category": rng.choice(["refund", "delivery", "product", "account"], n),
            "Customer Contacts": rng.integers(1, 4, n),
            "Agent Replies": rng.integers(1, 12, n),
            "Reopens": rng.integers(0, 2, n),
            "Transferred": rng.choice(["yes", "no"], n, p=[0.1, 0.9]),
            "Escalated": rng.choice(["yes", "no"], n, p=[0.05, 0.95]),
            "Complaint": rng.choice(["yes", "no"], n, p=[0.03, 0.97]),
            "Handle Time": rng.integers(30, 3000, n),
            "CSAT": np.where(rated, rng.integers(1, 6, n).astype(str), ""),
            "Comment": np.where(rated & (rng.random(n) < 0.4), "thanks, quick reply", ""),
        }
    )


def generate(rows: int) -> Path:
    """A demo_tickets-style export with `rows` tickets, 200 agents, 12 months (seeded)."""
    import numpy as np

    path = OUT / f"tickets_{rows}.csv"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(42)
    frame = ticket_frame(rng, rows, first_id=1, agents=200, teams=["A", "B", "C", "D"],
                         customers=300000)  # fmt: skip
    frame.to_csv(path, index=False)
    return path


def daily_frame(rows: int, agents: int, seed: int):
    """Per-agent daily figures in the 千牛 layout: every agent on every day of a year, in date
    order, cut at `rows`."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    days = -(-rows // agents)
    date = np.repeat(pd.date_range("2025-12-01", periods=days).strftime("%Y-%m-%d").to_numpy(),
                     agents)[:rows]  # fmt: skip
    agent = np.tile(np.char.add("客服", np.arange(agents).astype(str)), days)[:rows]
    received = rng.integers(0, 400, rows)
    asked = (received * rng.random(rows)).astype(int)
    paid = (asked * rng.random(rows) * 0.6).astype(int)
    return pd.DataFrame(
        {
            "日期": date,
            "客服昵称": agent,
            "接待人数": received,
            "询单人数": asked,
            "最终付款人数": paid,
            "客服销售额": np.round(paid * rng.uniform(20, 600, rows), 2),
            "退款金额": np.round(rng.uniform(0, 500, rows) * (rng.random(rows) < 0.2), 2),
            "平均响应时长(秒)": np.round(rng.uniform(5, 90, rows), 1),
            "首次响应时长": np.round(rng.uniform(2, 60, rows), 1),
            "旺旺回复率": np.char.add(np.round(rng.uniform(80, 100, rows), 2).astype(str), "%"),
            "3分钟回复率": np.char.add(np.round(rng.uniform(60, 100, rows), 2).astype(str), "%"),
            "客户满意率": np.char.add(np.round(rng.uniform(70, 100, rows), 2).astype(str), "%"),
        }
    )


def generate_daily(rows: int = 1_000_000) -> Path:
    path = OUT / f"agent_daily_{rows}.csv"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        daily_frame(rows, 2_740, 11).to_csv(path, index=False)
    return path


def generate_xlsx(rows: int = 200_000) -> Path:
    """The same layout as a workbook (openpyxl's write-only mode), one sheet."""
    import openpyxl

    path = OUT / f"agent_daily_{rows}.xlsx"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    frame = daily_frame(rows, 548, 12)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("客服绩效")
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False, name=None):
        sheet.append([v.item() if hasattr(v, "item") else v for v in row])
    part = path.with_suffix(".part.xlsx")
    book.save(part)
    part.rename(path)
    return path


def cli(path: Path, mapping: str, db: str) -> list[str]:
    """The command line as a user runs it: read, parse, validate, upsert, log, alerts."""
    return [sys.executable, "-m", "lib", "ingest", str(path), "--mapping", mapping, "--db", db]


# Python keeps each module's compiled bytecode beside it unless told not to; a user's machine
# does, so the commands are timed as they run there even where the environment turns it off.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(argv: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-c", WRAPPER, *argv], capture_output=True, text=True,
                         check=True, cwd=ROOT, env=ENV)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare(label: str, floor: str, path: Path, mapping: str, repeat: int,
            store: Path | None = None) -> tuple[float, float]:  # fmt: skip
    """Floor and command, alternating, each on a fresh store (a copy of `store` when given);
    prints both and returns (ratio of the bests, the command's peak MB)."""
    runs: dict[str, list[dict]] = {"floor": [], "command": []}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            db = str(Path(tmp) / "bench.duckdb")
            runs["floor"].append(run([sys.executable, "-c", FLOORS[floor], str(path), db]))
        with tempfile.TemporaryDirectory() as tmp:
            db = str(Path(tmp) / "bench.duckdb")
            if store is not None:
                shutil.copy(store, db)
            runs["command"].append(run(cli(path, mapping, db)))
    best = {}
    for phase, name in (("floor", floor), ("command", "cli ingest")):
        secs = sorted(r["seconds"] for r in runs[phase])
        cpu = min(r["cpu"] for r in runs[phase])
        peak = max(r["peak_mb"] for r in runs[phase])
        best[phase] = (secs[0], peak)
        print(f"  {name:>10}: best {secs[0]:6.2f} s, worst {secs[-1]:6.2f} s, CPU {cpu:6.2f} s, "
              f"peak memory {peak:,.0f} MB")  # fmt: skip
    ratio = best["command"][0] / best["floor"][0]
    cpu_ratio = min(r["cpu"] for r in runs["command"]) / min(r["cpu"] for r in runs["floor"])
    print(f"  {label}: cli ingest / {floor} = {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU "
          f"(target <= 3x: {'met' if ratio <= 3 else 'NOT met'}); peak "
          f"{best['command'][1]:,.0f} MB (target <= 1000 MB: "
          f"{'met' if best['command'][1] <= 1000 else 'NOT met'})")  # fmt: skip
    return ratio, best["command"][1]


def small(repeat: int) -> None:
    """`--help`, and a 4-row file into a store that exists and into a new one."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "tickets_4.csv"
    path.write_text(SMALL, encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.duckdb"
        subprocess.run([sys.executable, "-c", "import sys; from lib.app.stores import open_store; "
                        "open_store(sys.argv[1]).close()", str(empty)], check=True, cwd=ROOT)  # fmt: skip
        found: dict[str, list[dict]] = {"help": [], "existing": [], "new": []}
        for _ in range(repeat):
            found["help"].append(run([sys.executable, "-m", "lib", "--help"]))
            db = Path(tmp) / "run.duckdb"
            shutil.copy(empty, db)
            found["existing"].append(run(cli(path, "demo_tickets", str(db))))
            db.unlink()
            found["new"].append(run(cli(path, "demo_tickets", str(db))))
            db.unlink()
    targets = {"help": 0.3, "existing": 1.0, "new": None}
    labels = {"help": "python -m lib --help", "existing": "4-row ingest, store exists",
              "new": "4-row ingest, new store"}  # fmt: skip
    for key, runs in found.items():
        secs = sorted(r["seconds"] for r in runs)
        cpu = min(r["cpu"] for r in runs)
        target = targets[key]
        verdict = "" if target is None else (
            f" (target <= {target:g} s: {'met' if secs[0] <= target else 'NOT met'})")  # fmt: skip
        print(f"  {labels[key]:>27}: best {secs[0]:5.2f} s, worst {secs[-1]:5.2f} s, "
              f"CPU {cpu:5.2f} s{verdict}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="all",
                        choices=["all", "small", "tickets", "agent_daily", "xlsx"])  # fmt: skip
    parser.add_argument("--rows", type=int, default=1_000_000, help="tickets in the tickets case")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cases = ["small", "tickets", "agent_daily", "xlsx"] if args.case == "all" else [args.case]
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the start")
    for case in cases:
        if case == "small":
            print("small file and --help:")
            small(args.repeat)
            continue
        if case == "tickets":
            path, mapping, floor = generate(args.rows), "demo_tickets", "read_csv"
        elif case == "agent_daily":
            path, mapping, floor = generate_daily(), "qianniu_agent_daily", "read_csv"
        else:
            path, mapping, floor = generate_xlsx(), "qianniu_agent_daily", "calamine"
        print(f"{case}: {path.name}, {path.stat().st_size / 1e6:,.0f} MB")
        compare(case, floor, path, mapping, args.repeat)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
