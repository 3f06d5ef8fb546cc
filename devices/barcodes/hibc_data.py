"""HIBC secondary data (quantity, expiry, lot or serial) and supplemental data fields.

ANSI/HIBC 2.x Supplier Labeling Standard, secondary data structure `+ R Q D B L C`:
- `$` lot, `$+` serial (no date);
- `$$` + date flag + date + lot, `$$+` ... + serial. Flags: `0`/`1` MMYY (the flag digit is the
  first digit of the month), `2` MMDDYY, `3` YYMMDD, `4` YYMMDDHH, `5` YYJJJ, `6` YYJJJHH, `7` no date;
  `8` + 2-digit quantity, `9` + 5-digit quantity, each optionally followed by a flagged date;
- legacy: 5 digits YYJJJ (Julian expiry) then the lot.
Supplemental fields after `/`: `S` serial, `16D` YYYYMMDD manufacture date, `14D` YYYYMMDD expiry.

Contract: the parse functions fill a `HibcFields` or raise `HibcError` with a reason code; the
caller (hibc.py) turns that into a ScanData, so nothing here escapes `parse_scan`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from devices.barcodes import dates

_IDENTIFIER = re.compile(r"[0-9A-Z.-]+")  # lot and serial: alphanumeric (plus '-' and '.')
# flag -> (digits after the flag, whether the flag digit is itself the first date digit)
_DATE_FLAGS = {"0": (4, True), "1": (4, True), "2": (6, False), "3": (6, False),
               "4": (8, False), "5": (5, False), "6": (7, False)}


class HibcError(ValueError):
    """A HIBC structure that cannot be read; `code` is the ScanData error reason."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class HibcFields:
    """Data gathered from secondary and supplemental fields of one or two symbols."""

    lot: str | None = None
    serial: str | None = None
    expiry: dt.date | None = None
    production_date: dt.date | None = None
    quantity: int | None = None
    warnings: list[str] = field(default_factory=list)

    def put(self, name: str, value: Any) -> None:
        """Set a field; the same field given twice with different values is a defect."""
        current = getattr(self, name)
        if current is not None and current != value:
            raise HibcError("conflicting_fields")
        setattr(self, name, value)


def _date(flag: str, text: str, today: dt.date) -> dt.date | None:
    """Read the digits of one HIBC date format (flag as in `_DATE_FLAGS`)."""
    if flag in "01":  # MMYY: month and year only, so the last day of that month
        return dates.month_end(dates.full_year(int(text[2:4]), today), int(text[:2]))
    if flag == "2":  # MMDDYY
        return dates.make_date(dates.full_year(int(text[4:6]), today), int(text[:2]), int(text[2:4]))
    if flag in "34":  # YYMMDD, YYMMDDHH (the hour must be 00-23; the date is what we keep)
        if flag == "4" and int(text[6:8]) > 23:
            return None
        return dates.make_date(dates.full_year(int(text[:2]), today), int(text[2:4]), int(text[4:6]))
    if flag == "6" and int(text[5:7]) > 23:  # YYJJJHH
        return None
    return dates.ordinal(int(text[:2]), int(text[2:5]), today)  # YYJJJ


def _flagged_date(text: str, today: dt.date, fields: HibcFields) -> str:
    """Consume a date flag and its date from `text`; store the expiry; return what follows."""
    flag = text[:1]
    if flag == "7":
        return text[1:]
    if not flag or flag not in _DATE_FLAGS:
        raise HibcError("bad_hibc_syntax")
    length, flag_is_digit = _DATE_FLAGS[flag]
    start = 0 if flag_is_digit else 1
    digits = text[start : start + length]
    if not dates.digits(digits, length):
        raise HibcError("bad_hibc_syntax")
    expiry = _date(flag, digits, today)
    if expiry is None:
        raise HibcError("bad_date")
    fields.put("expiry", expiry)
    return text[start + length :]


def parse_secondary(segment: str, today: dt.date, fields: HibcFields) -> None:
    """Read one secondary data segment (without its leading '+' or '/')."""
    is_serial = False
    if segment.startswith("$$"):
        rest = segment[2:]
        is_serial = rest.startswith("+")
        rest = rest[1:] if is_serial else rest
        if rest[:1] in ("8", "9"):  # quantity: $$8 QQ, $$9 QQQQQ
            length = 2 if rest[0] == "8" else 5
            if not dates.digits(rest[1 : 1 + length], length):
                raise HibcError("bad_hibc_syntax")
            fields.put("quantity", int(rest[1 : 1 + length]))
            rest = rest[1 + length :]
            if rest[:1] in ("0", "1", "2", "3", "4", "5", "6", "7"):
                rest = _flagged_date(rest, today, fields)
        else:
            rest = _flagged_date(rest, today, fields)
    elif segment.startswith("$"):
        rest = segment[1:]
        is_serial = rest.startswith("+")
        rest = rest[1:] if is_serial else rest
    elif dates.digits(segment[:5], 5):  # legacy format: YYJJJ expiry, then the lot
        expiry = dates.ordinal(int(segment[:2]), int(segment[2:5]), today)
        if expiry is None:
            raise HibcError("bad_date")
        fields.put("expiry", expiry)
        rest = segment[5:]
    else:
        raise HibcError("bad_hibc_syntax")
    if rest:
        if not _IDENTIFIER.fullmatch(rest):
            raise HibcError("bad_hibc_syntax")
        fields.put("serial" if is_serial else "lot", rest)


def is_secondary(segment: str) -> bool:
    """True for a segment that starts a secondary data structure ('$' flag or legacy YYJJJ)."""
    return segment.startswith("$") or dates.digits(segment[:5], 5)


def parse_supplemental(segment: str, fields: HibcFields) -> None:
    """Read one supplemental field (`S`, `16D`, `14D`); unknown ones are ignored with a warning."""
    if segment.startswith(("16D", "14D")):
        value = dates.yyyymmdd(segment[3:])
        if value is None:
            raise HibcError("bad_date")
        fields.put("production_date" if segment.startswith("16D") else "expiry", value)
    elif segment.startswith("S"):
        if not _IDENTIFIER.fullmatch(segment[1:]):
            raise HibcError("bad_hibc_syntax")
        fields.put("serial", segment[1:])
    elif segment:
        fields.warnings.append("hibc_unknown_supplemental_ignored")
    else:
        raise HibcError("bad_hibc_syntax")
