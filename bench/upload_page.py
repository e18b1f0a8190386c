"""The upload page against the command line on one workbook: the page lists the sheets, reads
the head, previews and stores (four reads of one file), the command line ingests once.

    python bench/upload_page.py [ROWS]        (default 150,000 rows of tickets)

Prints both times and their ratio. Each side reads its own copy of the workbook, so neither
profits from the other's checks.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import openpyxl  # noqa: E402

from lib.app.stores import open_store  # noqa: E402
from lib.ingest.mapping import load  # noqa: E402
from lib.ingest.pipeline import ingest_file, preview  # noqa: E402
from lib.ingest.reader import read_table, sheet_names  # noqa: E402

HEADER = ["Ticket ID", "Agent", "Created At", "First Response At", "Resolved At", "Channel",
          "CSAT", "Handle Time"]  # fmt: skip


def workbook(path: Path, rows: int) -> None:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("工单")
    ws.append(HEADER)
    for i in range(rows):
        d = f"2026-05-{1 + i % 28:02d}"
        ws.append([f"T{i}", f"A{i % 50}", f"{d} 09:00", f"{d} 09:01", f"{d} 10:00", "chat", 5, 300])
    wb.save(path)


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 150_000
    mapping = load("demo_tickets")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        workbook(folder / "made.xlsx", rows)
        cli_copy, page_copy = folder / "cli.xlsx", folder / "page.xlsx"
        shutil.copy(folder / "made.xlsx", cli_copy)
        shutil.copy(folder / "made.xlsx", page_copy)
        start = time.perf_counter()
        ingest_file(open_store(folder / "cli.duckdb"), cli_copy, mapping)
        cli = time.perf_counter() - start
        start = time.perf_counter()
        sheet_names(page_copy)
        read_table(page_copy, max_rows=25)
        preview(page_copy, mapping)
        ingest_file(open_store(folder / "page.duckdb"), page_copy, mapping)
        page = time.perf_counter() - start
    print(f"{rows:,} rows: command line {cli:.1f} s; upload page's four steps {page:.1f} s "
          f"({page / cli:.2f}×)")  # fmt: skip


if __name__ == "__main__":
    main()
