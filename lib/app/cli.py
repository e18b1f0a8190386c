"""Command line: `python -m lib ingest|demo|presets|quarantine|scorecard|report|mail|digest|
watch|kpis|schemes|users …`.

The same functions the pages call, for scripts and scheduled jobs. Exit codes: 0 when all is
well (for `ingest`: something was stored, or every row was already stored), 2 when a file or
mapping cannot be used or the store cannot be opened (the message says why), 3 when `ingest`
read rows but every one was quarantined or skipped, 4 when `mail` or `digest` could not deliver,
1 for anything unexpected. JSON output is strict: no value is ever written as a bare NaN.

Each command imports what it needs when it runs, so `--help` and small commands start quickly;
these are the only function-level imports in `lib` besides the hand-off's call back into here
and pandera in `lib.ingest.validation`, loaded only for a batch with a row that may be bad.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from lib.auth import access
from lib.core import errors

INGEST_MEMORY = "500MB"  # DuckDB's memory while `ingest` stores files (see intake)
EXIT_UNUSABLE = 2  # a file, mapping or store that cannot be used
EXIT_NOTHING_STORED = 3  # rows were read, and every one was quarantined or skipped
EXIT_NOT_DELIVERED = 4  # a mail server or webhook did not take the message


def open_store(path=None, read_only: bool = False):
    """The store, opened when a command needs it (see `lib.app.stores`)."""
    from lib.app import stores

    return stores.open_store(path, read_only=read_only)


def _add_db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="store file (default: $SCORECARD_DB or data/scorecard.duckdb)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lib",
        description="Service Scorecard command line.",
        epilog="Exit codes: 0 done (ingest: something stored, or all rows already stored); "
        "2 a file, mapping, setting or store cannot be used; 3 ingest (or watch) read rows but "
        "every one was quarantined or skipped; 4 mail or digest could not deliver; "
        "1 anything unexpected. JSON output never holds NaN.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("ingest", help="load export files into the store", description=(
        "Load CSV/XLSX exports with a mapping preset or file. Prints, per file, rows read, "
        "accepted, duplicates and quarantined, with the first errors."))  # fmt: skip
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--mapping", required=True, metavar="NAME_OR_PATH",
                   help="a preset or saved mapping name (see `presets`) or a mapping YAML file")  # fmt: skip
    p.add_argument("--sheet", help="Excel sheet to read (default: the first)")
    p.add_argument("--user", default="cli", help="recorded in the upload log")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.add_argument("--shop", help="the shop (店铺) of the rows, when the file does not name it")
    p.add_argument("--platform", help="taobao, pdd, jd, douyin, kuaishou (or 天猫, 拼多多 …), "
                   "when the mapping does not say")  # fmt: skip
    span = p.add_mutually_exclusive_group()
    span.add_argument("--period", help="for a report without a date column: the month (2026-10), "
                      "week (2026-W40) or day it covers")  # fmt: skip
    span.add_argument("--from", dest="start", metavar="DATE", help="first day a report covers")
    p.add_argument("--to", dest="end", metavar="DATE", help="last day a report covers")
    _add_db(p)

    p = sub.add_parser("demo", help="generate and load the demo data set", description=(
        "Generate a reproducible demo team (30 agents, 6 months) as export files and load "
        "them. --clear removes the demo data instead."))  # fmt: skip
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", help="folder for the demo export files (default: data/demo)")
    p.add_argument("--clear", action="store_true", help="remove the demo data from the store")
    _add_db(p)

    p = sub.add_parser("presets", help="list the mapping presets", description=(
        "List the built-in mapping presets and the mappings saved in the store, with the "
        "table each one feeds; --explain NAME prints one mapping in words."))  # fmt: skip
    p.add_argument("--explain", metavar="NAME_OR_PATH", help="describe one mapping in words")
    _add_db(p)

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
    p.add_argument("--lang", choices=["zh", "en"],
                   help="CSV and Excel for people in this language (headers in words, rates in %%, "
                        "times in the KPI's unit); without it they stay machine-readable")  # fmt: skip
    _add_db(p)

    _delivery_parsers(sub)

    p = sub.add_parser("kpis", help="list the KPI catalogue with formulas", description=(
        "List every KPI: id, dimension, direction, minimum sample, sources and formula."))  # fmt: skip
    p.add_argument("--lang", choices=["zh", "en"], default="en")
    p.add_argument("--check", action="store_true", help="also check the catalogue's SQL")
    p.add_argument("--scheme", help="say how this scheme counts times (calendar or service hours)")
    _add_db(p)

    p = sub.add_parser("schemes", help="list scoring schemes and their versions", description=(
        "List the scoring schemes; with a name, its version history."))  # fmt: skip
    p.add_argument("name", nargs="?")
    _add_db(p)

    p = sub.add_parser("quarantine", help="write the quarantined rows to CSV", description=(
        "Write quarantined rows (file, row, column, reason, original row) as CSV."))  # fmt: skip
    p.add_argument("--upload", type=int, help="only this upload id")
    p.add_argument("--out", help="CSV file to write (default: standard output)")
    p.add_argument("--lang", choices=["zh", "en"],
                   help="for people in this language (headers and reasons in words); without it "
                        "the CSV stays machine-readable")  # fmt: skip
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


PERIOD_HELP = (
    "2026-10 (month), 2026-W19, 2026-05-03 or 2026; last-month (the calendar month "
    "before today); default: the latest month the data covers in full"
)


def _delivery_parsers(sub) -> None:
    p = sub.add_parser("report", help="write the monthly report (HTML or Excel)", description=(
        "Write the same monthly report as the Overview page: HTML with charts, or the "
        "scorecard as Excel, chosen by the --out file's ending."))  # fmt: skip
    p.add_argument("--period", help=PERIOD_HELP)
    p.add_argument("--team", help="only this team")
    p.add_argument("--scheme", help="scheme name or YAML file (default: balanced)")
    p.add_argument("--lang", choices=["zh", "en"], default="zh")
    p.add_argument("--out", required=True, metavar="FILE.html|FILE.xlsx")
    _add_db(p)

    p = sub.add_parser("mail", help="email the monthly report", description=(
        "Email the monthly report as HTML with the report attached, over SMTP (settings from "
        "SCORECARD_SMTP_HOST, _PORT, _TLS, _USER, _PASSWORD, _FROM). --each-agent sends "
        "every agent their own scorecard only, to the address in --addresses or their account."))  # fmt: skip
    p.add_argument("--period", help=PERIOD_HELP)
    p.add_argument(
        "--to", nargs="+", default=[], metavar="ADDR", help="recipients of the team report"
    )
    p.add_argument(
        "--each-agent", action="store_true", help="also mail each agent their own scorecard"
    )
    p.add_argument("--addresses", metavar="FILE.csv", help="agent,email list for --each-agent")
    p.add_argument("--team", help="only this team")
    p.add_argument("--scheme", help="scheme name or YAML file (default: balanced)")
    p.add_argument("--lang", choices=["zh", "en"], default="zh")
    p.add_argument("--attach", choices=["html", "xlsx"], default="html", help="attachment format")
    _add_db(p)

    p = sub.add_parser("digest", help="post the daily digest to the team chat", description=(
        "Post one message per day to the webhooks in config/alerts.yaml: new alerts, the "
        "day's headline KPIs against the week before, best and weakest movers, and failed "
        "watched-folder imports. A day already posted to a hook is not posted again."))  # fmt: skip
    p.add_argument(
        "--since", default="yesterday", help="yesterday (default), today or a date 2026-05-03"
    )
    p.add_argument("--scheme", help="scheme for the movers (default: balanced)")
    p.add_argument("--lang", choices=["zh", "en"], default="zh")
    p.add_argument("--dry-run", action="store_true", help="print the message, send nothing")
    p.add_argument("--force", action="store_true", help="post even if the day was posted")
    p.add_argument(
        "--alerts", metavar="FILE", help="alert rules and webhooks (default: config/alerts.yaml)"
    )
    _add_db(p)

    p = sub.add_parser("watch", help="ingest export files dropped into a folder", description=(
        "Watch a folder and ingest new or changed export files with a mapping. A file is read "
        "once its size has stayed the same for --settle seconds; each content is stored once "
        "(by SHA-256). Results go to the log and failures to the daily digest."))  # fmt: skip
    p.add_argument("folder")
    p.add_argument("--mapping", required=True, metavar="NAME_OR_PATH")
    p.add_argument("--interval", type=float, default=60, help="seconds between scans (default 60)")
    p.add_argument(
        "--settle", type=float, default=5, help="seconds a file's size must stay the same"
    )
    p.add_argument("--once", action="store_true", help="scan once (for cron) and exit")
    p.add_argument("--log", help="also append the log to this file")
    _add_db(p)


def _period_arg(con, text: str | None):
    """A period from the command line, or the default one (None for an empty store)."""
    from lib.core import periods
    from lib.present import views

    if text is None:
        return views.default_period(con)
    if text.strip().lower() == "last-month":
        first = dt.date.today().replace(day=1) - dt.timedelta(days=1)
        return periods.month(first.year, first.month)
    return periods.parse(text)


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
    from lib.app import intake
    from lib.core.errors import MappingError, UnusableFile
    from lib.core.jsontext import strict_json
    from lib.ingest.mapping import load as load_mapping
    from lib.ingest.pipeline import NOTHING_STORED

    try:
        scope = _scope_arg(args)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        con = open_store(args.db)
        mapping = load_mapping(args.mapping, con)
    except MappingError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    failed = empty = False
    summaries = []
    files = [
        intake.Upload(Path(name), mapping, sheet=args.sheet, scope=scope) for name in args.files
    ]
    # A command of its own caps DuckDB's memory while storing; in the app (a command handed
    # over) the store's memory is shared with the people using it, and is left alone.
    cap = INGEST_MEMORY if getattr(args, "own_process", True) else None
    results = intake.store_uploads(con, _cli_viewer(args.user), files, ingest_memory=cap)
    for name, result in zip(args.files, results):
        if isinstance(result, UnusableFile):
            failed = True
            summaries.append({"file": name, "status": "rejected", "message": str(result),
                              "rows_read": 0, "accepted": 0, "duplicates": 0, "quarantined": 0,
                              "errors": []})  # fmt: skip
            if not args.json:
                print(f"{name}: REJECTED — {result}", file=sys.stderr)
            continue
        summaries.append(result.to_json())
        empty |= result.status == NOTHING_STORED
        if not args.json:
            print(result.summary())
            if result.status == NOTHING_STORED:
                print(f"{name}: NOTHING STORED — every row was quarantined or skipped",
                      file=sys.stderr)  # fmt: skip
    if args.json:
        print(strict_json({"files": summaries}))
    return EXIT_UNUSABLE if failed else EXIT_NOTHING_STORED if empty else 0


def _scope_arg(args):
    """--shop, --platform and --period/--from/--to as an ingest Scope (None when not given)."""
    from lib.core import periods
    from lib.ingest.pipeline import Scope

    if args.end and not args.start:
        raise ValueError("--to needs --from")
    span = None
    if args.period or args.start:
        try:
            p = periods.parse(args.period) if args.period else periods.between(
                args.start, args.end or args.start)  # fmt: skip
        except ValueError as exc:
            raise ValueError(f"--period/--from/--to: {exc}") from None
        span = (p.start, p.end - dt.timedelta(days=1))
    if not (args.shop or args.platform or span):
        return None
    return Scope(shop=args.shop, platform=args.platform, period=span)


def _cmd_demo(args) -> int:
    from lib.app import demo
    from lib.auth import audit, users
    from lib.core import store

    con = open_store(args.db)
    auth, log = users.auth_path(), audit.log_of(con)
    if args.clear:
        removed = demo.clear(con, _cli_viewer())
        users.remove_demo(auth, viewer=_cli_viewer(), log=log)
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


def _cli_viewer(name: str | None = None) -> access.Viewer:
    """The operator at the command line: the system's rights, named in the audit log."""
    return access.Viewer(name or _cli_user(), access.SYSTEM.role)


