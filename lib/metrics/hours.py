"""Service hours: the shop's daily opening time, closing time and holidays, and the clock that
counts only them.

Platforms measure a shop's responses within its service hours (e.g. 08:00–23:00), so a ticket
created at 23:30 and answered at 08:05 the next morning took five minutes. The setting comes
from the environment in one place (`from_env`): SCORECARD_SERVICE_HOURS ("08:00-23:00") and
SCORECARD_HOLIDAYS (dates, comma-separated, or @file with one date per line). A scheme with
`business_hours: true` has its time-based KPIs (first response, resolution time, SLA breach)
counted in service seconds: `install` defines the SQL macro `service_seconds(a, b)` on a DuckDB
cursor, as service time when a calendar is given and as plain elapsed seconds otherwise. The
macro is closed-form — a cumulative service clock at each instant, subtracted — so it costs no
more than the calendar difference.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

from lib.core.errors import HoursError

ENV_HOURS = "SCORECARD_SERVICE_HOURS"
ENV_HOLIDAYS = "SCORECARD_HOLIDAYS"
ORIGIN = "DATE '2000-01-01'"  # days are counted from here; only differences matter


@dataclass(frozen=True)
class ServiceHours:
    open: int  # seconds after midnight
    close: int  # seconds after midnight, up to 86400 (24:00)
    holidays: tuple[dt.date, ...] = ()

    @property
    def window(self) -> int:
        """Service seconds in an ordinary day."""
        return self.close - self.open

    def key(self) -> tuple:
        """What decides the results: part of every cache key that depends on it."""
        return (self.open, self.close, self.holidays)

    def describe(self, lang: str = "en") -> str:
        hours = f"{_hhmm(self.open)}–{_hhmm(self.close)}"
        if lang == "zh":
            return f"仅计服务时间 {hours}" + ("，节假日除外" if self.holidays else "")
        return f"counted in service hours only, {hours}" + (
            ", holidays excluded" if self.holidays else ""
        )

    def seconds(self, a: dt.datetime, b: dt.datetime) -> float:
        """Service seconds from a to b, in Python (the SQL macro's twin, for checks)."""
        return self._clock(b) - self._clock(a)

    def _clock(self, x: dt.datetime) -> float:
        day = x.date()
        before = (day - dt.date(2000, 1, 1)).days - sum(h < day for h in self.holidays)
        tod = (x - dt.datetime.combine(day, dt.time())).total_seconds()
        today = 0 if day in self.holidays else min(max(tod - self.open, 0), self.window)
        return before * self.window + today


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def parse(hours: str, holidays: str | list | None = None) -> ServiceHours:
    """ServiceHours from "08:00-23:00" (or 08:00–23:00) and dates; HoursError if unusable."""
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*[-–~至到]\s*(\d{1,2}):(\d{2})\s*", hours or "")
    if not m:
        raise HoursError(f"service hours '{hours}' are not like 08:00-23:00")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
        raise HoursError(f"service hours '{hours}' are not times of day")
    opens, closes = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
    if closes <= opens:
        raise HoursError(f"service hours '{hours}' close before they open")
    if isinstance(holidays, str):
        holidays = [p for p in re.split(r"[,\s]+", holidays) if p]
    days = []
    for text in holidays or []:
        try:
            days.append(dt.date.fromisoformat(str(text).strip()))
        except ValueError:
            raise HoursError(f"holiday '{text}' is not a date like 2026-10-01") from None
    return ServiceHours(opens, closes, tuple(sorted(set(days))))


def from_env(env: dict | None = None) -> ServiceHours | None:
    """The shop's service hours from the environment, or None when none are set."""
    env = os.environ if env is None else env
    hours = env.get(ENV_HOURS, "").strip()
    if not hours:
        return None
    holidays = env.get(ENV_HOLIDAYS, "").strip()
    if holidays.startswith("@"):
        try:
            holidays = Path(holidays[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise HoursError(f"the holiday list {holidays[1:]} cannot be read: {exc}") from None
    return parse(hours, holidays)


def macro_sql(calendar: ServiceHours | None) -> str:
    """The SQL that defines service_seconds(a, b) for a cursor. Values are numbers and dates
    parsed above, never user text, so they can be written into the SQL."""
    if calendar is None:
        return "CREATE OR REPLACE TEMP MACRO service_seconds(a, b) AS epoch(b) - epoch(a)"
    hol = "[" + ", ".join(f"DATE '{d.isoformat()}'" for d in calendar.holidays) + "]::DATE[]"
    o, w = calendar.open, calendar.window
    clock = (
        f"((datediff('day', {ORIGIN}, x::DATE) - len(list_filter({hol}, lambda h: h < x::DATE))) * {w}"
        f" + CASE WHEN list_contains({hol}, x::DATE) THEN 0 ELSE least(greatest("
        f"epoch(x) - epoch(x::DATE::TIMESTAMP) - {o}, 0), {w}) END)"
    )
    return (
        f"CREATE OR REPLACE TEMP MACRO service_clock(x) AS {clock};\n"
        "CREATE OR REPLACE TEMP MACRO service_seconds(a, b) AS service_clock(b) - service_clock(a)"
    )


def install(cur, calendar: ServiceHours | None) -> None:
    """Define service_seconds(a, b) on this cursor (service time, or plain seconds)."""
    for statement in macro_sql(calendar).split(";\n"):
        cur.execute(statement)


def status(lang: str = "en") -> str:
    """The setting in words, for the scheme editor: the hours, not set, or what is wrong."""
    try:
        calendar = from_env()
    except HoursError as exc:
        return (
            f"服务时间设置有误：{exc}"
            if lang == "zh"
            else f"the service-hours setting is wrong: {exc}"
        )
    if calendar is None:
        return (f"未设置服务时间（{ENV_HOURS}），按日历时间计" if lang == "zh"
                else f"no service hours are set ({ENV_HOURS}): calendar time is used")  # fmt: skip
    return calendar.describe(lang)
