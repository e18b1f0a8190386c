"""Ingestion guarantees: counts add up, re-uploads are no-ops, failures change nothing."""

import json
import os
import subprocess
import sys

import pytest

from lib.app.stores import open_store
from lib.auth.access import SYSTEM
from lib.core import store
from lib.core.errors import UnusableFile
from lib.core.i18n import message
from lib.core.tables import TABLES
from lib.ingest import mapping
from lib.ingest.pipeline import WHOLE_ROW, ingest_file, preview, quarantine_report

TICKETS = mapping.load("demo_tickets")
HEADER = "Ticket ID,Agent,Created At,First Response At,Resolved At,Channel,CSAT,Handle Time\n"


def snapshot(con) -> dict:
    """Every canonical table and the quarantine, sorted, for exact comparison."""
    cur = con.cursor()
    out = {}
    for name in [*TABLES, "quarantine"]:
        out[name] = sorted(map(repr, cur.execute(f"SELECT * FROM {name}").fetchall()))
    return out


GOOD = HEADER + (
    "T1,Ann,2026-05-01 09:00,2026-05-01 09:01,2026-05-01 10:00,chat,5,300\n"
    "T2,Bob,2026-05-01 09:30,2026-05-01 09:35,,email,,\n"
)
MIXED = HEADER + (
    "T1,Ann,2026-05-01 09:00,2026-05-01 09:01,2026-05-01 10:00,chat,5,300\n"  # row 2 ok
    "T2,,2026-05-01 09:30,,,email,,\n"  # row 3 agent missing
    "T3,Cid,31/31/2026,,,chat,,\n"  # row 4 bad date
    "T4,Ann,2026-05-01 10:00,2026-05-01 09:00,,chat,,\n"  # row 5 response before creation
    "T5,Ann,2026-05-01 10:00,,,chat,7,\n"  # row 6 rating off the scale
    "T6,Bob,2026-05-01 10:00,,,chat,4,-5\n"  # row 7 negative duration
    "T1,Ann,2026-05-01 09:00,2026-05-01 09:01,2026-05-01 10:00,chat,5,300\n"  # row 8 same as 2
    "T6,Bob,2026-05-01 11:00,,,phone,3,\n"  # row 9 T6 again, row 7 was bad → fine
    "T7,Eve,2026-05-01 11:00,,,phone,3,\n"  # row 10 ok
    "T7,Eve,2026-05-01 12:00,,,phone,3,\n"  # row 11 T7 again with other values
)


def test_counts_add_up_and_quarantine_names_row_column_reason(con, write):
    result = ingest_file(con, write("mixed.csv", MIXED), TICKETS)
    assert result.rows_read == 10
    assert (result.accepted, result.duplicates, result.quarantined) == (3, 1, 6)
    assert result.accepted + result.duplicates + result.quarantined == result.rows_read
    problems = {(e.row, e.column, e.reason) for e in result.errors}
    assert problems == {
        (3, "Agent", "required value is missing"),
        (4, "Created At", "not a date/time"),
        (5, "First Response At", "first response is before the ticket was created"),
        (6, "CSAT", "rating outside 1–5"),
        (7, "Handle Time", "negative duration"),
        (11, "ticket_id", "ticket_id repeats row 10 with different values"),
    }
    report = quarantine_report(con, SYSTEM)
    assert set(report["row_number"]) == {3, 4, 5, 6, 7, 11}
    assert set(report["file_name"]) == {"mixed.csv"}
    bad_date = report[report["row_number"] == 4].iloc[0]
    assert bad_date["value"] == "31/31/2026"
    assert json.loads(bad_date["raw_row"])["Ticket ID"] == "T3"
    stored = con.cursor().execute("SELECT ticket_id FROM tickets ORDER BY 1").fetchall()
    assert stored == [("T1",), ("T6",), ("T7",)]


