"""Parse export text into typed values: numbers, money, rates, durations, dates, booleans, ratings.

Exports write the same value many ways (`45.3%` or `0.453`, `1分30秒` or `00:01:30` or
`2 hours 5 minutes`, `26/08/2023 18:39` or an Excel serial day, `--` for nothing). Each kind
has one authoritative parser for a single text value (`parse_text`). Columns are parsed by
`parse_column`: a vectorised fast path over Arrow arrays handles the common forms of large
files, and the authoritative parser handles the distinct leftover values, so a million rows
parse in well under a second while odd values still get the full treatment. A value that is
present but unreadable is reported as bad with a reason; missing markers become null.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lib.core import settings
from lib.core.errors import ValueProblem

# Markers that mean "no value" in exports. Text columns use the narrower set, so a comment
# that says "none" survives.
MISSING = {"", "-", "--", "---", "—", "–", "n/a", "na", "null", "none", "nan", "#n/a", "无", "暂无"}
MISSING_TEXT = {"", "-", "--", "---", "—", "–", "#n/a"}

TRUE_WORDS = {"true", "yes", "y", "1", "是", "有", "t", "x", "✓", "√"}
FALSE_WORDS = {"false", "no", "n", "0", "否", "无", "f", "×"}

# Text ratings: positive ones count as the top of the scale, negative ones as the bottom.
RATING_POSITIVE = {
    "good", "good with comment", "happy", "very happy", "extremely happy", "satisfied",
    "very satisfied", "满意", "非常满意", "很满意", "好评",
}  # fmt: skip
RATING_NEUTRAL = {"neutral", "okay", "ok", "一般", "中评"}
RATING_NEGATIVE = {
    "bad", "bad with comment", "unhappy", "very unhappy", "extremely unhappy", "dissatisfied",
    "very dissatisfied", "不满意", "非常不满意", "很不满意", "差评",
}  # fmt: skip
RATING_UNRATED = {"offered", "not offered", "unoffered", "未评价", "未评", "已发送"}

_NUM = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_NUM_RE = re.compile(rf"^{_NUM}$")
_THOUSANDS_RE = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_CURRENCY_RE = re.compile(r"[¥￥$€£₩]|元|RMB|CNY|USD|EUR", re.IGNORECASE)

DURATION_UNITS = {
    "d": 86400, "day": 86400, "days": 86400, "天": 86400,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600, "小时": 3600, "时": 3600,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60, "分钟": 60, "分": 60,
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1, "秒": 1, "秒钟": 1,
    "ms": 0.001,
}  # fmt: skip
_UNIT_ALT = "|".join(sorted((re.escape(u) for u in DURATION_UNITS), key=len, reverse=True))
_DUR_PART_RE = re.compile(rf"(\d+(?:\.\d+)?)\s*({_UNIT_ALT})(?![a-z])", re.IGNORECASE)
_DUR_FULL_RE = re.compile(
    rf"^(?:\s*(?:and|,|，)?\s*\d+(?:\.\d+)?\s*(?:{_UNIT_ALT})(?![a-z]))+\s*$", re.IGNORECASE
)
_CLOCK_RE = re.compile(
    r"^(?:(\d+)\s*(?:days?|天)\s*,?\s*)?(\d+):(\d{1,2})(?::(\d{1,2}(?:\.\d+)?))?$"
)

_TZ = r"(?:\s*(Z|UTC|GMT|CST|[+-]\d{2}:?\d{2}|\(?UTC[+-]\d{1,2}(?::?\d{2})?\)?))?"
_OFFSET_RE = re.compile(r"([+-])(\d{1,2}):?(\d{2})?")
_TIME = (
    r"(?:[ T]+(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2})(?:\.(\d+))?秒?)?分?\s*"
    r"(am|pm|a\.m\.|p\.m\.|上午|下午)?)?"
)
_YMD_RE = re.compile(rf"^(\d{{4}})[-/.年](\d{{1,2}})[-/.月](\d{{1,2}})日?{_TIME}{_TZ}$", re.I)
_DMY_RE = re.compile(rf"^(\d{{1,2}})[-/.](\d{{1,2}})[-/.](\d{{2,4}}),?{_TIME}{_TZ}$", re.I)
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
    for m in (names,)
}
_NAMED_DMY_RE = re.compile(
    rf"^(\d{{1,2}})[ -]([a-z]{{3,9}})\.?,?[ -](\d{{4}}),?{_TIME}{_TZ}$", re.I
)
_NAMED_MDY_RE = re.compile(rf"^([a-z]{{3,9}})\.?\s+(\d{{1,2}}),?\s+(\d{{4}}),?{_TIME}{_TZ}$", re.I)
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)

# strptime formats tried as a vectorised fast path; the Python parser is the reference.
_FAST_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
]


@dataclass
class Options:
    """Per-column parse options, from a mapping's `options`."""

    dayfirst: bool | None = None  # None: decide from the values, month-first if undecidable
    duration_unit: str = "seconds"
    csat_scale: int = 5
    csat_positive: tuple[str, ...] = ()
    csat_negative: tuple[str, ...] = ()
    rescale_to_5: bool = False  # ticket CSAT is stored on a 1–5 scale
    formats: tuple[str, ...] = ()  # explicit strptime formats for dates, tried in order
    timezone: str | None = None  # zone of this file's times without an offset
    store_zone: str = "UTC"  # zone the store keeps wall-clock times in
    field: str = ""  # the canonical field, for messages ("formats.created_at: …")
    # What the whole file showed (a Parsed.evidence gathered over all its batches), used
    # instead of what this part of the column shows, so every batch is read alike.
    file_evidence: tuple[bool, ...] | None = None


