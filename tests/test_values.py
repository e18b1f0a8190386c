"""Every value format exports use, parsed to the value a person would read from it."""

import datetime as dt

import pyarrow as pa
import pytest

from lib.core.errors import ValueProblem
from lib.ingest.values import Options, parse_column, parse_rate, parse_text

D = dt.datetime

CASES = [
    # kind, text, expected
    ("rate", "45.3%", 0.453),
    ("rate", "0.453", 0.453),
    ("rate", "100%", 1.0),
    ("rate", "45.3％", 0.453),
    ("rate", "--", None),
    ("duration", "90", 90.0),
    ("duration", "1分30秒", 90.0),
    ("duration", "30秒", 30.0),
    ("duration", "2分钟", 120.0),
    ("duration", "1小时2分", 3720.0),
    ("duration", "00:01:30", 90.0),
    ("duration", "01:30", 90.0),
    ("duration", "1:02:03", 3723.0),
    ("duration", "2 hours 5 minutes", 7500.0),
    ("duration", "1h 2m", 3720.0),
    ("duration", "1h2m3s", 3723.0),
    ("duration", "3 days", 259200.0),
    ("duration", "1 day 02:00:00", 93600.0),
    ("duration", "1.5h", 5400.0),
    # Chinese durations as 快手 and others write them: 7×3600 + 41×60 + 52 = 27712
    ("duration", "7小时41分52秒", 27712.0),
    ("duration", "41分52秒", 2512.0),  # 41×60 + 52
    ("duration", "52秒", 52.0),
    ("duration", "1天2小时", 93600.0),  # 86400 + 2×3600
    ("duration", "2时5分", 7500.0),  # 2×3600 + 5×60
    ("duration", "1.5小时", 5400.0),  # 1.5×3600
    ("duration", " 7 小时 41 分 52 秒 ", 27712.0),
    ("duration", "1 天 2 小时", 93600.0),
    ("duration", "2天3时4分5秒", 183845.0),  # 2×86400 + 3×3600 + 4×60 + 5
    ("duration", "1小时30分钟", 5400.0),  # 3600 + 30×60
    ("duration", "0小时0分0秒", 0.0),
    ("duration", "-", None),
    ("timestamp", "2026-05-01 10:00:00", D(2026, 5, 1, 10, 0)),
    ("timestamp", "2026-05-01T10:00:00Z", D(2026, 5, 1, 10, 0)),
    ("timestamp", "2026-05-01 10:00:00.250", D(2026, 5, 1, 10, 0, 0, 250000)),
    ("timestamp", "2026/5/1 9:05", D(2026, 5, 1, 9, 5)),
    ("timestamp", "2026年5月1日 10:00", D(2026, 5, 1, 10, 0)),
    ("timestamp", "2026年5月1日", D(2026, 5, 1)),
    ("timestamp", "26/08/2023 18:39", D(2023, 8, 26, 18, 39)),  # day-first is evident
    ("timestamp", "08/26/2023 6:39 PM", D(2023, 8, 26, 18, 39)),  # month-first is evident
    ("timestamp", "2023-08-26 18:39:12 -0400", D(2023, 8, 26, 22, 39, 12)),  # into a UTC store
    ("timestamp", "2024-01-10 15:30:00 UTC", D(2024, 1, 10, 15, 30)),
    ("timestamp", "Aug 26, 2023 6:39 PM", D(2023, 8, 26, 18, 39)),
    ("timestamp", "26 Aug 2023", D(2023, 8, 26)),
    ("timestamp", "45123", D(2023, 7, 16)),  # Excel serial day
    ("timestamp", "45123.75", D(2023, 7, 16, 18, 0)),
    ("timestamp", "--", None),
    ("timestamp", "", None),
    ("date", "2026/05/01", dt.date(2026, 5, 1)),
    ("bool", "yes", True),
    ("bool", "是", True),
    ("bool", "否", False),
    ("bool", "TRUE", True),
    ("bool", "0", False),
    ("int", "1,234", 1234),
    ("int", "12", 12),
    ("money", "¥1,234.50", 1234.5),
    ("money", "1.2万", 12000.0),
    ("money", "$ 99", 99.0),
    ("money", "(12.50)", -12.5),
    ("number", "N/A", None),
    ("rating", "5", 5.0),
    ("rating", "Good", 5.0),
    ("rating", "Bad", 1.0),
    ("rating", "Offered", None),
    ("rating", "Not Offered", None),
    ("rating", "非常满意", 5.0),
    ("rating", "Neutral", 3.0),
    ("text", '="00123"', "00123"),
    ("text", "  小美  ", "小美"),
    ("text", "--", None),
]


@pytest.mark.parametrize(("kind", "text", "expected"), CASES)
def test_value_formats(kind, text, expected):
    value = parse_text(text, kind)
    if isinstance(expected, float):
        assert value == pytest.approx(expected)
    else:
        assert value == expected