def test_a_count_too_large_to_store_is_refused_with_its_own_reason(con, write):
    """A count is read as a decimal, exact up to 2**53 - 1: a larger one is refused as too
    large, not stored changed or, past 64 bits, wrapped round to a negative number."""
    text = ("Ticket ID,Agent,Created At,Customer Contacts\n"
            "T1,小美,2026-05-01 09:00,2\n"
            "T2,小美,2026-05-01 09:30,10000000000000000000\n"
            "T3,阿杰,2026-05-01 10:00,2.5\n"
            "T4,阿杰,2026-05-01 10:30,9007199254740991\n"
            "T5,阿杰,2026-05-01 11:00,9007199254740993\n")  # fmt: skip
    result = ingest_file(con, write("huge.csv", text), TICKETS)
    assert {(e.row, e.column, e.reason) for e in result.errors} == {
        (3, "Customer Contacts", "number too large to store"),
        (4, "Customer Contacts", "not a whole number"),
        (6, "Customer Contacts", "number too large to store"),  # would be stored as …992
    }
    stored = con.cursor().execute("SELECT ticket_id, contacts FROM tickets ORDER BY 1").fetchall()
    assert stored == [("T1", 2), ("T4", 9_007_199_254_740_991)]
    assert message("number too large to store", "zh") == "数值过大，无法保存"


def test_a_row_with_values_beyond_the_header_is_kept_readable_in_the_quarantine(con, write):
    text = HEADER + ("T1,小美,2026-05-01 09:00,,,chat,5,300\n"
                     "T2,阿杰,2026-05-01 09:30,,,chat,4,200,多出来的备注\n")  # fmt: skip
    result = ingest_file(con, write("extra.csv", text), TICKETS)
    assert [(e.row, e.column) for e in result.errors] == [(3, WHOLE_ROW)]
    raw = quarantine_report(con, SYSTEM)["raw_row"].tolist()
    assert len(raw) == 1 and "阿杰" in raw[0] and "多出来的备注" in raw[0]
    assert "阿杰" in json.loads(raw[0])
    assert message(WHOLE_ROW, "zh") == "（整行）" and message(WHOLE_ROW, "en") == WHOLE_ROW