@dataclass
class Parsed:
    values: pa.Array
    bad: np.ndarray  # True where a value was present but could not be read
    reason: str  # what "bad" means for this column, e.g. "not a date"
    note: str = ""  # a column-level remark, e.g. "read as day-first dates"
    # What a whole-column decision rested on: (a day over 12 seen, a month over 12 seen) for
    # dates such as 03/04/2026, (a bare number over 1 seen,) for rates; None: none was made.
    evidence: tuple[bool, ...] | None = None
    # Bad values with another reason than `reason`: masks of them, and what each is.
    other: list[tuple[np.ndarray, str]] = dataclasses.field(default_factory=list)


# A whole number is read as a decimal first, which keeps every digit up to 2**53 - 1; a larger
# one would be stored changed (or, past 64 bits, wrapped round): it is refused.
INT_LIMIT = 2.0**53
TOO_LARGE = "number too large to store"
# What a workbook shows in a cell whose formula failed (Excel, and LibreOffice's Err:nnn).
FORMULA_ERRORS = ["#DIV/0!", "#N/A", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!",
                  "#SPILL!", "#CALC!", "#GETTING_DATA"]  # fmt: skip
FORMULA_ERROR = "formula error in the workbook"


# ---------------------------------------------------------------- single values


def _clean_number_text(text: str) -> str:
    s = _CURRENCY_RE.sub("", text).replace(" ", "").replace("\u00a0", "")
    if s.startswith("(") and s.endswith(")"):  # accounting negative
        s = "-" + s[1:-1]
    if _THOUSANDS_RE.match(s):
        s = s.replace(",", "")
    return s


def parse_number(text: str) -> float:
    s = _clean_number_text(text.strip())
    factor = 1.0
    if s.endswith("万"):
        s, factor = s[:-1], 10000.0
    elif s.endswith("亿"):
        s, factor = s[:-1], 1e8
    if not _NUM_RE.match(s):
        raise ValueProblem("not a number")
    value = float(s) * factor
    if not math.isfinite(value):
        raise ValueProblem("not a number")
    return value


def parse_rate(text: str) -> tuple[float, bool]:
    """A rate as a fraction, and whether it was written with a percent sign."""
    s = text.strip()
    if s.endswith("%") or s.endswith("％"):
        return parse_number(s[:-1]) / 100.0, True
    return parse_number(s), False


def parse_duration(text: str, unit: str = "seconds") -> float:
    """Seconds from `90`, `1分30秒`, `7小时41分52秒`, `1天2小时`, `00:01:30`, `2 hours 5 minutes`,
    `1h 2m`, `1 day 02:00:00`. Units may be separated by spaces; anything else is refused."""
    s = text.strip()
    if _NUM_RE.match(s.replace(",", "")):
        return float(s.replace(",", "")) * DURATION_UNITS[_unit_key(unit)]
    m = _CLOCK_RE.match(s)
    if m:
        days, a, b, c = m.groups()
        if c is None:  # two parts read as minutes:seconds, the usual duration display
            secs = int(a) * 60 + int(b)
        else:
            secs = int(a) * 3600 + int(b) * 60 + float(c)
        return secs + int(days or 0) * 86400
    if _DUR_FULL_RE.match(s):
        return float(sum(float(n) * DURATION_UNITS[u.lower()] for n, u in _DUR_PART_RE.findall(s)))
    raise ValueProblem("not a duration")