def _cmd_users(args) -> int:
    from lib.auth import audit, users
    from lib.core import store

    auth = users.auth_path(args.auth)
    log = audit.log_path(store.resolve_db_path(args.db))
    by = _cli_viewer()
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
                           password=password, viewer=by, log=log)  # fmt: skip
            print(f"User '{args.username.lower()}' added as {args.role}.")
            if password is None:
                print(f"Password (shown once): {pw}")
        elif args.users_command == "set-role":
            users.set_role(auth, args.username, args.role, agent=args.agent, viewer=by, log=log)
            print(f"User '{args.username}' is now {args.role}.")
        elif args.users_command == "reset-password":
            pw = users.reset_password(auth, args.username, password, viewer=by, log=log)
            print(f"Password of '{args.username}' reset; failed logins cleared.")
            if password is None:
                print(f"New password (shown once): {pw}")
        else:
            disabled = args.users_command == "disable"
            users.set_disabled(auth, args.username, disabled, viewer=by, log=log)
            print(f"User '{args.username}' {'disabled' if disabled else 'enabled'}.")
    except errors.UserError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 0


def _cmd_presets(args) -> int:
    from lib.core.errors import MappingError
    from lib.ingest.mapping import all_presets, explain, load, saved

    con = open_store(args.db)
    if args.explain:
        try:
            print(explain(load(args.explain, con)))
        except MappingError as exc:
            print(str(exc), file=sys.stderr)
            return EXIT_UNUSABLE
        return 0
    for m in saved(con).values():
        print(f"{m.name:<22} {m.kind:<15} (saved in the store)")

    for m in all_presets():
        print(f"{m.name:<22} {m.kind:<15} {m.describe('en')}")
    return 0


