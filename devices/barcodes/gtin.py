"""GTIN-8/12/13/14: check digit validation, 14-digit normal form, and bare EAN/UPC/ITF-14 scans.

Contract: `is_valid` and `to_gtin14` accept any string and never raise; `parse_gtin` returns a
ScanData of kind "gtin" (error set when the number is malformed or its check digit is wrong).
"""

from __future__ import annotations

import re

from biip import ParseError
from biip.upc import Upc

from devices.barcodes.scandata import ScanData, failed

GTIN_LENGTHS = (8, 12, 13, 14)
_NUMBER = re.compile(r"[0-9]+")


def check_digit(payload: str) -> int:
    """GS1 General Specifications 7.9.1: weights 3,1,3,1,... from the right of the payload
    (the digits without the check digit); check = (10 - sum mod 10) mod 10."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return (10 - total % 10) % 10


def is_valid(number: str) -> bool:
    """True for an 8, 12, 13 or 14 digit GTIN whose last digit is its correct check digit."""
    if len(number) not in GTIN_LENGTHS or not _NUMBER.fullmatch(number):
        return False
    return check_digit(number[:-1]) == int(number[-1])


def to_gtin14(number: str) -> str | None:
    """The 14-digit form (left-padded with zeros, GS1 GenSpecs 4.3.1), or None if not a valid GTIN."""
    return number.zfill(14) if is_valid(number) else None


def looks_like_gtin(text: str) -> bool:
    """True when `text` is all ASCII digits and of a GTIN length (check digit not yet verified)."""
    return len(text) in GTIN_LENGTHS and _NUMBER.fullmatch(text) is not None


def _expand_upc_e(number: str) -> str | None:
    """UPC-E (8 digits, number system 0 or 1) expanded to its 12-digit UPC-A, or None."""
    try:
        return Upc.parse(number).as_upc_a()
    except ParseError:
        return None


def parse_gtin(data: str, symbology: str | None) -> ScanData:
    """Parse a bare GTIN as sent for EAN-13/UPC (]E0), EAN-8 (]E4), ITF-14 (]I1) or unmarked digits.

    ]E0 with 8 digits is UPC-E and is expanded to UPC-A; ]E3 carries an add-on after the
    EAN-13, which is dropped with a warning.
    """
    number = data.strip()  # whitespace and GS are never part of a GTIN
    warnings: list[str] = []
    if symbology == "]E3" and len(number) in (15, 18):
        number = number[:13]
        warnings.append("add_on_ignored")
    elif symbology == "]E0" and len(number) == 8 and _NUMBER.fullmatch(number):
        expanded = _expand_upc_e(number)
        if expanded is None:
            return failed("gtin", "bad_gtin_check_digit")
        number = expanded
        warnings.append("upc_e_expanded")
    if not looks_like_gtin(number):
        return failed("unknown", "unparseable")
    gtin14 = to_gtin14(number)
    if gtin14 is None:
        return failed("gtin", "bad_gtin_check_digit")
    return ScanData(kind="gtin", gtin=gtin14, warnings=tuple(warnings))
