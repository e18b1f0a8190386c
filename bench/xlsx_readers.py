"""XLSX reader benchmark: one generated workbook read through openpyxl and through calamine.

    python bench/xlsx_readers.py [--rows 50000] [--repeat 3]

Writes a workbook of `--rows` rows × 15 columns (text, whole and decimal numbers, dates,
times of day, percentages) to a temporary folder, then reads it end to end through
`lib.ingest.reader.read_table` — the checks before parsing, the cells as text, header detection, the
Arrow table — once with `XLSX_ENGINE = "openpyxl"` (the reader before calamine) and once with
`"calamine"` (the reader in use), alternating, `--repeat` times each. Prints the best wall-clock
and CPU time of each, rows/s and the ratios, and checks that both readers gave the same table
(the exit status is 1 if not).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lib.ingest import reader  # noqa: E402

HEADERS = ["日期", "客服", "店铺名", "咨询人数", "接待人数", "询单人数", "支付人数", "客服销售额",
           "客单价", "询单转化率", "3分钟回复率", "平均响应时长", "首次响应时间", "备注", "更新时间"]  # fmt: skip


def write_workbook(path: Path, rows: int) -> None:
    """A seeded workbook in openpyxl's write-only mode (streamed, so 50,000 rows write fast)."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    rng = random.Random(16)
    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet("客服数据")
    ws.append(HEADERS)
    agents = [f"客服{i:03d}" for i in range(200)]
    start = dt.date(2026, 1, 1)
    for i in range(rows):
        asked = rng.randint(0, 400)
        rate = WriteOnlyCell(ws, round(rng.random(), 4))
        rate.number_format = "0.00%"
        ws.append([
            start + dt.timedelta(days=i % 365), rng.choice(agents), "旗舰店" if i % 3 else "拼多多店",
            asked, rng.randint(0, asked), rng.randint(0, asked), rng.randint(0, 50),
            round(rng.uniform(0, 20000), 2), round(rng.uniform(20, 600), 2), rate,
            round(rng.random(), 4), rng.randint(3, 300), dt.time(rng.randint(0, 23), rng.randint(0, 59)),
            rng.choice(["", "催单", "退款咨询", "物流慢，已安抚"]),
            dt.datetime(2026, 1, 1, 8) + dt.timedelta(minutes=7 * i),
        ])  # fmt: skip
    book.save(path)


def read_with(engine: str, path: Path) -> tuple[float, float, object]:
    """Wall-clock and CPU seconds of one read (CPU time says more on a busy machine)."""
    reader.XLSX_ENGINE = engine
    started, cpu = time.perf_counter(), time.process_time()
    raw = reader.read_table(path)
    return time.perf_counter() - started, time.process_time() - cpu, raw


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.xlsx"
        started = time.perf_counter()
        write_workbook(path, args.rows)
        print(f"wrote {args.rows:,} rows × {len(HEADERS)} columns "
              f"({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s")  # fmt: skip
        best = {"openpyxl": [float("inf")] * 2, "calamine": [float("inf")] * 2}
        tables = {}
        for _ in range(args.repeat):
            for engine, times in best.items():  # alternating: neither gets a quieter machine
                wall, cpu, raw = read_with(engine, path)
                times[:] = min(times[0], wall), min(times[1], cpu)
                tables[engine] = raw.table
        reader.XLSX_ENGINE = "calamine"
    same = tables["openpyxl"].equals(tables["calamine"])
    print(f"\n{'reader':<10} {'best s':>8} {'CPU s':>8} {'rows/s':>10}")
    for engine, (wall, cpu) in best.items():
        print(f"{engine:<10} {wall:>8.2f} {cpu:>8.2f} {args.rows / wall:>10,.0f}")
    ratio = best["openpyxl"][0] / best["calamine"][0]
    cpu_ratio = best["openpyxl"][1] / best["calamine"][1]
    print(f"\nopenpyxl / calamine: {ratio:.1f}x wall, {cpu_ratio:.1f}x CPU (best of "
          f"{args.repeat}); same table from both: {same}")  # fmt: skip
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