def _cmd_quarantine(args) -> int:
    from lib.ingest.pipeline import quarantine_report
    from lib.present.export import csv_bytes

    con = open_store(args.db)
    frame = quarantine_report(con, access.SYSTEM, args.upload)
    if args.lang:
        from lib.present.views import quarantine_for_people

        frame = quarantine_for_people(frame, args.lang)
    if args.out:
        Path(args.out).write_bytes(csv_bytes(frame))
        print(f"{len(frame):,} quarantined value(s) written to {args.out}")
    else:
        sys.stdout.write(csv_bytes(frame).decode("utf-8-sig"))
    return 0


def _cmd_scorecard(args) -> int:
    from lib.core import periods
    from lib.metrics import schemes, scoring
    from lib.present import export, views

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
    con = open_store(args.db)
    if period is None:  # the app's default: the latest month the data covers in full
        period = views.default_period(con) or periods.parse(f"{dt.date.today():%Y-%m}")
    try:
        scheme = schemes.resolve(con, args.scheme, period.end, what_if=args.what_if)
        card = scoring.scorecard(con, scheme, period, viewer=access.SYSTEM, team=args.team)
        text = export.write(card, args.format, args.out, lang=args.lang)
    except (errors.SchemeError, ValueError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if card.agents.empty:
        print(f"No agent has data for {period.label}: the table has headers only. "
              "Months with data: " + (", ".join(views.months_with_data(con)[:12]) or "none"),
              file=sys.stderr)  # fmt: skip
    if text is not None:
        print(text)
    else:
        print(f"Scorecard of {len(card.agents)} agents written to {args.out}")
    return 0


def _cmd_report(args) -> int:
    from lib.present import report

    con = open_store(args.db)
    try:
        period = _period_arg(con, args.period)
        if period is None:
            print("The store has no data yet: nothing to report.", file=sys.stderr)
            return 2
        card = report.card_for(con, access.SYSTEM, period, args.scheme, args.team)
        path = report.write(con, access.SYSTEM, card, args.team, args.lang, args.out)
    except (errors.SchemeError, ValueError, OSError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(f"Report for {period.label} ({len(card.agents)} agents) written to {path}")
    return 0


def _cmd_mail(args) -> int:
    from lib.auth import users
    from lib.present import mail, report

    if not args.to and not args.each_agent:
        print("Say who gets the mail: --to ADDR … and/or --each-agent", file=sys.stderr)
        return 2
    try:
        settings = mail.smtp_settings()
        con = open_store(args.db)
        period = _period_arg(con, args.period)
        if period is None:
            print("The store has no data yet: nothing to mail.", file=sys.stderr)
            return 2
        card = report.card_for(con, access.SYSTEM, period, args.scheme, args.team)
        messages, skipped = [], []
        if args.to:
            messages.append(mail.team_message(con, settings, card, args.to, team=args.team,
                                              lang=args.lang, attach=args.attach))  # fmt: skip
        if args.each_agent:
            book = mail.addresses(args.addresses, users.auth_path())
            for agent in card.agents["agent"]:
                if agent in book:
                    messages.append(mail.agent_message(con, settings, card, agent, book[agent],
                                                       lang=args.lang, attach=args.attach))  # fmt: skip
                else:
                    skipped.append(agent)
    except (errors.MailError, errors.SchemeError, ValueError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        sent = mail.send(settings, messages)
    except errors.MailError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_NOT_DELIVERED
    print(f"{sent} mail(s) for {period.label} sent through {settings.host}:{settings.port}.")
    if skipped:
        print(f"No address for {len(skipped)} agent(s), not mailed: {', '.join(skipped)}",
              file=sys.stderr)  # fmt: skip
    return 0


def _cmd_digest(args) -> int:
    from lib.metrics import schemes
    from lib.monitoring import alerts
    from lib.present import digest

    try:
        day = digest.day_of(args.since)
        con = open_store(args.db)
        config = alerts.load(con, Path(args.alerts) if args.alerts else None)
        hooks = config.get("webhooks") or []
        if not hooks and not args.dry_run:
            print("No webhooks are configured (Monitoring page, or config/alerts.yaml): nothing "
                  "to post to. Use --dry-run to see the message.", file=sys.stderr)  # fmt: skip
            return 2
        alerts.refresh(con, _cli_viewer(), config)
        scheme = schemes.resolve(con, args.scheme, day)
        body = digest.text(digest.content(con, day, scheme, args.lang), args.lang)
    except (errors.SchemeError, errors.AlertRulesError, ValueError, OSError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if args.dry_run:
        print(body)
        return 0
    result = digest.post(con, _cli_viewer(), hooks, day, body, force=args.force)
    for hook, status in result.items():
        print(f"{hook}: {status}", file=sys.stderr if status.startswith("failed") else sys.stdout)
    return EXIT_NOT_DELIVERED if digest.has_failures(result) else 0


def _cmd_watch(args) -> int:
    import logging

    log = logging.getLogger("scorecard.watch")
    log.setLevel(logging.INFO)
    handlers = [logging.StreamHandler(sys.stderr)]
    if args.log:
        handlers.append(logging.FileHandler(args.log, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(handler)
    try:
        return _watch(args, log)
    finally:
        for handler in handlers:
            log.removeHandler(handler)
            handler.close()


def _watch(args, log) -> int:
    import time

    from lib.app.watch import Watcher
    from lib.core.errors import MappingError
    from lib.ingest.mapping import load as load_mapping

    folder = Path(args.folder)
    if not folder.is_dir():
        print(f"The folder {folder} does not exist.", file=sys.stderr)
        return 2
    try:
        try:
            with open_store(args.db) as con:
                mapping = load_mapping(args.mapping, con)
        except errors.StoreError:  # the app has the store open: presets and files still load
            mapping = load_mapping(args.mapping)
    except MappingError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    watcher = Watcher(folder, mapping, settle=args.settle)
    statuses: list[str] = []
    while True:
        try:
            # Open the store only for a scan, so the app (or another command) can write between.
            with open_store(args.db) as con:
                results = watcher.scan(con)
                if args.once:  # cron: look twice, `settle` apart, so a settled file is taken now
                    time.sleep(args.settle)
                    results += watcher.scan(con)
        except errors.StoreError as exc:
            results = _watch_in_app(args, log)
            if results is None:
                log.warning("store busy, trying again: %s", exc)
                if args.once:
                    return 2
                results = []
        statuses += [r["status"] for r in results]
        if args.once:
            break
        time.sleep(args.interval)
    if any(s in ("rejected", "failed") for s in statuses):
        return EXIT_UNUSABLE
    return EXIT_NOTHING_STORED if "nothing stored" in statuses else 0


def _watch_in_app(args, log) -> list[dict] | None:
    """One scan run by the app that has the store open (None when no app serves it)."""
    from lib.app import handoff
    from lib.core import store

    db = store.resolve_db_path(args.db)
    if not handoff.serving(db):
        return None
    answer = handoff.hand_over(db, ["watch", str(Path(args.folder).resolve()), "--mapping",
                                    args.mapping, "--once", "--settle", str(args.settle),
                                    "--db", str(db.resolve())])  # fmt: skip
    if answer is None:
        return None
    for line in answer["stderr"].splitlines():
        log.info("(in the app) %s", line.split(" ", 3)[-1] if line[:2].isdigit() else line)
    status = {0: [], EXIT_NOTHING_STORED: ["nothing stored"]}.get(answer["code"], ["rejected"])
    return [{"status": s} for s in status]


def _cmd_kpis(args) -> int:
    from lib.metrics.kpis import check_sql, load_catalogue

    cat = load_catalogue()
    calendar = None
    if args.scheme:  # the time-based KPIs as this scheme counts them
        from lib.metrics import schemes, scoring

        try:
            calendar = scoring.calendar_for(schemes.resolve(open_store(args.db), args.scheme))
        except errors.SchemeError as exc:
            print(str(exc), file=sys.stderr)
            return 2
    for kpi in cat.kpis.values():
        dim = cat.dimensions[kpi.dimension][args.lang]
        arrow = "↑" if kpi.higher_is_better else "↓"
        sources = ", ".join(s.table for s in kpi.sources)
        print(f"{kpi.id:<28} {dim:<14} {kpi.kind:<8} {arrow} min {kpi.min_sample:<3} "
              f"{kpi.label(args.lang)}")  # fmt: skip
        print(f"{'':<28} {kpi.describe(args.lang, calendar)}  [from: {sources}]")
    if args.check:
        problems = check_sql(cat)
        for rule, message in problems:
            print(f"problem: {message} [{rule}]", file=sys.stderr)
        print(f"{len(cat.kpis)} KPIs; SQL check: {'ok' if not problems else 'FAILED'}")
        return 2 if problems else 0
    return 0


def _cmd_schemes(args) -> int:
    from lib.metrics import schemes

    con = open_store(args.db)
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
    from lib.app import backup

    con = open_store(args.db)
    try:
        folder = backup.backup(con, args.out, viewer=_cli_viewer())
    except errors.BackupError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(f"Backup written to {folder}")
    return 0


def _cmd_restore(args) -> int:
    from lib.app import backup

    try:
        aside = backup.restore(
            args.backup, args.db, with_accounts=args.with_accounts, viewer=_cli_viewer()
        )
    except errors.BackupError as exc:
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
    "report": _cmd_report,
    "mail": _cmd_mail,
    "digest": _cmd_digest,
    "watch": _cmd_watch,
    "kpis": _cmd_kpis,
    "schemes": _cmd_schemes,
    "users": _cmd_users,
    "backup": _cmd_backup,
    "restore": _cmd_restore,
}


def main(argv: list[str] | None = None, handoff: bool = True) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.own_process = handoff  # False: run by the app for a command handed over to it

    try:
        return COMMANDS[args.command](args)
    except errors.StoreError as exc:
        if handoff:  # the app has the store open: it runs the command for us
            answer = _hand_over(args, argv)
            if answer is not None:
                sys.stdout.write(answer["stdout"])
                sys.stderr.write(answer["stderr"])
                return int(answer["code"])
        print(str(exc), file=sys.stderr)
        return 2


def _hand_over(args, argv: list[str]) -> dict | None:
    from lib.app import handoff
    from lib.core import store

    db = store.resolve_db_path(getattr(args, "db", None))
    if args.command not in handoff.COMMANDS or not handoff.serving(db):
        return None
    if "--db" not in argv:  # the app may have been started on another store by default
        argv = [*argv, "--db", str(db.resolve())]
    return handoff.hand_over(db, argv)