BAD = [
    ("timestamp", "31/31/2026", "not a date/time"),
    ("timestamp", "2026-02-30 10:00", "not a date/time"),
    ("timestamp", "yesterday", "not a date/time"),
    ("duration", "soon", "not a duration"),
    ("duration", "7小时abc", "not a duration"),
    ("duration", "小时", "not a duration"),
    ("duration", "7小时41分52", "not a duration"),  # a bare number after units: which unit?
    ("duration", "41分 52", "not a duration"),
    ("duration", "1天2小时x", "not a duration"),
    ("int", "2.5", "not a whole number"),
    ("money", "abc", "not an amount"),
    ("rate", "high", "not a percentage"),
    ("bool", "maybe", "not yes/no"),
    ("rating", "meh", "not a rating"),
]


@pytest.mark.parametrize(("kind", "text", "reason"), BAD)
def test_unreadable_values_give_a_reason(kind, text, reason):
    with pytest.raises(ValueProblem, match=reason):
        parse_text(text, kind)


def test_dayfirst_decided_per_column_from_unambiguous_values():
    col = pa.array(["03/04/2026 10:00", "25/04/2026 11:00"])
    parsed = parse_column(col, "timestamp")
    assert parsed.values.to_pylist() == [D(2026, 4, 3, 10, 0), D(2026, 4, 25, 11, 0)]
    assert "day-first" in parsed.note


def test_an_impossible_slashed_date_among_iso_ones_says_nothing_of_their_order():
    col = pa.array(["2026-11-01 09:09:00", "31/31/2026 25:00", "2026-11-02 10:00:00"])
    parsed = parse_column(col, "timestamp")
    assert parsed.values.to_pylist() == [D(2026, 11, 1, 9, 9), None, D(2026, 11, 2, 10, 0)]
    assert parsed.note == ""
    assert "month-first" in parse_column(pa.array(["31/31/2026", "04/25/2026"]), "date").note
    assert parse_column(pa.array(["2026-11-01", "31/02/2026"]), "date").note == ""
    # 31 April is no date either way: 04/05/2026 stays ambiguous, read month-first.
    both = parse_column(pa.array(["31/04/2026", "04/05/2026"]), "date")
    assert both.values.to_pylist() == [None, dt.date(2026, 4, 5)] and "ambiguous" in both.note
    leap = parse_column(pa.array(["29/02/2024", "03/04/2024"]), "date")
    assert leap.values.to_pylist() == [dt.date(2024, 2, 29), dt.date(2024, 4, 3)]


def test_ambiguous_dates_follow_the_option_and_say_so():
    col = pa.array(["03/04/2026"])
    assert parse_column(col, "date").values.to_pylist() == [dt.date(2026, 3, 4)]
    assert "ambiguous" in parse_column(col, "date").note
    dayfirst = parse_column(col, "date", Options(dayfirst=True))
    assert dayfirst.values.to_pylist() == [dt.date(2026, 4, 3)]


def test_bare_rate_numbers_above_one_make_the_column_percent():
    parsed = parse_column(pa.array(["45.3", "50", "0.5"]), "rate")
    assert parsed.values.to_pylist() == pytest.approx([0.453, 0.5, 0.005])
    assert parsed.note


def test_rates_with_a_percent_sign_read_the_same_in_bulk_as_one_by_one():
    texts = ["84.89%", "100%", "0%", "-3.5%", "0.5％", "１２%", "5.%", "1e2%", "12 %", "(5)%",
             "1,234.5%", "9" * 400 + "%", "abc%", "%", "", None, "0.07"]  # fmt: skip
    parsed = parse_column(pa.array(texts * 700), "rate")  # 11,900 rows: most go in bulk
    got = parsed.values.to_pylist()[: len(texts)]
    assert got[:5] == [0.8489, 1.0, 0.0, -0.035, 0.005]  # by hand
    for text, value, bad in zip(texts, got, parsed.bad[: len(texts)], strict=True):
        if text is None or text == "":
            assert value is None and not bad
            continue
        try:
            expected = round(parse_rate(text)[0], 10)
        except ValueProblem:
            assert value is None and bad, text
        else:
            assert value == expected and not bad, text
    assert not parsed.note  # every number carries its sign but the last, which is below 1


def test_missing_markers_are_found_in_any_case_and_nothing_else_is():
    """A value means "no value" when, trimmed and lower-cased, it is a marker (N/A, NULL,
    None, 暂无, --). The check looks the value up among every upper- and lower-case spelling
    of the markers, which is the same only if no letter outside ASCII lower-cases to a letter
    a marker uses: checked over every code point."""
    import random
    import sys

    import pyarrow.compute as pc

    from lib.ingest.values import MISSING, MISSING_TEXT, _normalise

    letters = {c for w in MISSING for c in w if c.isascii() and c.isalpha()}
    lowered_to = [chr(i) for i in range(sys.maxunicode + 1)
                  if not 0xD800 <= i <= 0xDFFF and not chr(i).isascii()
                  and chr(i).lower() in letters]  # fmt: skip
    assert lowered_to == []
    rng = random.Random(5)
    parts = [*MISSING, "K", "İ", "na na", "n a", "nan1", "0", "12.5", "无效", "ＮＡ", "Ｎ/Ａ"]
    texts = [None]
    for _ in range(5000):
        word = "".join(c.upper() if rng.random() < 0.5 else c for c in rng.choice(parts))
        texts.append(rng.choice(["", " ", "\t", "\u3000"]) + word + rng.choice(["", " ", "\n"]))
    for kind, words in (("number", MISSING), ("text", MISSING_TEXT)):
        values, present = _normalise(pa.array(texts), kind)
        trimmed = pc.utf8_trim_whitespace(pa.array(texts)).to_pylist()
        expected = [t is not None and t.lower() not in words for t in trimmed]
        assert present.tolist() == expected
        assert values.to_pylist() == [t if p else None for t, p in zip(trimmed, expected)]
        assert 0 < sum(expected) < len(texts) - 1000  # markers in mixed case were among them


