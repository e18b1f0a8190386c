"""Command line: `python -m lib ingest|demo|presets|quarantine …`.

The same functions the pages call, for scripts and scheduled jobs. Exit codes: 0 when all is
well, 2 when a file or mapping cannot be used or the store cannot be opened (the message says
why), 1 for anything unexpected.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lib import store


def _add_db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="store file (default: $SCORECARD_DB or data/scorecard.duckdb)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lib", description="Service Scorecard command line."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("ingest", help="load export files into the store", description=(
        "Load CSV/XLSX exports with a mapping preset or file. Prints, per file, rows read, "
        "accepted, duplicates and quarantined, with the first errors."))  # fmt: skip
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--mapping", required=True, metavar="NAME_OR_PATH",
                   help="a preset name (see `presets`) or a mapping YAML file")  # fmt: skip
    p.add_argument("--sheet", help="Excel sheet to read (default: the first)")
    p.add_argument("--user", default="cli", help="recorded in the upload log")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    _add_db(p)

    p = sub.add_parser("demo", help="generate and load the demo data set", description=(
        "Generate a reproducible demo team (30 agents, 6 months) as export files and load "
        "them. --clear removes the demo data instead."))  # fmt: skip
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", help="folder for the demo export files (default: data/demo)")
    p.add_argument("--clear", action="store_true", help="remove the demo data from the store")
    _add_db(p)

    p = sub.add_parser("presets", help="list the mapping presets", description=(
        "List the built-in mapping presets with the table each one feeds."))  # fmt: skip

    p = sub.add_parser("quarantine", help="write the quarantined rows to CSV", description=(
        "Write quarantined rows (file, row, column, reason, original row) as CSV."))  # fmt: skip
    p.add_argument("--upload", type=int, help="only this upload id")
    p.add_argument("--out", help="CSV file to write (default: standard output)")
    _add_db(p)
    return parser


def _cmd_ingest(args) -> int:
    from lib.ingest import ingest_file
    from lib.mapping import MappingError
    from lib.mapping import load as load_mapping
    from lib.reader import UnusableFile

    try:
        mapping = load_mapping(args.mapping)
    except MappingError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    con = store.connect(args.db)
    failed = False
    summaries = []
    for name in args.files:
        try:
            result = ingest_file(con, Path(name), mapping, sheet=args.sheet, user=args.user)
        except UnusableFile as exc:
            failed = True
            entry = {"file": name, "status": "rejected", "message": str(exc), "rows_read": 0,
                     "accepted": 0, "duplicates": 0, "quarantined": 0, "errors": []}  # fmt: skip
            summaries.append(entry)
            if not args.json:
                print(f"{name}: REJECTED — {exc}", file=sys.stderr)
            continue
        summaries.append(result.to_json())
        if not args.json:
            print(result.summary())
    if args.json:
        print(json.dumps({"files": summaries}, ensure_ascii=False, indent=2))
    return 2 if failed else 0


def _cmd_demo(args) -> int:
    from lib import demo

    con = store.connect(args.db)
    if args.clear:
        removed = demo.clear(con)
        print(f"Demo data removed ({removed:,} rows).")
        return 0
    out = Path(args.out) if args.out else None
    for result in demo.load(con, out, seed=args.seed):
        print(result.summary(max_errors=3))
    print(f"Demo data loaded into {store.resolve_db_path(args.db)}.")
    return 0


def _cmd_presets(args) -> int:
    from lib.mapping import all_presets

    for m in all_presets():
        print(f"{m.name:<22} {m.kind:<15} {m.description}")
    return 0


def _cmd_quarantine(args) -> int:
    from lib.ingest import quarantine_report

    con = store.connect(args.db)
    frame = quarantine_report(con, args.upload)
    if args.out:
        frame.to_csv(args.out, index=False, encoding="utf-8-sig")
        print(f"{len(frame):,} quarantined value(s) written to {args.out}")
    else:
        frame.to_csv(sys.stdout, index=False)
    return 0


COMMANDS = {
    "ingest": _cmd_ingest,
    "demo": _cmd_demo,
    "presets": _cmd_presets,
    "quarantine": _cmd_quarantine,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except store.StoreError as exc:
        print(str(exc), file=sys.stderr)
        return 2
