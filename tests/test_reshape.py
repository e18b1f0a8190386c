"""Real export shapes loaded as they are: combine, formats, time zones, values, missing, skips.

Each fixture is written here in the shape of a public export (not copied from one); the
expected stored values and KPI values are worked out by hand in the comments.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from lib.app.stores import open_store
from lib.core.errors import MappingError
from lib.ingest.mapping import from_dict
from lib.ingest.pipeline import ingest_file
from lib.metrics import kpis
from tests.test_export import cli

D = dt.datetime
MAY = (dt.date(2026, 5, 1), dt.date(2026, 6, 1))


def rows(con, sql):
    return con.cursor().execute(sql).fetchall()


def write(tmp_path, name, text, newline="\n"):
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return path


# A call-centre log: tab-separated, CRLF, a YYMMDD date and H:MM:SS times in separate columns,
# 0:00:00 meaning "never", a key unique only over (vru+line, call_id), NO_SERVER for calls no
# agent took, and an outcome column whose PHANTOM rows are not real calls.
CALLS = (
    "vru+line\tcall_id\tdate\tvru_entry\tq_start\tq_time\tser_start\tser_time\tserver\toutcome\n"
    "AA0101\t33116\t260503\t8:00:01\t8:00:09\t11\t8:00:20\t180\tMICHAL\tAGENT\n"
    "AA0102\t33116\t260503\t8:05:00\t8:05:08\t30\t8:05:38\t120\tMICHAL\tAGENT\n"
    "AA0101\t33117\t260503\t9:00:00\t9:00:05\t120\t0:00:00\t0\tNO_SERVER\tHANG\n"
    "AA0103\t33118\t260504\t10:00:00\t0:00:00\t0\t0:00:00\t0\tNO_SERVER\tPHANTOM\n"
    "AA0104\t33119\t260504\t11:00:00\t11:00:02\t10\t11:00:12\t600\tDAVID\tAGENT\n"
)
CALL_MAPPING = {
    "name": "call_centre", "kind": "tickets",
    "columns": {"agent": "server", "handle_time_s": "ser_time"},
    "options": {
        "combine": {"ticket_id": ["vru+line", "call_id"], "created_at": ["date", "vru_entry"],
                    "first_response_at": ["date", "ser_start"]},
        "formats": {"created_at": ["%y%m%d %H:%M:%S"], "first_response_at": ["%y%m%d %H:%M:%S"]},
        "missing": {"agent": ["NO_SERVER"], "ser_start": ["0:00:00"], "q_start": ["0:00:00"]},
        "skip_rows": {"outcome": ["PHANTOM"]},
    },
}  # fmt: skip


def test_a_call_centre_log(con, tmp_path):
    path = write(tmp_path, "calls.tsv", CALLS, newline="\r\n")
    mapping = from_dict(CALL_MAPPING)
    result = ingest_file(con, path, mapping)
    # 5 rows: 3 answered calls stored, the unanswered call has no agent (quarantined), the
    # phantom is skipped; 3 + 0 + 1 + 1 = 5.
    counts = (result.rows_read, result.accepted, result.duplicates, result.quarantined,
              result.skipped_rows)  # fmt: skip
    assert counts == (5, 3, 0, 1, 1)
    got = rows(
        con, "SELECT ticket_id, agent, created_at, first_response_at FROM tickets ORDER BY 1"
    )
    assert got == [
        ("AA0101 33116", "MICHAL", D(2026, 5, 3, 8, 0, 1), D(2026, 5, 3, 8, 0, 20)),
        ("AA0102 33116", "MICHAL", D(2026, 5, 3, 8, 5), D(2026, 5, 3, 8, 5, 38)),
        ("AA0104 33119", "DAVID", D(2026, 5, 4, 11), D(2026, 5, 4, 11, 0, 12)),
    ]
    report = rows(con, 'SELECT row_number, "column", reason FROM quarantine ORDER BY 1')
    assert report[0][0] == 4 and "required value is missing" in report[0][2]
    assert report[1] == (5, "(whole row)", "skipped by the mapping (outcome = PHANTOM)")
    values = kpis.compute(con, *MAY, kpi_ids=["first_response_time", "aht"])
    frt = values[values["kpi"] == "first_response_time"].set_index("grp")
    assert frt.loc["MICHAL", "median"] == (19 + 38) / 2  # waits of 19 s and 38 s
    assert frt.loc["DAVID", "median"] == 12
    aht = values[values["kpi"] == "aht"].set_index("grp")
    assert (aht.loc["MICHAL", "mean"], aht.loc["DAVID", "median"]) == ((180 + 120) / 2, 600)


def test_a_call_centre_log_with_handle_times(con, tmp_path):
    text = (
        "id\tagent\tday\ttime\tservice_s\n1\tA\t260503\t8:00:00\t180\n2\tA\t260503\t9:00:00\t420\n"
    )
    path = write(tmp_path, "c.tsv", text)
    mapping = from_dict({"name": "c", "kind": "tickets",
                         "columns": {"ticket_id": "id", "agent": "agent", "handle_time_s": "service_s"},
                         "options": {"combine": {"created_at": ["day", "time"]},
                                     "formats": {"created_at": ["%y%m%d %H:%M:%S"]}}})  # fmt: skip
    ingest_file(con, path, mapping)
    aht = kpis.compute(con, *MAY, kpi_ids=["aht"]).iloc[0]
    assert (aht["median"], aht["mean"]) == (300, 300)  # 180 and 420 s


# A PowerBI-style call-centre sheet: Date and Time columns, Y/N flags, speed of answer in
# seconds, talk time as 00:02:23, satisfaction 1–5.
POWERBI = (
    "Call Id,Agent,Date,Time,Topic,Answered (Y/N),Resolved,Speed of answer in seconds,"
    "AvgTalkDuration,Satisfaction rating\n"
    "ID0001,Diane,2026-05-01,9:12:58,Contract related,Y,Y,109,00:02:23,3\n"
    "ID0002,Becky,2026-05-01,9:12:58,Technical Support,Y,N,70,00:04:02,3\n"
    "ID0003,Stewart,2026-05-01,9:47:31,Payment related,Y,Y,10,00:02:11,3\n"
    "ID0004,Greg,2026-05-01,9:47:31,Contract related,N,N,,,\n"
    "ID0005,Becky,2026-05-01,10:00:29,Payment related,Y,Y,53,00:00:37,2\n"
)
POWERBI_MAPPING = {
    "name": "powerbi_calls", "kind": "tickets",
    "columns": {"ticket_id": "Call Id", "agent": "Agent", "category": "Topic",
                "answered": "Answered (Y/N)", "resolved": "Resolved",
                "first_response_s": "Speed of answer in seconds",
                "handle_time_s": "AvgTalkDuration", "csat": "Satisfaction rating"},
    "options": {"combine": {"created_at": ["Date", "Time"]},
                "values": {"answered": {"Y": True, "N": False},
                           "resolved": {"Y": True, "N": False}}},
}  # fmt: skip


def test_a_powerbi_call_centre_sheet(con, tmp_path):
    result = ingest_file(con, write(tmp_path, "calls.csv", POWERBI), from_dict(POWERBI_MAPPING))
    assert (result.accepted, result.quarantined) == (5, 0)
    got = rows(con, "SELECT ticket_id, created_at, answered, resolved, first_response_at, "
                    "handle_time_s, csat FROM tickets ORDER BY 1")  # fmt: skip
    assert got[0] == ("ID0001", D(2026, 5, 1, 9, 12, 58), True, True, D(2026, 5, 1, 9, 14, 47),
                      143.0, 3.0)  # fmt: skip
    assert got[3] == ("ID0004", D(2026, 5, 1, 9, 47, 31), False, False, None, None, None)
    values = kpis.compute(con, *MAY, kpi_ids=["reply_rate", "resolution_rate"], by="team")
    by_kpi = values.set_index("kpi")
    assert (by_kpi.loc["reply_rate", "num"], by_kpi.loc["reply_rate", "den"]) == (4, 5)
    assert (by_kpi.loc["resolution_rate", "num"], by_kpi.loc["resolution_rate", "den"]) == (3, 5)
    bad = POWERBI.replace("ID0005,Becky,2026-05-01,10:00:29,Payment related,Y",
                          "ID0005,Becky,2026-05-01,10:00:29,Payment related,Maybe")  # fmt: skip
    again = ingest_file(con, write(tmp_path, "calls2.csv", bad), from_dict(POWERBI_MAPPING))
    [error] = again.errors
    assert (error.row, error.column, error.value) == (6, "Answered (Y/N)", "Maybe")
    assert error.reason == "values.answered: not one of Y, N"
    keep = {**POWERBI_MAPPING, "options": {**POWERBI_MAPPING["options"], "values_other": "keep"}}
    kept = ingest_file(con, write(tmp_path, "calls3.csv", bad), from_dict(keep))
    assert kept.errors[0].reason == "not yes/no"  # kept, then read as a flag: still not one


# A social-care export into messages: Twitter timestamps with an offset, read into a store in
# UTC+8 (the tests' store zone, Asia/Shanghai).
TWEETS = (
    "tweet_id,author_id,inbound,created_at,text,response_tweet_id\n"
    "1,sprintcare,False,Tue Oct 31 22:10:47 +0000 2017,@115712 I understand. I would like to assist you.,2\n"
    "2,115712,True,Tue Oct 31 22:11:45 +0000 2017,@sprintcare and how do you propose we do that,\n"
)
TWEET_MAPPING = {
    "name": "tweets", "kind": "messages",
    "columns": {"seq": "tweet_id", "sender": "author_id", "text": "text", "sent_at": "created_at",
                "ticket_id": "tweet_id"},
    "options": {"formats": {"sent_at": ["%a %b %d %H:%M:%S %z %Y"]}},
}  # fmt: skip


def test_social_care_timestamps_move_into_the_store_zone(con, tmp_path):
    ingest_file(con, write(tmp_path, "tweets.csv", TWEETS), from_dict(TWEET_MAPPING))
    got = rows(con, "SELECT seq, sent_at FROM messages ORDER BY seq")
    assert got == [(1, D(2017, 11, 1, 6, 10, 47)), (2, D(2017, 11, 1, 6, 11, 45))]  # +8 h


def test_a_format_that_does_not_match_names_option_field_value_and_row(con, tmp_path):
    text = "id,agent,day\n1,A,990201\n2,A,1999-02-01\n"
    mapping = from_dict({"name": "f", "kind": "tickets",
                         "columns": {"ticket_id": "id", "agent": "agent", "created_at": "day"},
                         "options": {"formats": {"created_at": ["%y%m%d"]}}})  # fmt: skip
    result = ingest_file(con, write(tmp_path, "f.csv", text), mapping)
    [error] = result.errors
    assert (error.row, error.value) == (3, "1999-02-01")
    assert error.reason == "formats.created_at: '%y%m%d' did not match"
    assert (
        "row 3, column day: formats.created_at: '%y%m%d' did not match (value: '1999-02-01')"
        in (result.summary())
    )


@pytest.mark.parametrize(("text", "zone", "expected"), [
    ("2026-05-01 10:00:00 +0000", None, D(2026, 5, 1, 18)),  # an offset: converted, +8 h
    ("2026-05-01T10:00:00Z", None, D(2026, 5, 1, 18)),
    ("2026-05-01 10:00:00+08:00", None, D(2026, 5, 1, 10)),  # already the store's offset
    ("2026-05-01 10:00:00", None, D(2026, 5, 1, 10)),  # no offset: the store's zone
    ("2026-05-01 10:00:00", "America/New_York", D(2026, 5, 1, 22)),  # EDT, UTC−4: +12 h
    ("2026-01-15 10:00:00", "America/New_York", D(2026, 1, 15, 23)),  # EST, UTC−5: +13 h
    ("2026-03-08 01:30:00", "America/New_York", D(2026, 3, 8, 14, 30)),  # before the change
    ("2026-03-08 03:30:00", "America/New_York", D(2026, 3, 8, 15, 30)),  # after: one hour on
    ("2026-03-08 02:30:00", "America/New_York", D(2026, 3, 8, 15)),  # skipped hour: moved on
    ("2026-11-01 01:30:00", "America/New_York", D(2026, 11, 1, 13, 30)),  # twice: the first (EDT)
])  # fmt: skip
def test_time_zones(con, tmp_path, text, zone, expected):
    options = {"timezone": zone} if zone else {}
    mapping = from_dict({"name": "z", "kind": "tickets", "options": options,
                         "columns": {"ticket_id": "id", "agent": "agent",
                                     "created_at": "created"}})  # fmt: skip
    ingest_file(con, write(tmp_path, "z.csv", f"id,agent,created\n1,A,{text}\n"), mapping)
    assert rows(con, "SELECT created_at FROM tickets") == [(expected,)]


def test_the_store_zone_is_a_setting(con, tmp_path, monkeypatch):
    monkeypatch.setenv("SCORECARD_TIMEZONE", "UTC")
    mapping = from_dict({"name": "z", "kind": "tickets",
                         "columns": {"ticket_id": "id", "agent": "agent", "created_at": "c"}})  # fmt: skip
    ingest_file(
        con, write(tmp_path, "z.csv", "id,agent,c\n1,A,2026-05-01 10:00:00 +0800\n"), mapping
    )
    assert rows(con, "SELECT created_at FROM tickets") == [(D(2026, 5, 1, 2),)]


# A helpdesk export with its own status words and numbered priorities.
HELPDESK = (
    "Ticket,Owner,Opened,Status,Priority\n"
    "H1,Ann,2026-05-02 09:00,Open,Low\n"
    "H2,Ann,2026-05-02 10:00,Pending Customer Response,Critical\n"
    "H3,Bob,2026-05-03 11:00,Closed,Medium\n"
    "H4,Bob,2026-05-03 12:00,Closed,High\n"
)
HELPDESK_MAPPING = {
    "name": "helpdesk", "kind": "tickets",
    "columns": {"ticket_id": "Ticket", "agent": "Owner", "created_at": "Opened",
                "status": "Status", "priority": "Priority"},
    "options": {"values": {
        "status": {"Open": "open", "Pending Customer Response": "pending", "Closed": "closed"},
        "priority": {"Low": "low", "Medium": "normal", "High": "high", "Critical": "urgent"}}},
}  # fmt: skip


def test_a_helpdesk_export_with_its_own_status_and_priority_words(con, tmp_path):
    ingest_file(con, write(tmp_path, "h.csv", HELPDESK), from_dict(HELPDESK_MAPPING))
    got = rows(con, "SELECT ticket_id, status, priority FROM tickets ORDER BY 1")
    assert got == [("H1", "open", "low"), ("H2", "pending", "urgent"), ("H3", "closed", "normal"),
                   ("H4", "closed", "high")]  # fmt: skip
    rate = kpis.compute(con, *MAY, kpi_ids=["resolution_rate"], by="team").iloc[0]
    assert (rate["num"], rate["den"]) == (2, 4)  # the two closed ones


def test_known_status_words_are_canonical_without_a_values_table(con, tmp_path):
    text = "id,agent,c,s\n1,A,2026-05-01 10:00,Solved\n2,A,2026-05-01 11:00,已关闭\n3,A,2026-05-01 12:00,Escalated to L2\n"
    mapping = from_dict({"name": "s", "kind": "tickets", "columns": {
        "ticket_id": "id", "agent": "agent", "created_at": "c", "status": "s"}})  # fmt: skip
    ingest_file(con, write(tmp_path, "s.csv", text), mapping)
    assert [r[0] for r in rows(con, "SELECT status FROM tickets ORDER BY ticket_id")] == [
        "solved", "closed", "Escalated to L2"]  # fmt: skip


@pytest.mark.parametrize(("options", "message"), [
    ({"combine": {"created_at": ["date"]}}, "combine.created_at: give two or more headers"),
    ({"formats": {"agent": ["%Y"]}}, "formats.agent: agent is not a date or time"),
    ({"formats": {"created_at": ["YYMMDD"]}}, "formats.created_at: 'YYMMDD' has no % code"),
    ({"timezone": "Mars/Olympus"}, "timezone: 'Mars/Olympus' is not a time zone name"),
    ({"values": {"status": ["open"]}}, "values.status: give source value: canonical value"),
    ({"values": {"colour": {"a": "b"}}}, "values.colour: 'colour' is not a field of tickets"),
    ({"missing": {"agent": []}}, "missing.agent: list at least one value"),
    ({"values_other": "drop"}, "values_other: use keep or quarantine"),
])  # fmt: skip
def test_mapping_option_errors_name_the_option_and_field(options, message):
    with pytest.raises(MappingError) as info:
        from_dict({"name": "m", "kind": "tickets", "options": options,
                   "columns": {"ticket_id": "id", "agent": "a", "created_at": "c"}})  # fmt: skip
    assert message in str(info.value)


def test_counts_add_up_with_skipped_rows_in_json_and_the_explanation(tmp_path):
    db = tmp_path / "s.duckdb"
    open_store(db).close()
    path = write(tmp_path, "calls.tsv", CALLS, newline="\r\n")
    import yaml

    mapping_file = tmp_path / "call_centre.yaml"
    mapping_file.write_text(yaml.safe_dump(CALL_MAPPING, allow_unicode=True), encoding="utf-8")
    out = cli("ingest", str(path), "--mapping", str(mapping_file), "--json", db=db)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)["files"][0]
    assert summary["rows_read"] == (summary["accepted"] + summary["duplicates"]
                                    + summary["quarantined"] + summary["skipped"]) == 5  # fmt: skip
    explained = cli("presets", "--explain", str(mapping_file), db=db)
    assert explained.returncode == 0, explained.stderr
    assert "- created_at from 'date' + 'vru_entry', joined with a space" in explained.stdout
    assert "rows whose outcome is 'PHANTOM' are skipped" in explained.stdout
    assert "- agent: 'NO_SERVER' mean no value" in explained.stdout