def _unit_key(unit: str) -> str:
    key = unit.strip().lower()
    if key not in DURATION_UNITS:
        raise ValueError(f"unknown duration unit '{unit}'")
    return key


def _hour(h: str | None, ampm: str | None) -> int:
    hour = int(h or 0)
    if ampm:
        marker = ampm.lower().replace(".", "")
        if marker in ("pm", "下午") and hour < 12:
            hour += 12
        elif marker in ("am", "上午") and hour == 12:
            hour = 0
    return hour


def _zone(tz: str | None) -> dt.tzinfo | None:
    """The fixed offset a timestamp's suffix names (Z, UTC, +08:00, (UTC+8)); None for none,
    and for CST, which means China in Chinese exports and Central time in American ones."""
    if not tz or tz.upper() == "CST":
        return None
    if tz.upper() in ("Z", "UTC", "GMT"):
        return dt.UTC
    m = _OFFSET_RE.search(tz)
    if not m:
        return None
    minutes = int(m.group(2)) * 60 + int(m.group(3) or 0)
    return dt.timezone(dt.timedelta(minutes=minutes if m.group(1) == "+" else -minutes))


def _build(y, mo, d, h, mi, s, frac, ampm, tz=None) -> dt.datetime:
    year = int(y)
    if year < 100:
        year += 2000
    micro = int((frac or "0")[:6].ljust(6, "0"))
    try:
        return dt.datetime(year, int(mo), int(d), _hour(h, ampm), int(mi or 0), int(s or 0), micro,
                           tzinfo=_zone(tz))  # fmt: skip
    except ValueError as exc:
        raise ValueProblem(f"not a valid date ({exc})") from None


def parse_timestamp(text: str, dayfirst: bool | None = None) -> dt.datetime:
    """A datetime: aware when the text carries an offset (`+08:00`, `Z`, `UTC`), else naive.
    `parse_column` converts both to the store's zone."""
    s = text.strip()
    m = _YMD_RE.match(s)
    if m:
        return _build(*m.groups())
    m = _DMY_RE.match(s)
    if m:
        a, b, y, *rest = m.groups()
        first, second = int(a), int(b)
        if dayfirst is None:
            dayfirst = first > 12
        day, month = (first, second) if dayfirst else (second, first)
        return _build(y, month, day, *rest)
    for regex, named_first in ((_NAMED_DMY_RE, False), (_NAMED_MDY_RE, True)):
        m = regex.match(s)
        if m:
            g = m.groups()
            name, day = (g[0], g[1]) if named_first else (g[1], g[0])
            month = _MONTHS.get(name[:3].lower())
            if month is None:
                raise ValueProblem("not a date")
            return _build(g[2], month, day, *g[3:])
    if _NUM_RE.match(s):
        serial = float(s)
        if 20000 <= serial <= 80000:  # Excel serial day (1954–2119)
            return _EXCEL_EPOCH + dt.timedelta(days=serial)
    raise ValueProblem("not a date")


def store_timezone() -> str:
    """The store's time zone: $SCORECARD_TIMEZONE, else the machine's, else UTC. Timestamps are
    stored as wall-clock time in this zone."""
    name = settings.get("timezone") or os.environ.get("TZ") or ""
    if not name:
        try:
            link = str(Path("/etc/localtime").resolve())
            name = link.split("zoneinfo/", 1)[1] if "zoneinfo/" in link else ""
        except OSError:
            name = ""
    try:
        ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name or "UTC"


def check_timezone(name: str) -> bool:
    try:
        ZoneInfo(str(name))
        return True
    except (ZoneInfoNotFoundError, ValueError):
        return False


