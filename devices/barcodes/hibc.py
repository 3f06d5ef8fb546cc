"""HIBC LIC (ANSI/HIBC 2.x, a UDI issuing agency): primary, secondary and concatenated symbols.

Structures (ANSI/HIBC 2.x, section 2):
- primary `+ LIC PCN U/M C`: LIC 4 characters starting with a letter, PCN 1-18 alphanumerics,
  U/M one digit, C the mod-43 check character;
- separate secondary `+ <secondary data> L C` where the link character L equals the primary's C;
- concatenated `+ LIC PCN U/M / <secondary data> [/ supplemental ...] C`, one check at the end;
- a scanner may send a primary and a secondary symbol back to back in one frame.
The check character covers every character before it, including the leading '+' and each '/',
and may itself be a space, '+', '.', '$', '/' or '%': the data is never stripped here.

Contract: `parse_hibc(data, today)` never raises; a verified symbol gives kind "hibc", a failed
check gives error "bad_check_character", an unreadable structure "bad_hibc_syntax".
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from devices.barcodes.hibc_data import (
    HibcError,
    HibcFields,
    is_secondary,
    parse_secondary,
    parse_supplemental,
)
from devices.barcodes.scandata import ScanData, failed

# Code 39 character values used by the mod-43 check (ANSI/HIBC 2.x Appendix; ISO/IEC 16388).
CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%"
_VALUE = {char: value for value, char in enumerate(CHARSET)}
_PRIMARY = re.compile(r"\+([A-Z][A-Z0-9]{3})([A-Z0-9]{1,18})([0-9])")


def check_character(data: str) -> str:
    """The mod-43 check character of `data` (every character must be in CHARSET)."""
    return CHARSET[sum(_VALUE[char] for char in data) % 43]


@dataclass(frozen=True)
class _Symbol:
    primary: tuple[str, str, int] | None  # (LIC, PCN, U/M)
    fields: HibcFields
    link: str | None  # link character of a separate secondary symbol
    check: str


def _read_symbol(symbol: str, today: dt.date) -> _Symbol:
    """Verify one symbol's check character and read its structure; raises HibcError."""
    body, check = symbol[:-1], symbol[-1:]
    if len(body) < 3 or check_character(body) != check:
        raise HibcError("bad_check_character" if len(body) >= 3 else "bad_hibc_syntax")
    fields = HibcFields()
    if body[1].isalpha():  # a LIC starts with a letter: primary or concatenated symbol
        head, *segments = body.split("/")
        match = _PRIMARY.fullmatch(head)
        if match is None:
            raise HibcError("bad_hibc_syntax")
        primary: tuple[str, str, int] | None = (match[1], match[2], int(match[3]))
        link = None
    else:  # separate secondary symbol: '+' data, then the link character
        primary, link = None, body[-1]
        segments = body[1:-1].split("/")
        if not is_secondary(segments[0]):
            raise HibcError("bad_hibc_syntax")
    for index, segment in enumerate(segments):
        if index == 0 and is_secondary(segment):
            parse_secondary(segment, today, fields)
        else:
            parse_supplemental(segment, fields)
    return _Symbol(primary, fields, link, check)


def _scan(primary: _Symbol, secondary: _Symbol | None, warnings: list[str]) -> ScanData:
    fields = primary.fields
    if secondary is not None:
        for name in ("lot", "serial", "expiry", "production_date", "quantity"):
            value = getattr(secondary.fields, name)
            if value is not None:
                fields.put(name, value)
        fields.warnings.extend(secondary.fields.warnings)
    notes = [*warnings, *fields.warnings]
    lic = pcn = unit = None
    if primary.primary is not None:
        lic, pcn, unit = primary.primary
    else:
        notes.append("hibc_secondary_only")  # the service links it to the last primary by `link_character`
    return ScanData(
        kind="hibc", lic=lic, pcn=pcn, unit_of_measure=unit, link_character=primary.link,
        lot=fields.lot, serial=fields.serial, expiry=fields.expiry,
        production_date=fields.production_date, quantity=fields.quantity,
        warnings=tuple(notes),
    )


def parse_hibc(data: str, today: dt.date, *, check_transmitted: bool = True) -> ScanData:
    """Parse HIBC data that starts with '+'.

    `check_transmitted=False` is for Code 39 read with AIM modifier 3 or 7: the scanner verified
    the mod-43 check and dropped it, so it is recomputed here (and a warning says so).
    """
    if not data.startswith("+") or len(data) < 4 or any(char not in _VALUE for char in data):
        return failed("unknown", "unparseable")
    warnings: list[str] = []
    if not check_transmitted:
        data += check_character(data)
        warnings.append("check_verified_by_scanner")
    try:
        return _scan(_read_symbol(data, today), None, warnings)
    except HibcError as whole:
        error = whole.code
    # A primary and a secondary symbol sent back to back: try each '+' as the second start
    # (bounded: two linear HIBC symbols are far shorter, and the search is quadratic).
    splits = [i for i, char in enumerate(data) if char == "+" and i >= 8] if len(data) <= 256 else []
    for split in splits:
        try:
            first, second = _read_symbol(data[:split], today), _read_symbol(data[split:], today)
            if first.primary is None or second.primary is not None:
                continue
            if second.link != first.check:  # ANSI/HIBC: L must equal the primary's check
                error = "bad_link_character"
                continue
            return _scan(first, second, warnings)
        except HibcError:
            continue
    return failed("hibc", error, *warnings)