@pytest.mark.parametrize("kind", ["number", "int", "rate", "timestamp", "bool", "rating"])
def test_a_workbooks_formula_error_is_bad_for_that_reason(kind):
    parsed = parse_column(pa.array(["#DIV/0!", " #VALUE! ", "nonsense", None]), kind)
    assert parsed.bad.tolist() == [True, True, True, False]
    assert [(mask.tolist(), why) for mask, why in parsed.other] == [
        ([True, True, False, False], "formula error in the workbook")]  # fmt: skip


def test_duration_unit_option_applies_to_bare_numbers_only():
    parsed = parse_column(pa.array(["2", "00:01:00"]), "duration", Options(duration_unit="minutes"))
    assert parsed.values.to_pylist() == [120.0, 60.0]


def test_ratings_on_a_ten_point_scale_rescale_to_five_for_tickets():
    opts = Options(csat_scale=10, rescale_to_5=True)
    assert parse_column(pa.array(["10", "1"]), "rating", opts).values.to_pylist() == [5.0, 1.0]


def test_fast_and_slow_paths_agree_on_a_large_mixed_column():
    # 5,000 ISO values take the vectorised path; odd ones the per-value parser.
    texts = ["2026-05-01 10:00:00"] * 5000 + ["2026年5月1日 10:00", "45123", "bad", None]
    parsed = parse_column(pa.array(texts), "timestamp")
    values = parsed.values.to_pylist()
    assert values[0] == values[5000] == D(2026, 5, 1, 10, 0)
    assert values[5001] == D(2023, 7, 16)
    assert values[5002] is None and parsed.bad[5002]
    assert values[5003] is None and not parsed.bad[5003]
    assert parsed.bad.sum() == 1


def test_iso_timestamps_read_in_bulk_as_one_by_one(monkeypatch):
    """A column of ISO times of one length is read by Arrow's cast, the rest by strptime and
    the per-value parser: over 3,000 random times across leap years the cast gives what
    Python's strptime gives, and a column the cast refuses (a time without its leading zero,
    one without seconds, a word, an impossible date or second) is read as each of its values
    is read alone: an impossible one is refused, not moved to the next day or minute."""
    import random

    from lib.ingest import values

    casts = []
    real = values._iso_cast
    monkeypatch.setattr(values, "_iso_cast", lambda s, f: casts.append(real(s, f)) or casts[-1])
    rng = random.Random(3)
    start = dt.datetime(1999, 12, 31, 23, 59, 59)
    times = [start + dt.timedelta(seconds=rng.randrange(40 * 365 * 86400)) for _ in range(3000)]
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        texts = [t.strftime(fmt) for t in times] + [None]
        got = parse_column(pa.array(texts), "timestamp").values.to_pylist()
        assert got == [D.strptime(t, fmt) for t in texts[:-1]] + [None]
        assert casts.pop() is not None  # read by the cast
    texts = [t.strftime("%Y-%m-%d %H:%M:%S") for t in times[:50]]
    texts += ["2026-05-01 9:00:00", "2026-05-01 09:00", "bad", "2023-02-29 10:00:00",
              "2026-04-31 10:00:00", "2026-05-01 10:00:60", "2026-05-01 10:00:59"]  # fmt: skip
    whole = parse_column(pa.array(texts), "timestamp")
    assert casts.pop() is None  # the cast refuses the column
    alone = [parse_column(pa.array([t]), "timestamp") for t in texts]
    assert whole.values.to_pylist() == [a.values.to_pylist()[0] for a in alone]
    assert whole.bad.tolist() == [bool(a.bad[0]) for a in alone]
    # strptime reads 2023-02-29 as 1 March and 10:00:60 as 10:01; those are refused instead
    assert whole.bad[-5:].tolist() == [True, True, True, True, False]
    assert whole.values.to_pylist()[-1] == D(2026, 5, 1, 10, 0, 59)


def test_a_column_of_chinese_durations_parses_each_and_marks_the_bad_one():
    texts = ["7小时41分52秒", "7小时41分52秒", "52秒", "7小时abc", "--", "90"]
    parsed = parse_column(pa.array(texts), "duration")
    assert parsed.values.to_pylist() == [27712.0, 27712.0, 52.0, None, None, 90.0]
    assert parsed.bad.tolist() == [False, False, False, True, False, False]
    assert parsed.reason == "not a duration"