def to_store_zone(naive: np.ndarray, offsets: np.ndarray, file_zone: str | None,
                  store_zone: str) -> np.ndarray:  # fmt: skip
    """Wall-clock times in the store's zone. `naive` holds times as written; `offsets` the
    minutes east of UTC where the text gave an offset (NaN where it did not). Times without one
    are read in `file_zone` (the store's when None). At a daylight-saving change an ambiguous
    time is taken as the first (summer) one and a skipped time moves forward."""
    out = naive.copy()
    given = ~np.isnan(offsets)
    if given.any():
        utc = naive[given] - (offsets[given] * 60e6).astype("timedelta64[us]")
        out[given] = (pd.DatetimeIndex(utc).tz_localize("UTC").tz_convert(store_zone)
                      .tz_localize(None).to_numpy().astype("datetime64[us]"))  # fmt: skip
    zone = file_zone or store_zone
    rest = ~given & ~np.isnat(naive)
    if rest.any() and zone != store_zone:
        local = pd.DatetimeIndex(naive[rest]).tz_localize(
            zone, ambiguous=np.ones(int(rest.sum()), dtype=bool), nonexistent="shift_forward"
        )
        out[rest] = (
            local.tz_convert(store_zone).tz_localize(None).to_numpy().astype("datetime64[us]")
        )
    return out


def parse_bool(text: str) -> bool:
    s = text.strip().lower()
    if s in TRUE_WORDS:
        return True
    if s in FALSE_WORDS:
        return False
    raise ValueProblem("not yes/no")


def parse_rating(text: str, opts: Options | None = None) -> float | None:
    """A rating on the column's scale; text ratings map to top, middle or bottom; None if unrated."""
    opts = opts or Options()
    s = text.strip().lower()
    if s in RATING_UNRATED:
        return None
    positive = RATING_POSITIVE | {w.lower() for w in opts.csat_positive}
    negative = RATING_NEGATIVE | {w.lower() for w in opts.csat_negative}
    if s in positive:
        value = float(opts.csat_scale)
    elif s in negative:
        value = 1.0
    elif s in RATING_NEUTRAL:
        value = (opts.csat_scale + 1) / 2
    else:
        try:
            value = parse_number(s)
        except ValueProblem:
            raise ValueProblem("not a rating") from None
    return value


def parse_text(text: str | None, kind: str, opts: Options | None = None):
    """Parse one value of a kind; None for missing; ValueProblem when unreadable."""
    parsed = parse_column(pa.array([text], pa.string()), kind, opts or Options())
    if parsed.bad[0]:
        raise ValueProblem(parsed.reason)
    return parsed.values[0].as_py()


# ---------------------------------------------------------------- whole columns

_REASONS = {
    "int": "not a whole number",
    "number": "not a number",
    "money": "not an amount",
    "rate": "not a percentage",
    "duration": "not a duration",
    "timestamp": "not a date/time",
    "date": "not a date",
    "bool": "not yes/no",
    "rating": "not a rating",
    "text": "",
}


def _spellings(words: set[str]) -> pa.Array:
    """Every way of writing `words` in upper or lower case, and null: a value is one of the
    words, case aside, when it is one of these (no letter outside ASCII lower-cases to the
    ASCII letters the words use)."""
    out = {
        "".join(p) for w in words for p in itertools.product(*({c.lower(), c.upper()} for c in w))
    }
    return pa.array([*sorted(out), None], pa.string())


_MISSING_SPELLINGS = {"text": _spellings(MISSING_TEXT), "other": _spellings(MISSING)}


def _normalise(raw: pa.Array, kind: str) -> tuple[pa.Array, np.ndarray]:
    """Trimmed strings with missing markers as null, and the mask of present values."""
    if isinstance(raw, pa.ChunkedArray):
        raw = raw.combine_chunks()
    s = pc.utf8_trim_whitespace(raw.cast(pa.string()))
    markers = _MISSING_SPELLINGS["text" if kind == "text" else "other"]
    missing = pc.is_in(s, value_set=markers).to_numpy(zero_copy_only=False)
    if missing.any():
        s = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), s)
    return s, ~missing


