"""XLSX reader benchmark: one generated workbook read through openpyxl and through calamine.

    python bench/xlsx_readers.py [--rows 50000] [--repeat 3]

Writes a workbook of `--rows` rows × 15 columns (text, whole and decimal numbers, dates,
times of day, percentages) to a temporary folder, then reads it end to end through
`lib.reader.read_table` — the checks before parsing, the cells as text, header detection, the
Arrow table — once with `XLSX_ENGINE = "openpyxl"` (the reader before calamine) and once with
`"calamine"` (the reader in use), alternating, `--repeat` times each. Prints the best time of
each, rows/s and the ratio, and checks that both readers gave the same table.
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

from lib import reader  # noqa: E402

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


def read_with(engine: str, path: Path) -> tuple[float, object]:
    reader.XLSX_ENGINE = engine
    started = time.perf_counter()
    raw = reader.read_table(path)
    return time.perf_counter() - started, raw


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
        best = {"openpyxl": float("inf"), "calamine": float("inf")}
        tables = {}
        for _ in range(args.repeat):
            for engine in best:  # alternating, so that neither gets a warmer machine
                seconds, raw = read_with(engine, path)
                best[engine] = min(best[engine], seconds)
                tables[engine] = raw.table
        reader.XLSX_ENGINE = "calamine"
    same = tables["openpyxl"].equals(tables["calamine"])
    print(f"\n{'reader':<10} {'best s':>8} {'rows/s':>10}")
    for engine, seconds in best.items():
        print(f"{engine:<10} {seconds:>8.2f} {args.rows / seconds:>10,.0f}")
    print(f"\nopenpyxl / calamine: {best['openpyxl'] / best['calamine']:.1f}x "
          f"(best of {args.repeat}); same table from both: {same}")  # fmt: skip
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
