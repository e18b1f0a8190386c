"""Command line: `python -m lib ingest|demo|presets|quarantine|scorecard|kpis|schemes|users …`.

The same functions the pages call, for scripts and scheduled jobs. Exit codes: 0 when all is
well, 2 when a file or mapping cannot be used or the store cannot be opened (the message says
why), 1 for anything unexpected.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from lib import access, store


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

    p = sub.add_parser("scorecard", help="score agents for a period", description=(
        "Score every agent (or one team's) for a period with a scheme, and write the "
        "scorecard: agent, team, composite, grade, rank with the range its interval allows, "
        "then value and score per KPI, and flags."))  # fmt: skip
    p.add_argument("--scheme", help="scheme name (see `schemes`) or YAML file (default: balanced)")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--period", help="2026-05 (month), 2026-W19 (week), 2026-05-03 (day) or 2026")
    when.add_argument("--from", dest="start", metavar="DATE", help="first day of a custom range")
    p.add_argument("--to", dest="end", metavar="DATE", help="last day of a custom range")
    p.add_argument("--team", help="only this team")
    p.add_argument("--what-if", action="store_true",
                   help="score with the latest scheme version instead of the one in force then")  # fmt: skip
    p.add_argument("--format", choices=["table", "csv", "json", "xlsx"], default="table")
    p.add_argument("--out", help="file to write (needed for xlsx)")
    _add_db(p)

    p = sub.add_parser("kpis", help="list the KPI catalogue with formulas", description=(
        "List every KPI: id, dimension, direction, minimum sample, sources and formula."))  # fmt: skip
    p.add_argument("--lang", choices=["zh", "en"], default="en")
    p.add_argument("--check", action="store_true", help="also check the catalogue's SQL")

    p = sub.add_parser("schemes", help="list scoring schemes and their versions", description=(
        "List the scoring schemes; with a name, its version history."))  # fmt: skip
    p.add_argument("name", nargs="?")
    _add_db(p)

    p = sub.add_parser("quarantine", help="write the quarantined rows to CSV", description=(
        "Write quarantined rows (file, row, column, reason, original row) as CSV."))  # fmt: skip
    p.add_argument("--upload", type=int, help="only this upload id")
    p.add_argument("--out", help="CSV file to write (default: standard output)")
    _add_db(p)
    _users_parser(sub)

    p = sub.add_parser("backup", help="copy the store, audit log and accounts to a folder", description=(
        "Write a consistent backup folder. The store can be open in one program at a time: "
        "while the app runs, use its 'Back up now' button on the Upload page instead."))  # fmt: skip
    p.add_argument("--out", help="folder for backups (default: data/backups)")
    _add_db(p)
    p = sub.add_parser("restore", help="put a backup in place of the store", description=(
        "Restore a backup folder. Stop the app first. The current store is moved aside as "
        "<store>.before-restore-<time>, never deleted."))  # fmt: skip
    p.add_argument("backup", help="a backup folder made by `backup`")
    p.add_argument("--with-accounts", action="store_true", help="also restore the accounts file")
    _add_db(p)
    return parser


def _users_parser(sub) -> None:
    users = sub.add_parser("users", help="manage user accounts", description=(
        "Add, list and change user accounts in the accounts file (config/auth.yaml, or "
        "$SCORECARD_AUTH). Passwords are read from standard input with --password-stdin, "
        "otherwise generated and printed once. Every change is written to the audit log."))  # fmt: skip
    cmds = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")

    def common(p):
        p.add_argument(
            "--auth", help="accounts file (default: $SCORECARD_AUTH or config/auth.yaml)"
        )
        _add_db(p)  # the audit log lives beside the store
        return p

    p = common(cmds.add_parser("add", help="add a user"))
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=access.ROLES)
    p.add_argument("--agent", help="for agent accounts: the agent's name as it appears in the data")
    p.add_argument("--name", help="display name")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    common(cmds.add_parser("list", help="list users"))
    p = common(cmds.add_parser("set-role", help="change a user's role"))
    p.add_argument("username")
    p.add_argument("role", choices=access.ROLES)
    p.add_argument("--agent", help="for the agent role: the agent's name in the data")
    p = common(cmds.add_parser("reset-password", help="set a new password, clear failed logins"))
    p.add_argument("username")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    for action, text in (("disable", "refuse a user's logins"), ("enable", "allow them again")):
        common(cmds.add_parser(action, help=text)).add_argument("username")


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
    from lib import alerts

    alerts.refresh(con)  # alerts are recomputed after every upload
    if args.json:
        print(json.dumps({"files": summaries}, ensure_ascii=False, indent=2))
    return 2 if failed else 0


def _cmd_demo(args) -> int:
    from lib import audit, demo, users

    con = store.connect(args.db)
    auth, log = users.auth_path(), audit.log_of(con)
    if args.clear:
        removed = demo.clear(con, by=_cli_user())
        users.remove_demo(auth, by=_cli_user(), log=log)
        print(f"Demo data and demo accounts removed ({removed:,} rows).")
        return 0
    out = Path(args.out) if args.out else None
    for result in demo.load(con, out, seed=args.seed):
        print(result.summary(max_errors=3))
    print(f"Demo data loaded into {store.resolve_db_path(args.db)}.")
    made = users.first_start(auth, log) + users.add_demo(auth, log)
    if made:
        print(users.announcement(made))
    return 0


def _cli_user() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no login name (containers): still say it was the CLI
        return "cli"


def _cmd_users(args) -> int:
    from lib import audit, users

    auth = users.auth_path(args.auth)
    log = audit.log_path(store.resolve_db_path(args.db))
    by = _cli_user()
    try:
        made = users.first_start(auth, log)  # a fresh installation: the admin account first
        if made:
            print(users.announcement(made))
        if args.users_command == "list":
            print(users.listing(auth).to_string(index=False))
            return 0
        password = (
            sys.stdin.readline().rstrip("\n") if getattr(args, "password_stdin", False) else None
        )
        if args.users_command == "add":
            pw = users.add(auth, args.username, args.role, agent=args.agent, name=args.name,
                           password=password, by=by, log=log)  # fmt: skip
            print(f"User '{args.username.lower()}' added as {args.role}.")
            if password is None:
                print(f"Password (shown once): {pw}")
        elif args.users_command == "set-role":
            users.set_role(auth, args.username, args.role, agent=args.agent, by=by, log=log)
            print(f"User '{args.username}' is now {args.role}.")
        elif args.users_command == "reset-password":
            pw = users.reset_password(auth, args.username, password, by=by, log=log)
            print(f"Password of '{args.username}' reset; failed logins cleared.")
            if password is None:
                print(f"New password (shown once): {pw}")
        else:
            disabled = args.users_command == "disable"
            users.set_disabled(auth, args.username, disabled, by=by, log=log)
            print(f"User '{args.username}' {'disabled' if disabled else 'enabled'}.")
    except users.UserError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 0


def _cmd_presets(args) -> int:
    from lib.mapping import all_presets

    for m in all_presets():
        print(f"{m.name:<22} {m.kind:<15} {m.describe('en')}")
    return 0


def _cmd_quarantine(args) -> int:
    from lib.export import csv_bytes
    from lib.ingest import quarantine_report

    con = store.connect(args.db)
    frame = quarantine_report(con, access.SYSTEM, args.upload)
    if args.out:
        Path(args.out).write_bytes(csv_bytes(frame))
        print(f"{len(frame):,} quarantined value(s) written to {args.out}")
    else:
        sys.stdout.write(csv_bytes(frame).decode("utf-8-sig"))
    return 0


def _cmd_scorecard(args) -> int:
    from lib import export, periods, schemes, scoring

    if args.end and not args.start:
        print("--to needs --from", file=sys.stderr)
        return 2
    try:
        if args.start:
            period = periods.between(args.start, args.end or args.start)
        else:
            period = periods.parse(args.period) if args.period else None
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    con = store.connect(args.db)
    if period is None:  # the month of the latest ticket, else this month
        latest = con.execute("SELECT max(created_at) FROM tickets").fetchone()[0]
        period = periods.parse(f"{latest or dt.date.today():%Y-%m}")
    try:
        scheme = schemes.resolve(con, args.scheme, period.end, what_if=args.what_if)
        card = scoring.scorecard(con, scheme, period, viewer=access.SYSTEM, team=args.team)
        text = export.write(card, args.format, args.out)
    except (schemes.SchemeError, ValueError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if text is not None:
        print(text)
    else:
        print(f"Scorecard of {len(card.agents)} agents written to {args.out}")
    return 0


def _cmd_kpis(args) -> int:
    from lib.kpis import check_sql, load_catalogue

    cat = load_catalogue()
    for kpi in cat.kpis.values():
        dim = cat.dimensions[kpi.dimension][args.lang]
        arrow = "↑" if kpi.higher_is_better else "↓"
        sources = ", ".join(s.table for s in kpi.sources)
        print(f"{kpi.id:<28} {dim:<14} {kpi.kind:<8} {arrow} min {kpi.min_sample:<3} "
              f"{kpi.label(args.lang)}")  # fmt: skip
        print(f"{'':<28} {kpi.description[args.lang]}  [from: {sources}]")
    if args.check:
        problems = check_sql(cat)
        for rule, message in problems:
            print(f"problem: {message} [{rule}]", file=sys.stderr)
        print(f"{len(cat.kpis)} KPIs; SQL check: {'ok' if not problems else 'FAILED'}")
        return 2 if problems else 0
    return 0


def _cmd_schemes(args) -> int:
    from lib import schemes

    con = store.connect(args.db)
    if args.name:
        history = schemes.versions(con, args.name)
        if history.empty:
            print(f"no scheme '{args.name}'", file=sys.stderr)
            return 2
        for row in history.itertuples():
            print(f"v{row.version}  {row.saved_at:%Y-%m-%d %H:%M}  {row.saved_by}  {row.reason}")
            for line in (row.diff or "").splitlines():
                print(f"      {line}")
        return 0
    for name in schemes.names(con):
        s = schemes.get(con, name)
        print(f"{name:<16} v{s.version}  {s.en} — {s.description.get('en', '')}")
    return 0


def _cmd_backup(args) -> int:
    from lib import backup

    con = store.connect(args.db)
    try:
        folder = backup.backup(con, args.out, by=_cli_user())
    except backup.BackupError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(f"Backup written to {folder}")
    return 0


def _cmd_restore(args) -> int:
    from lib import backup

    try:
        aside = backup.restore(
            args.backup, args.db, with_accounts=args.with_accounts, by=_cli_user()
        )
    except backup.BackupError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(f"Restored {args.backup}. The previous store was kept as {aside}.")
    return 0


COMMANDS = {
    "ingest": _cmd_ingest,
    "demo": _cmd_demo,
    "presets": _cmd_presets,
    "quarantine": _cmd_quarantine,
    "scorecard": _cmd_scorecard,
    "kpis": _cmd_kpis,
    "schemes": _cmd_schemes,
    "users": _cmd_users,
    "backup": _cmd_backup,
    "restore": _cmd_restore,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except store.StoreError as exc:
        print(str(exc), file=sys.stderr)
        return 2
