"""Date fields of GS1 and HIBC data, always resolved against a caller-supplied `today`.

Contract: every function is pure (never reads the clock) and returns None for an impossible
date instead of raising.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

_DIGITS = re.compile(r"[0-9]+")


def digits(text: str, length: int) -> bool:
    """True when `text` is exactly `length` ASCII digits (str.isdigit also accepts '²', '٣')."""
    return len(text) == length and _DIGITS.fullmatch(text) is not None


def full_year(yy: int, today: dt.date) -> int:
    """Century rule of the GS1 General Specifications 7.12: a two-digit year lies within
    49 years before and 50 years after the current year."""
    century = today.year - today.year % 100
    difference = yy - today.year % 100
    if 51 <= difference <= 99:
        return century - 100 + yy
    if -99 <= difference <= -50:
        return century + 100 + yy
    return century + yy


def last_day(year: int, month: int) -> int:
    """Number of days in the month."""
    return calendar.monthrange(year, month)[1]


def make_date(year: int, month: int, day: int) -> dt.date | None:
    """A date, or None when the parts do not form one."""
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def month_end(year: int, month: int) -> dt.date | None:
    """Last day of the month: how a date given as month and year only is read (HIBC MMYY)."""
    if not 1 <= month <= 12 or not dt.MINYEAR <= year <= dt.MAXYEAR:
        return None
    return dt.date(year, month, last_day(year, month))


def yymmdd(text: str, today: dt.date) -> dt.date | None:
    """A GS1 YYMMDD date. GS1 General Specifications 7.12: day 00 means the last day of the month."""
    if not digits(text, 6):
        return None
    year = full_year(int(text[:2]), today)
    month, day = int(text[2:4]), int(text[4:6])
    if day == 0:
        return month_end(year, month)
    return make_date(year, month, day)


def yyyymmdd(text: str) -> dt.date | None:
    """A four-digit-year date (HIBC supplemental /16D and /14D)."""
    if not digits(text, 8):
        return None
    return make_date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def ordinal(yy: int, day_of_year: int, today: dt.date) -> dt.date | None:
    """A Julian (ordinal) date YYJJJ: day 1 is January 1st (HIBC flags $$5 and $$6)."""
    year = full_year(yy, today)
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        return None
    if not 1 <= day_of_year <= (366 if calendar.isleap(year) else 365):
        return None
    return dt.date(year, 1, 1) + dt.timedelta(days=day_of_year - 1)