def test_the_quarantine_download_speaks_the_readers_language(tmp_path, write):
    """The page's and `quarantine --lang`'s download: reasons and headers in words; the
    machine-readable report keeps its field names and English reasons."""
    from lib.present.views import quarantine_for_people

    db = tmp_path / "q.duckdb"
    con = open_store(db)
    text = HEADER + ("T1,,2026-05-01 09:00,,,chat,5,300\n"
                     "T2,阿杰,2026-05-01 09:30,,,chat,4,200,多出来的备注\n")  # fmt: skip
    ingest_file(con, write("gaps.csv", text), TICKETS)
    report = quarantine_report(con, SYSTEM)
    con.close()
    assert set(report["column"]) == {"Agent", WHOLE_ROW}
    assert "required value is missing" in set(report["reason"])
    zh = quarantine_for_people(report, "zh")
    assert {"上传编号", "文件", "行号", "列", "值", "原因", "原始行"} <= set(zh.columns)
    assert set(zh["列"]) == {"Agent", "（整行）"} and "必填值缺失" in set(zh["原因"])
    en = quarantine_for_people(report, "en")
    assert {"upload", "file", "row", "column", "value", "reason", "original row"} <= set(en.columns)
    assert list(en["reason"]) == list(report["reason"])
    done = subprocess.run([sys.executable, "-m", "lib", "quarantine", "--lang", "zh", "--db", str(db)],
                          capture_output=True, text=True, cwd=store.ROOT, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "原因" in done.stdout.splitlines()[0] and "必填值缺失" in done.stdout


def test_columns_read_as_words_in_english_and_by_their_labels_in_chinese():
    daily = TABLES["agent_daily"]
    assert daily.column("avg_response_s").label("en") == "average response (s)"
    assert daily.column("avg_response_s").label("zh") == "平均响应时长"
    assert TABLES["tickets"].column("is_complaint").label("en") == "complaint"
    assert TABLES["tickets"].column("created_at").label("en") == "created at"


def test_lines_not_counted_as_data_are_named_by_their_rows(con, write):
    text = ("Ticket ID,Agent,Created At\nT1,小美,2026-05-01 09:00\n\n"
            "T2,阿杰,2026-05-01 10:00\n,,\nTotal,,\n")  # fmt: skip
    result = ingest_file(con, write("gaps.csv", text), TICKETS)
    assert result.skipped_by_reason() == [("blank row", [3, 5], 2), ("total row", [6], 1)]
    assert "3 line(s) not counted as data: blank row (rows 3, 5); total row (row 6)" in (
        result.summary()
    )
    assert result.skipped_by_reason(shown=1)[0] == ("blank row", [3], 2)


def test_same_file_twice_leaves_the_store_identical(con, write):
    path = write("good.csv", GOOD)
    first = ingest_file(con, path, TICKETS)
    before = snapshot(con)
    second = ingest_file(con, path, TICKETS)
    assert (first.inserted, second.inserted, second.updated, second.duplicates) == (2, 0, 0, 2)
    assert snapshot(con) == before
    assert any("uploaded before" in n for n in second.notes)


def test_another_sheet_of_a_stored_workbook_is_not_called_uploaded_before(con, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    first = book.active
    first.title = "May"
    for row in (["Ticket ID", "Agent", "Created At"], ["T1", "小美", "2026-05-01 09:00"]):
        first.append(row)
    second = book.create_sheet("June")
    for row in (["Ticket ID", "Agent", "Created At"], ["T2", "阿杰", "2026-06-01 09:00"]):
        second.append(row)
    path = tmp_path / "two.xlsx"
    book.save(path)
    may = ingest_file(con, path, TICKETS, sheet="May")
    june = ingest_file(con, path, TICKETS, sheet="June")
    again = ingest_file(con, path, TICKETS, sheet="June")
    assert (may.inserted, june.inserted, again.duplicates) == (1, 1, 1)
    assert not any("uploaded before" in n for n in may.notes + june.notes)
    assert any("uploaded before" in n for n in again.notes)


def test_overlapping_export_updates_changed_rows_only(con, write):
    ingest_file(con, write("day1.csv", GOOD), TICKETS)
    later = HEADER + (
        "T1,Ann,2026-05-01 09:00,2026-05-01 09:01,2026-05-01 10:00,chat,5,300\n"  # unchanged
        "T2,Bob,2026-05-01 09:30,2026-05-01 09:35,2026-05-02 09:00,email,4,600\n"  # now solved
        "T3,Cid,2026-05-02 08:00,,,chat,,\n"  # new
    )
    result = ingest_file(con, write("day2.csv", later), TICKETS)
    assert (result.inserted, result.updated, result.duplicates) == (1, 1, 1)
    cur = con.cursor()
    assert cur.execute("SELECT count(*), count(DISTINCT ticket_id) FROM tickets").fetchone() == (
        3,
        3,
    )
    assert cur.execute("SELECT csat FROM tickets WHERE ticket_id = 'T2'").fetchone() == (4.0,)


def test_a_failure_half_way_leaves_the_store_as_it_was(con, write, monkeypatch):
    ingest_file(con, write("good.csv", GOOD), TICKETS)
    before = snapshot(con)
    uploads_before = con.cursor().execute("SELECT count(*) FROM uploads").fetchone()

    import lib.ingest.pipeline as ingest

    def explode(*args, **kwargs):
        raise RuntimeError("stopped half-way")

    monkeypatch.setattr(ingest, "_quarantine", explode)  # after the upsert, before commit
    with pytest.raises(RuntimeError):
        ingest_file(con, write("mixed.csv", MIXED), TICKETS)
    assert snapshot(con) == before
    assert con.cursor().execute("SELECT count(*) FROM uploads").fetchone() == uploads_before


def test_missing_required_columns_name_what_is_missing_and_found(con, write):
    before = snapshot(con)
    path = write("wrong.csv", "客服昵称,日期,接待人数\n小美,2026-05-01,3\n")
    with pytest.raises(UnusableFile) as err:
        ingest_file(con, path, TICKETS)
    message = str(err.value)
    assert "wrong.csv" in message
    assert "ticket_id (expected header: Ticket ID)" in message
    assert "Headers found: 客服昵称, 日期, 接待人数" in message
    assert "qianniu_agent_daily" in message  # suggests the preset that fits
    assert snapshot(con) == before
    status = con.cursor().execute("SELECT status FROM uploads").fetchall()
    assert status == [("rejected",)]


def test_header_only_file_is_refused_as_having_no_rows(con, write):
    with pytest.raises(UnusableFile, match=r"^empty.csv: the file has no rows\.$"):
        ingest_file(con, write("empty.csv", HEADER), TICKETS)
    assert store.table_counts(con)["tickets"] == 0


def test_text_is_kept_and_long_cells_are_quarantined(con, write):
    long = "x" * 40000
    text = HEADER.replace("Handle Time", "Comment") + (
        'T1,小美 🙂,2026-05-01 09:00,,,chat,,"=HYPERLINK(""x"")"\n'
        f"T2,مريم,2026-05-01 09:00,,,chat,,{long}\n"
    )
    m = mapping.from_dict(
        {"name": "t", "kind": "tickets",
         "columns": {**{k: v[0] for k, v in TICKETS.columns.items()}, "comment": "Comment"}}
    )  # fmt: skip
    result = ingest_file(con, write("u.csv", text), m)
    assert (result.accepted, result.quarantined) == (1, 1)
    assert result.errors[0].reason == "text longer than 32,767 characters"
    got = con.cursor().execute("SELECT agent, comment FROM tickets").fetchone()
    assert got == ("小美 🙂", '=HYPERLINK("x")')


def run_cli(*args, db):
    return subprocess.run(
        [sys.executable, "-m", "lib", *args, "--db", str(db)],
        capture_output=True, text=True, cwd=store.ROOT,
    )  # fmt: skip


def test_cli_json_summary_and_exit_codes(tmp_path, write):
    db = tmp_path / "cli.duckdb"
    ok = run_cli(
        "ingest", str(write("mixed.csv", MIXED)), "--mapping", "demo_tickets", "--json", db=db
    )
    assert ok.returncode == 0, ok.stderr
    summary = json.loads(ok.stdout)["files"][0]
    assert {k: summary[k] for k in ("file", "rows_read", "accepted", "duplicates", "quarantined")} == {
        "file": "mixed.csv", "rows_read": 10, "accepted": 3, "duplicates": 1, "quarantined": 6,
    }  # fmt: skip
    assert {"row": 4, "column": "Created At", "reason": "not a date/time"} in summary["errors"]
    bad = run_cli("ingest", str(write("w.csv", "a,b\n1,2\n")), "--mapping", "zendesk", db=db)
    assert bad.returncode == 2
    assert "required column(s) missing" in bad.stderr and "Traceback" not in bad.stderr
    unknown = run_cli("ingest", "x.csv", "--mapping", "nope", db=db)
    assert unknown.returncode == 2 and "no preset of that name" in unknown.stderr


@pytest.mark.parametrize(
    "command", ["ingest", "demo", "presets", "quarantine", "scorecard", "kpis", "schemes"]
)
def test_every_command_has_help(command):
    out = subprocess.run([sys.executable, "-m", "lib", command, "--help"], capture_output=True,
                         text=True, cwd=store.ROOT)  # fmt: skip
    assert out.returncode == 0 and "usage:" in out.stdout


def test_cli_with_a_user_written_mapping_file(tmp_path, write):
    mapping_file = write(
        "my_helpdesk.yaml",
        "name: my_helpdesk\nkind: tickets\ncolumns:\n  ticket_id: Unique id\n"
        "  agent: Agent_name\n  created_at: Issue_reported at\n  first_response_at: issue_responded\n"
        "  csat: CSAT Score\noptions:\n  dayfirst: true\n",
    )
    export = write(
        "helpdesk.csv",
        "Unique id,Agent_name,Issue_reported at,issue_responded,CSAT Score\n"
        "a1,Ann,01/08/2023 18:39,01/08/2023 18:41,4\n",
    )
    db = tmp_path / "cli.duckdb"
    out = run_cli("ingest", str(export), "--mapping", str(mapping_file), "--json", db=db)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["files"][0]["accepted"] == 1
    con = open_store(db)
    got = con.execute("SELECT created_at, first_response_at, csat FROM tickets").fetchone()
    assert [str(v) for v in got] == ["2023-08-01 18:39:00", "2023-08-01 18:41:00", "4.0"]


def _long_export() -> str:
    """Forty-odd rows that span several batches of seven: repeats of a key in another batch
    (one identical, one with other values), bad rows, a blank, a total and a ragged row in
    the middle, footers at the end, and day-first dates that only a late batch reveals."""
    lines = ["Ticket export, May 2026", HEADER.strip()]
    for i in range(1, 41):
        day = 1 + i % 12 if i < 30 else 13 + i % 10  # days over 12 only from row 33 on
        lines.append(f"B{i},Ann,{day:02d}/05/2026 09:00,,,chat,{1 + i % 5},{60 * i}")
    lines[5] = "B4,,01/05/2026 09:00,,,chat,,"  # agent missing
    lines[9] = ""  # blank
    lines[12] = "合计,,,,,,,"  # a total row
    lines[15] = "B14,Ann,01/05/2026 09:00,,,chat,4,60,extra"  # too many cells
    lines[20] = lines[3]  # B2 again, the same in every column
    lines[26] = lines[4].replace(",Ann,", ",Bob,")  # B3 again with another agent
    lines[40] = "B39,Cid,30/05/2026 09:00,,,chat,9,60"  # rating off the scale, in the last batch
    lines += ["", "Reporting period: May 2026"]
    return "\n".join(lines) + "\n"


def _outcome(result) -> tuple:
    return (result.rows_read, result.accepted, result.inserted, result.updated,
            result.duplicates, result.quarantined, result.skipped_rows,
            [(e.row, e.column, e.reason, e.value) for e in result.errors],
            [(s.row_number, s.reason) for s in result.skipped], result.notes)  # fmt: skip


def test_a_file_read_in_batches_is_stored_exactly_as_when_read_whole(tmp_path, write, monkeypatch):
    import lib.ingest.pipeline as ingest

    path = write("long.csv", _long_export())
    real, staged = ingest._stage, []

    def stage(raw, *args, **kwargs):
        staged.append(list(raw.row_numbers))
        return real(raw, *args, **kwargs)

    monkeypatch.setattr(ingest, "_stage", stage)
    stores = []
    for batch_rows in (1000, 7):
        staged.clear()
        con = open_store(tmp_path / f"{batch_rows}.duckdb")
        result = ingest_file(con, path, TICKETS, batch_rows=batch_rows)
        stores.append((_outcome(result), snapshot(con), list(staged)))
        con.close()
    (whole, whole_rows, one), (batched, batched_rows, several) = stores
    assert len(one) == 1
    # Five batches, then read again: the late dates showed the file is day-first.
    assert [len(b) for b in several] == [7, 5, 7, 7, 11] * 2
    # B2 (row 4) and its same repeat, B3 (row 5) and its other one, in other batches
    assert not any(4 in b and 21 in b or 5 in b and 27 in b for b in several)
    assert batched == whole
    assert batched_rows == whole_rows
    rows_read, accepted, _, _, duplicates, quarantined, skipped, errors, set_aside, notes = whole
    assert (rows_read, accepted, duplicates, quarantined, skipped) == (38, 33, 1, 4, 0)
    assert (27, "ticket_id", "ticket_id repeats row 5 with different values", None) in errors
    assert [e[0] for e in errors] == [6, 16, 27, 41]
    assert set_aside == [(10, "blank row"), (13, "total row"), (43, "blank row"),
                         (44, "footer line")]  # fmt: skip
    assert "Created At: read as day-first dates (DD/MM/YYYY)" in notes
    assert "datetime.datetime(2026, 5, 2, 9, 0)" in whole_rows["tickets"][0]  # B1: 2 May
    assert len(whole_rows["quarantine"]) == 4


def test_a_failure_in_the_last_batch_stores_nothing(con, write, monkeypatch):
    ingest_file(con, write("good.csv", GOOD), TICKETS)
    before = snapshot(con)
    uploads_before = con.cursor().execute("SELECT count(*) FROM uploads").fetchone()
    import lib.ingest.pipeline as ingest

    real = ingest._stage
    batches = []

    def stage(raw, *args, **kwargs):
        batches.append(raw.num_rows)
        if 41 in raw.row_numbers:  # the last batch
            raise RuntimeError("stopped in the last batch")
        return real(raw, *args, **kwargs)

    monkeypatch.setattr(ingest, "_stage", stage)
    with pytest.raises(RuntimeError, match="last batch"):
        ingest_file(con, write("long.csv", _long_export()), TICKETS, batch_rows=7)
    assert len(batches) > 3  # several batches were staged before it
    assert snapshot(con) == before
    assert con.cursor().execute("SELECT count(*) FROM uploads").fetchone() == uploads_before


def test_rows_stored_without_an_upload_number_are_not_taken_for_the_uploads_own(con, write):
    """An upload's rows wait in their table, marked by the upload number they will get, until
    they are compared with the rows stored before: rows stored with no upload number are
    among the stored ones, so the same row counts as a duplicate and a changed one replaces
    them, once."""
    ingest_file(con, write("good.csv", GOOD), TICKETS)
    con.cursor().execute("UPDATE tickets SET upload_id = NULL")
    changed = GOOD.replace("email,,", "phone,,")  # T2 by phone now; T1 as it was
    result = ingest_file(con, write("again.csv", changed), TICKETS)
    assert (result.accepted, result.inserted, result.updated, result.duplicates) == (1, 0, 1, 1)
    rows = (
        con.cursor()
        .execute("SELECT ticket_id, channel, upload_id FROM tickets ORDER BY 1")
        .fetchall()
    )
    assert rows == [("T1", "chat", None), ("T2", "phone", result.upload_id)]


def test_upload_numbers_follow_one_another_through_a_second_reading_and_a_refusal(
    con, write, monkeypatch
):
    """An upload's rows carry its number from the first batch on: the number is taken before
    they are written. A file read twice (its late dates were day-first) keeps one number, and
    a file refused halfway (a cell over the limit in a later batch) is logged under the
    number it had, so the log shows no gap."""
    ingest_file(con, write("good.csv", GOOD), TICKETS)
    ingest_file(con, write("long.csv", _long_export()), TICKETS, batch_rows=7)
    monkeypatch.setenv("SCORECARD_MAX_CELL_CHARS", "50")
    late = _long_export().replace("B39,Cid,", "B39," + "x" * 60 + ",")
    with pytest.raises(UnusableFile, match="longer than the limit of 50"):
        ingest_file(con, write("late.csv", late), TICKETS, batch_rows=7)
    monkeypatch.delenv("SCORECARD_MAX_CELL_CHARS")
    ingest_file(con, write("again.csv", GOOD.replace("chat", "phone")), TICKETS)
    log = (
        con.cursor()
        .execute("SELECT upload_id, file_name, status FROM uploads ORDER BY upload_id")
        .fetchall()
    )
    assert log == [(1, "good.csv", "stored"), (2, "long.csv", "stored"),
                   (3, "late.csv", "rejected"), (4, "again.csv", "stored")]  # fmt: skip
    stored = con.cursor().execute("SELECT DISTINCT upload_id FROM tickets ORDER BY 1").fetchall()
    assert stored == [(1,), (2,), (4,)]  # T2 was by email: unchanged, it stays the first's


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_progress_is_reported_from_the_thread_that_stores_the_file(con, write_rows, kind):
    """Batches after the first are read by a second thread while the one before is staged;
    the reports a page shows as progress still come from the caller's thread (a page can
    only draw from its own), for a workbook's reader too."""
    import threading

    rows = [line.split(",") for line in _long_export().splitlines()[1:] if line]
    path = write_rows(f"long.{kind}", rows)
    threads = []
    result = ingest_file(con, path, TICKETS, batch_rows=7,
                         progress=lambda f, m: threads.append(threading.current_thread()))  # fmt: skip
    assert result.rows_read > 30
    assert len(threads) > 5
    assert set(threads) == {threading.current_thread()}


@pytest.mark.slow
def test_a_file_over_several_row_groups_is_stored_once_and_whole(con, tmp_path):
    """More rows than DuckDB writes in one row group (122,880), so whole groups are written
    while the file is still read. A second upload of the same file, with one changed row, a
    repeat of another row in another group and a repeat with other values, stores each ticket
    once, names the rows of the repeat, keeps its first values, and every count adds up."""
    n = 300_000
    lines = [HEADER.strip()] + [f"T{i},A{i % 50},2026-05-01 09:00,,,chat,,{i % 600}"
                                for i in range(n)]  # fmt: skip
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    first = ingest_file(con, path, TICKETS)
    assert (first.rows_read, first.inserted, first.duplicates) == (n, n, 0)
    lines[5] = "T4,Zed,2026-05-01 09:00,,,chat,,7"  # T4 (row 6) changed
    lines.append("T250000,A0,2026-05-01 09:00,,,chat,,400")  # T250000 again, unchanged
    lines[200_001] = "T150,Amy,2026-05-01 09:00,,,chat,,5"  # row 200,002: T150 (row 152) again
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    second = ingest_file(con, path, TICKETS)
    assert (second.rows_read, second.inserted, second.updated) == (n + 1, 0, 1)
    assert (second.accepted, second.duplicates, second.quarantined) == (1, n - 1, 1)
    assert [(e.row, e.reason) for e in second.errors] == [
        (200_002, "ticket_id repeats row 152 with different values")]  # fmt: skip
    cur = con.cursor()
    assert cur.execute("SELECT count(*), count(DISTINCT ticket_id) FROM tickets").fetchone() == (
        n,
        n,
    )
    # the identical rows stay as the first upload stored them; the changed one is the second's
    assert cur.execute(
        "SELECT count(*) FROM tickets WHERE upload_id = ?", [second.upload_id]
    ).fetchone() == (1,)
    assert cur.execute(
        "SELECT ticket_id, agent, upload_id FROM tickets WHERE ticket_id IN ('T4', 'T150') "
        "ORDER BY 1"
    ).fetchall() == [("T150", "A0", first.upload_id), ("T4", "Zed", second.upload_id)]
    # T200000, whose line the repeat took, is still stored from the first upload
    assert cur.execute("SELECT count(*) FROM tickets WHERE ticket_id = 'T200000'").fetchone() == (
        1,
    )


def _random_frame(table, rng, n: int):
    """A typed batch of `table` as ingest validates it, with values on and past every limit."""
    import numpy as np
    import pyarrow as pa

    from lib.ingest.pipeline import ARROW_TYPES

    day = np.datetime64("2026-05-01T00:00:00", "us")
    cols = {}
    for col in table.stored:
        gone = rng.random(n) < 0.2  # missing values, also in required columns
        if col.kind in ("timestamp", "date"):
            secs = rng.choice([-3, -1, 0, 1, 5, 3600, 86400 * 91], n) * rng.integers(1, 4, n)
            vals = day + secs.astype("timedelta64[s]")
            far = rng.random(n) < 0.05  # before 1970 or after 2100
            vals[far] = np.datetime64("1960-01-01T00:00:00", "us")
            arr = pa.array(vals, pa.timestamp("us"), mask=gone)
            arr = arr.cast(pa.date32()) if col.kind == "date" else arr
        elif col.kind == "text":
            arr = pa.array([("x" * 32768 if rng.random() < 0.03 else f"v{i}") for i in range(n)],
                           pa.string(), mask=gone)  # fmt: skip
        elif col.kind == "bool":
            arr = pa.array(rng.random(n) < 0.5, mask=gone)
        elif col.kind == "int":
            arr = pa.array(rng.integers(-2, 5, n), pa.int64(), mask=gone)
        else:
            choices = [-0.5, 0.0, 0.5, 1.0, 1.5, 4.0, 5.0, 6.0, 7.0, 86400 * 89.0, 86400 * 95.0]
            arr = pa.array(rng.choice(choices, n), ARROW_TYPES.get(col.kind, pa.float64()),
                           mask=gone)  # fmt: skip
        cols[col.name] = arr
    return pa.table(cols)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_validation_screen_finds_what_the_schema_finds(name):
    """The column screen sends pandera every row it would fault: validate() with the screen
    reports exactly what the schema over every row reports, over random batches with values
    on and past every limit; clean rows are passed without pandera."""
    import numpy as np

    from lib.ingest.validation import suspects, validate, validate_all

    table = TABLES[name]
    rng = np.random.default_rng(7)
    flagged = 0
    for scale, days in ((5, 90.0), (10, 1.0)):
        for _ in range(2):
            rows = _random_frame(table, rng, 200)
            expected = validate_all(rows.to_pandas(), table, scale, days)
            assert expected, "the random batch should break some rule"
            assert sorted(validate(rows, table, scale, days), key=repr) == sorted(
                expected, key=repr
            )
            flagged += int(suspects(rows, table, scale, days).sum())
            bad = sorted({p.index for p in expected})
            clean = rows.filter(~np.isin(np.arange(rows.num_rows), bad))
            assert validate_all(clean.to_pandas(), table, scale, days) == []
            assert not suspects(clean, table, scale, days).any()
    assert flagged


def test_a_clean_file_is_stored_without_loading_pandera(tmp_path, write):
    """Clean rows pass the column screen, so the command line does not import pandera (the
    slowest import of an ingest) for them; a file with a bad row does, and names the problem."""
    probe = ("import sys; from lib.app.cli import main; code = main(sys.argv[1:]); "
             "print('pandera loaded' if 'pandera' in sys.modules else 'no pandera'); sys.exit(code)")  # fmt: skip
    for text, loaded, code in ((GOOD, "no pandera", 0), (MIXED, "pandera loaded", 0)):
        path = write(f"t{code}{len(text)}.csv", text)
        out = subprocess.run([sys.executable, "-c", probe, "ingest", str(path), "--mapping",
                              "demo_tickets", "--db", str(tmp_path / "s.duckdb")],
                             capture_output=True, text=True, cwd=store.ROOT)  # fmt: skip
        assert out.returncode == code, out.stderr
        assert out.stdout.strip().splitlines()[-1] == loaded
    assert (
        "row 5, column First Response At: first response is before the ticket was created"
        in out.stdout
    )
    assert "row 6, column CSAT: rating outside 1–5 (value: '7')" in out.stdout


def test_the_command_ends_with_its_output_whole_its_code_and_the_store_closed(tmp_path):
    """`python -m lib` ends the process once the command is done, without Python's teardown:
    what it printed comes out whole through a pipe (a short summary, still in the buffer, and
    a long one), its exit code is kept, and the store is closed (DuckDB's log written into
    the file)."""
    db = tmp_path / "s.duckdb"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # buffered, as usual
    for n, json_out in ((3, False), (3000, True)):
        rows = "".join(f"T{i},,2026-05-01 09:00,,,chat,,\n" for i in range(n))  # no agent
        path = tmp_path / f"bad{n}.csv"
        path.write_text(HEADER + rows, encoding="utf-8")
        out = subprocess.run([sys.executable, "-m", "lib", "ingest", str(path), "--mapping",
                              "demo_tickets", "--db", str(db), *(["--json"] if json_out else [])],
                             capture_output=True, text=True, cwd=store.ROOT, env=env)  # fmt: skip
        assert out.returncode == 3, out.stderr  # rows were read and none was stored
        if json_out:
            summary = json.loads(out.stdout)["files"][0]
            assert (summary["rows_read"], summary["quarantined"]) == (n, n)
        else:
            assert out.stdout.startswith("bad3.csv: 3 rows read — 0 accepted")
            assert out.stdout.rstrip().endswith("column Agent: required value is missing")
        assert not db.with_name("s.duckdb.wal").exists()


def test_the_preview_names_a_row_with_values_beyond_the_header_as_storing_does(write, con):
    text = HEADER + ("T1,小美,2026-05-01 09:00,,,chat,5,300\n"
                     "T2,阿杰,2026-05-01 09:30,,,chat,4,200,多出来的备注\n"
                     "T3,小林,2026-05-01 10:00,,,chat,4,200\n")  # fmt: skip
    path = write("extra.csv", text)
    shown = preview(path, TICKETS)
    assert [(e.row, e.column) for e in shown.errors] == [(3, WHOLE_ROW)]
    assert list(shown.rows["ticket_id"]) == ["T1", "T3"]
    # A row that will be set aside is among the problems, not among the rows to be stored.
    bad = write("bad.csv", text.replace("chat,4,200\n", "chat,9,200\n", 1))
    assert list(preview(bad, TICKETS).rows["row"]) == [2]
    stored = ingest_file(con, path, TICKETS)
    assert [(e.row, e.column, e.reason) for e in stored.errors] == [
        (e.row, e.column, e.reason) for e in shown.errors]  # fmt: skip


def test_the_preview_reads_a_file_as_the_ingest_does(write, tmp_path):
    """A mapping's footer rows are left out of the preview too, even when they look like rows."""
    body = (
        mapping.load("demo_tickets")
        .to_yaml()
        .replace("options:", "options:\n  skip_footer_rows: 2", 1)
    )
    if "options:" not in body:
        body += "options:\n  skip_footer_rows: 2\n"
    footed = mapping.from_dict(mapping.yamlio.load(body), "footed")
    assert footed.options["skip_footer_rows"] == 2
    path = write(
        "t.csv", GOOD + "T8,Zed,2026-05-01 11:00,,,chat,,\nT9,Zed,2026-05-01 12:00,,,chat,,\n"
    )
    shown = preview(path, footed)
    assert list(shown.rows["ticket_id"]) == ["T1", "T2"]
    assert shown.errors == []
    with open_store(tmp_path / "s.duckdb") as con:
        stored = ingest_file(con, path, footed)
        assert (stored.rows_read, stored.accepted, stored.quarantined) == (2, 2, 0)
