"""Periods: parse "2026-05", "2026-W19", "2026-05-03" or a from/to range into [start, end).

Every KPI query filters `start <= date < end`, so a period is a half-open range of dates.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # exclusive
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def previous(self) -> Period:
        """The period of the same kind just before this one."""
        if re.fullmatch(r"\d{4}-\d{2}", self.label):
            first = (self.start - dt.timedelta(days=1)).replace(day=1)
            return month(first.year, first.month)
        start = self.start - dt.timedelta(days=self.days)
        return Period(start, self.start, f"{start} – {self.start - dt.timedelta(days=1)}")


def month(year: int, mon: int) -> Period:
    start = dt.date(year, mon, 1)
    end = dt.date(year + (mon == 12), mon % 12 + 1, 1)
    return Period(start, end, f"{year}-{mon:02d}")


def parse(text: str) -> Period:
    """A month (2026-05), ISO week (2026-W19), day (2026-05-03) or year (2026)."""
    s = text.strip()
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})", s):
        if not 1 <= int(m[2]) <= 12:
            raise ValueError(f"'{text}' is not a period: there is no month {int(m[2])}")
        return month(int(m[1]), int(m[2]))
    if m := re.fullmatch(r"(\d{4})-?W(\d{1,2})", s, re.I):
        try:
            start = dt.date.fromisocalendar(int(m[1]), int(m[2]), 1)
        except ValueError:
            raise ValueError(f"'{text}' is not a period: {m[1]} has no week {int(m[2])}") from None
        return Period(start, start + dt.timedelta(days=7), f"{m[1]}-W{int(m[2]):02d}")
    if m := re.fullmatch(r"(\d{4})", s):
        year = int(m[1])
        return Period(dt.date(year, 1, 1), dt.date(year + 1, 1, 1), s)
    try:
        day = dt.date.fromisoformat(s)
    except ValueError:
        raise ValueError(
            f"'{text}' is not a period; use 2026-05, 2026-W19, 2026-05-03 or 2026"
        ) from None
    return Period(day, day + dt.timedelta(days=1), s)


def between(start: str | dt.date, end: str | dt.date) -> Period:
    """An inclusive range of days, e.g. between('2026-05-01', '2026-05-15')."""
    first = start if isinstance(start, dt.date) else dt.date.fromisoformat(str(start))
    last = end if isinstance(end, dt.date) else dt.date.fromisoformat(str(end))
    if last < first:
        raise ValueError(f"the range ends ({last}) before it starts ({first})")
    return Period(first, last + dt.timedelta(days=1), f"{first} – {last}")