def _slow(s: pa.Array, todo: np.ndarray, func) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Apply a single-value parser to the distinct values still to do.

    Returns the row indices done, their results (None where failed) and the failed mask.
    """
    idx, results, pos, failed = _slow_distinct(s, todo, func)
    found = np.empty(len(results), dtype=object)  # one result per distinct value, then per row
    for i, result in enumerate(results):  # one by one: a result may be a tuple
        found[i] = result
    return idx, found[pos], failed[pos]


def _slow_distinct(s: pa.Array, todo: np.ndarray, func):
    """`_slow` by distinct value: the row indices to do, the result of each distinct value
    (None where it failed), each row's position among the distinct values, and which
    distinct values failed."""
    idx = np.flatnonzero(todo)
    if idx.size == 0:
        return idx, [], np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    sub = s if idx.size == len(s) else s.take(pa.array(idx))
    uniq = pc.unique(sub)
    results, failed = [], np.zeros(len(uniq), dtype=bool)
    for i, text in enumerate(uniq.to_pylist()):
        try:
            results.append(func(text))
        except ValueProblem:
            results.append(None)
            failed[i] = True
    pos = pc.index_in(sub, value_set=uniq).to_numpy(zero_copy_only=False)
    return idx, results, pos, failed


def _numeric_fast(s: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Plain numbers (optionally with thousands separators) parsed vectorised."""
    cast = None
    head = pc.drop_null(s.slice(0, 100)).to_pylist()
    if all(_NUM_RE.match(v) for v in head):  # most columns are plain numbers: one cast, no pattern
        try:
            cast = pc.cast(s, pa.float64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            cast = None
    if cast is not None:
        done = ~np.isnan(cast)  # nulls come as NaN
        # Arrow reads inf and nan too, which are not plain numbers: then the pattern decides.
        if np.isfinite(cast[done]).all() and done.sum() == len(s) - s.null_count:
            return np.where(done, cast, np.nan), done
    plain = pc.fill_null(pc.match_substring_regex(s, f"^{_NUM}$"), False)
    if s.null_count + pc.sum(plain).as_py() == len(s):  # every value a plain number
        out = pc.cast(s, pa.float64()).to_numpy(zero_copy_only=False)
        return np.where(plain.to_numpy(zero_copy_only=False), out, np.nan), plain.to_numpy(
            zero_copy_only=False
        )
    thousands = pc.fill_null(pc.match_substring_regex(s, _THOUSANDS_RE.pattern), False)
    candidate = pc.if_else(thousands, pc.replace_substring(s, ",", ""), s)
    ok = pc.or_(plain, thousands)
    vals = pc.cast(pc.if_else(ok, candidate, pa.scalar(None, pa.string())), pa.float64())
    done = ok.to_numpy(zero_copy_only=False)
    out = vals.to_numpy(zero_copy_only=False)
    return np.where(done, out, np.nan), done


def _percents_fast(s: pa.Array, todo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rates written as a plain decimal and a percent sign (84.89%), as fractions the way
    `parse_rate` reads them, parsed vectorised; and the mask of the rows they are on. Other
    writings are left to `parse_rate`."""
    out, done = np.full(len(s), np.nan), np.zeros(len(s), dtype=bool)
    idx = np.flatnonzero(todo)
    if not idx.size:
        return out, done
    sub = s if idx.size == len(s) else s.take(pa.array(idx))
    fits = pc.fill_null(pc.match_substring_regex(sub, r"^-?\d+(?:\.\d+)?[%％]$"), False)
    fits = fits.to_numpy(zero_copy_only=False)
    if not fits.any():
        return out, done
    digits = pc.utf8_slice_codeunits(sub.filter(pa.array(fits)), 0, -1)
    try:
        values = pc.cast(digits, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return out, done
    finite = np.isfinite(values)
    rows = idx[fits][finite]
    out[rows], done[rows] = values[finite] / 100.0, True
    return out, done


def dayfirst_decision(evidence: tuple[bool, ...] | None) -> tuple[bool, str]:
    """Day-first or not, and the note saying so, from (a day over 12 seen, a month over 12
    seen) over the column's dates such as 03/04/2026; None: there were no such dates."""
    if evidence is None:
        return False, ""
    first_over, second_over = evidence
    if first_over and not second_over:
        return True, "read as day-first dates (DD/MM/YYYY)"
    if second_over:
        return False, "read as month-first dates (MM/DD/YYYY)"
    return False, (
        "dates such as 03/04/2026 are ambiguous and were read month-first; "
        "set `dayfirst: true` in the mapping if they are day-first"
    )


_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _possible_date(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Whether each (year, month, day) is a day of the calendar (29 February in leap years)."""
    m = np.clip(month, 1, 12) - 1
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    last = _MONTH_DAYS[m] + ((m == 1) & leap)
    return (month >= 1) & (month <= 12) & (day >= 1) & (day <= last)


def _decide_dayfirst(s: pa.Array, present: np.ndarray, opts: Options):
    """Day-first or not, its note, and the evidence (see Parsed.evidence)."""
    if opts.dayfirst is not None:
        return opts.dayfirst, "", None
    pattern = r"^(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<y>\d{2,4})"
    if not present.any():
        return False, "", None
    # Matched first, and the parts taken from the matching values only: most columns hold
    # none (2026-05-01), and taking parts builds a value for every row.
    s = s if present.all() else s.filter(pa.array(present))
    fits = pc.fill_null(pc.match_substring_regex(s, pattern), False)
    if not pc.any(fits).as_py():
        return False, "", None
    parts = pc.drop_null(pc.extract_regex(s.filter(fits), pattern))
    if len(parts) == 0:
        return False, "", None
    a = pc.cast(parts.field("a"), pa.int32()).to_numpy()
    b = pc.cast(parts.field("b"), pa.int32()).to_numpy()
    y = pc.cast(parts.field("y"), pa.int32()).to_numpy()
    y = np.where(y < 100, y + 2000, y)
    # Only a date that one reading or the other makes possible tells anything: 31/31/2026 and
    # 31/04/2026 are refused either way, and say nothing of the order of the others.
    day_first, month_first = _possible_date(y, b, a), _possible_date(y, a, b)
    if not (day_first | month_first).any():
        return False, "", None
    evidence = (bool((day_first & ~month_first).any()), bool((month_first & ~day_first).any()))
    return *dayfirst_decision(opts.file_evidence or evidence), evidence


def _parse_timestamps(s, present, opts):
    """Values, valid and bad masks, note and evidence (see Parsed.evidence)."""
    if opts.formats:
        return *_parse_with_formats(s, present, opts), None
    n = len(s)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    offsets = np.full(n, np.nan)
    done = np.zeros(n, dtype=bool)
    sample = pc.drop_null(s.slice(0, 2000)).to_pylist()[:200]
    shapes = [(_shape(v), v) for v in sample]
    formats = [f for f, want in _FAST_SHAPES.items()
               if any(shape == want and _fits(v, f) for shape, v in shapes)]  # fmt: skip
    for fmt in formats:
        todo = present & ~done
        if not todo.any():
            break
        parsed = _iso_cast(s, fmt) if not done.any() else None
        bent = None
        if parsed is None:
            parsed = pc.strptime(s, format=fmt, unit="us", error_is_null=True)
            bent = _bent(s, parsed, fmt)
        ok = todo & parsed.is_valid().to_numpy(zero_copy_only=False)
        if bent is not None:
            ok &= ~bent  # left to the per-value parser, which refuses an impossible time
        if ok.any():
            vals = parsed.to_numpy(zero_copy_only=False)
            out[ok] = vals[ok]
            done |= ok
    # The fast formats all start with a four-digit year, so no value they read looks like
    # 03/04/2026: the order of day and month is judged on the values left.
    dayfirst, note, evidence = _decide_dayfirst(s, present & ~done, opts)
    bad = np.zeros(n, dtype=bool)
    idx, res, failed = _slow(s, present & ~done, lambda t: parse_timestamp(t, dayfirst))
    bad[idx] = failed
    if idx.size:
        good = [r for r, f in zip(res, failed) if not f]
        out[idx[~failed]] = np.array([r.replace(tzinfo=None) for r in good], dtype="datetime64[us]")
        offsets[idx[~failed]] = [
            r.utcoffset().total_seconds() / 60 if r.tzinfo else np.nan for r in good
        ]
    out = to_store_zone(out, offsets, opts.timezone, opts.store_zone)
    return out, present & ~bad, bad, note, evidence


# Formats whose every value, at this length, Arrow's cast reads as `strptime` does: the cast
# is quicker. It refuses what strptime bends (2023-02-29 read as 1 March, 10:00:60 as 10:01),
# and a column with such a value is left to strptime, whose bent values `_bent` finds.
_ISO_LENGTHS = {"%Y-%m-%d %H:%M:%S": 19, "%Y-%m-%dT%H:%M:%S": 19, "%Y-%m-%d": 10}


def _iso_cast(s: pa.Array, fmt: str) -> pa.Array | None:
    """The whole column read by Arrow's cast when every value has the format's length and
    the cast reads them all; None otherwise (then `strptime` reads it)."""
    want = _ISO_LENGTHS.get(fmt)
    lengths = pc.min_max(pc.binary_length(s)).as_py() if want else None
    if not lengths or lengths["min"] != want or lengths["max"] != want:
        return None
    try:
        return pc.cast(s, pa.timestamp("us"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _bent(s: pa.Array, parsed: pa.Array, fmt: str) -> np.ndarray | None:
    """Rows `strptime` bent: it reads a day past the month's end (2023-02-29, 04-31) as day
    1-3 of the next month, and second 60 or 61 as second 0 or 1 of the next minute. Such a
    row lands there while its text says otherwise; None when there is none. Only rows that
    landed there are looked at (the fast formats all start with the year, then the month)."""
    out = np.zeros(len(s), dtype=bool)
    checks = [(pc.day(parsed), 3, r"^\d{4}[-/]\d{1,2}[-/](?:29|30|31)")]
    if "%S" in fmt:
        checks.append((pc.second(parsed), 1, r":6[01]$"))
    for field, most, said in checks:
        idx = np.flatnonzero(pc.fill_null(pc.less_equal(field, most), False).to_numpy(False))
        if idx.size:
            text = pc.match_substring_regex(s.take(pa.array(idx)), said)
            out[idx[pc.fill_null(text, False).to_numpy(zero_copy_only=False)]] = True
    return out if out.any() else None


def _parse_with_formats(s, present, opts):
    """Dates read with the mapping's explicit formats, tried in order; a value that fits none
    is bad, and the reason names the option, the field and the value."""
    n = len(s)
    texts = pd.Series(s.to_pylist(), dtype=object)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    offsets = np.full(n, np.nan)
    done = ~present.copy()
    for fmt in opts.formats:
        if done.all():
            break
        todo = np.flatnonzero(~done)
        parsed = pd.to_datetime(texts.iloc[todo], format=fmt, errors="coerce", utc="%z" in fmt)
        ok = parsed.notna().to_numpy()
        if "%z" in fmt:  # an offset in the text: keep UTC and the offset 0, converted below
            values = parsed[ok].dt.tz_localize(None)
            offsets[todo[ok]] = 0.0
        else:
            values = parsed[ok]
        out[todo[ok]] = values.to_numpy().astype("datetime64[us]")
        done[todo[ok]] = True
    bad = present & ~done
    out = to_store_zone(out, offsets, opts.timezone, opts.store_zone)
    return out, present & ~bad, bad, ""


# What is left of a value once digits and spaces are dropped, lower-cased: a fast format's
# directives (%Y %m %d %H %M %S) match digits (and %d a space before one) and its spaces
# match any run of spaces, case aside, so a value strptime reads has its format's shape.
# Comparing shapes first spares a strptime call for most values that cannot fit.
_SHAPE_DROP = re.compile(r"[\d\s]")


def _shape(text: str) -> str:
    return _SHAPE_DROP.sub("", text).lower()


_FAST_SHAPES = {f: _shape(re.sub(r"%[YmdHMS]", "", f)) for f in _FAST_FORMATS}


def _fits(value: str, fmt: str) -> bool:
    try:
        dt.datetime.strptime(value, fmt)
        return True
    except ValueError:
        return False


def parse_column(raw: pa.Array, kind: str, opts: Options | None = None) -> Parsed:
    """Parse a column of export text into the Arrow type of `kind`. A value that is a
    workbook's formula error (#DIV/0!) is bad for that reason, whatever the kind."""
    if isinstance(raw, pa.ChunkedArray):
        raw = raw.combine_chunks()
    parsed = _parse_column(raw, kind, opts)
    if parsed.bad.any():
        texts = pc.utf8_trim_whitespace(raw.cast(pa.string()))
        failed = pc.fill_null(pc.is_in(texts, pa.array(FORMULA_ERRORS)), False)
        failed = parsed.bad & failed.to_numpy(zero_copy_only=False)
        if failed.any():
            parsed.other.append((failed, FORMULA_ERROR))
    return parsed


def _parse_column(raw: pa.Array, kind: str, opts: Options | None) -> Parsed:
    opts = opts or Options()
    s, present = _normalise(raw, kind)
    n = len(s)
    reason = _REASONS[kind]
    if kind == "text":
        # ="00123" is how some exports protect ids from Excel; keep the inner text.
        if pc.any(pc.starts_with(s, '="')).as_py():
            s = pc.replace_substring_regex(s, r'^="(.*)"$', r"\1")
        return Parsed(s, np.zeros(n, dtype=bool), reason)

    if kind in ("timestamp", "date"):
        if kind == "date":  # a day has no time of day to move between zones
            opts = dataclasses.replace(opts, timezone=None, store_zone="UTC")
        out, valid, bad, note, evidence = _parse_timestamps(s, present, opts)
        arr = pa.array(out, type=pa.timestamp("us"), mask=~valid)
        if kind == "date":
            arr = arr.cast(pa.date32())
        if opts.formats:
            shown = " or ".join(f"'{f}'" for f in opts.formats)
            reason = f"formats.{opts.field}: {shown} did not match"
        return Parsed(arr, bad, reason, note, evidence)

    if kind == "bool":
        out = np.zeros(n, dtype=bool)
        bad = np.zeros(n, dtype=bool)
        idx, distinct, pos, distinct_failed = _slow_distinct(s, present, parse_bool)
        truth = np.array([bool(r) for r in distinct], dtype=bool)  # a failed one is None
        bad[idx] = distinct_failed[pos]
        out[idx] = truth[pos]
        return Parsed(pa.array(out, mask=~(present & ~bad)), bad, reason)

    if kind == "rate":  # 84.89%: read first, and not looked at again as a plain number
        percents, written = _percents_fast(s, present)
        plain = pc.if_else(pa.array(written), pa.scalar(None, pa.string()), s)
        out, done = _numeric_fast(plain if written.any() else s)
    else:
        out, done = _numeric_fast(s)
    done &= present
    bad = np.zeros(n, dtype=bool)
    todo = present & ~done
    note = ""
    evidence = None
    if kind == "duration":
        out[done] *= DURATION_UNITS[_unit_key(opts.duration_unit)]
        func = lambda t: parse_duration(t, opts.duration_unit)  # noqa: E731
    elif kind == "rate":
        func = parse_rate
        todo &= ~written
    elif kind == "rating":
        func = lambda t: parse_rating(t, opts)  # noqa: E731
    elif kind in ("int", "number", "money"):
        func = parse_number
    else:
        raise ValueError(f"unknown value kind '{kind}'")
    idx, distinct, pos, distinct_failed = _slow_distinct(s, todo, func)
    failed = distinct_failed[pos]
    bad[idx] = failed
    ok_idx, ok_pos = idx[~failed], pos[~failed]
    # Results per distinct value as arrays, then spread to the rows by position: no Python
    # loop over the rows (a column of percentages has a million of them).
    if kind == "rate":
        # Bare numbers above 1 mean the column is in percent units (45.3 is 45.3 %).
        values = np.array([np.nan if r is None else r[0] for r in distinct], dtype=float)
        pcts = np.array([r is not None and bool(r[1]) for r in distinct], dtype=bool)
        out[ok_idx] = values[ok_pos]
        written_pct = written.copy()
        written_pct[ok_idx] = pcts[ok_pos]
        out[written] = percents[written]
        bare = present & ~bad & ~written_pct
        if bare.any():
            evidence = (bool((out[bare] > 1).any()),)
        if (opts.file_evidence or evidence or (False,))[0]:
            out[bare] = out[bare] / 100.0
            note = "bare numbers read as percentages"
        out = np.round(out, 10)
    elif kind == "rating":
        # "Offered"/"Not offered" mean no rating: missing, not bad.
        none = np.array([r is None for r in distinct], dtype=bool)
        values = np.array([np.nan if r is None else r for r in distinct], dtype=float)
        unrated = none[ok_pos]
        present[ok_idx[unrated]] = False
        out[ok_idx[~unrated]] = values[ok_pos[~unrated]]
        if opts.rescale_to_5 and opts.csat_scale != 5:
            out = 1 + (out - 1) * 4.0 / (opts.csat_scale - 1)
    else:
        values = np.array([np.nan if r is None else r for r in distinct], dtype=float)
        out[ok_idx] = values[ok_pos]
    valid = present & ~bad
    if kind == "int":
        whole = np.isfinite(out) & (out == np.floor(np.where(np.isfinite(out), out, 0)))
        huge = valid & whole & (np.abs(np.where(whole, out, 0)) >= INT_LIMIT)
        frac = valid & ~whole
        bad |= frac | huge
        valid &= ~(frac | huge)
        values = pa.array(np.where(valid, out, 0).astype(np.int64), mask=~valid)
        return Parsed(values, bad, reason, other=[(huge, TOO_LARGE)] if huge.any() else [])
    return Parsed(pa.array(np.where(valid, out, np.nan), mask=~valid), bad, reason, note, evidence)
