"""GS1 element strings (GS1-128, GS1 DataMatrix, GS1 QR, DataBar) read with biip.

biip splits the element strings; this module re-derives every date from its raw YYMMDD with the
caller's `today` (biip reads the real clock for the century, so its dates are never used: it is
configured with `gs1_element_strings_verify_date=False` and its `date` fields are ignored).

Contract: `parse_element_string(data, today)` never raises and returns a ScanData of kind "gs1",
or of kind "unknown" with error "unparseable" when no reading exists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from biip import ParseConfig, ParseError
from biip.gs1_messages import GS1Message

from devices.barcodes import dates, gtin
from devices.barcodes.gs1_separators import Element, best_reading, count_cuts
from devices.barcodes.scandata import ScanData, failed

BIIP_CONFIG = ParseConfig(gs1_element_strings_verify_date=False)

DATE_AIS = frozenset({"11", "12", "13", "15", "16", "17"})  # N6 YYMMDD (GenSpecs 3.4)
GTIN_AIS = frozenset({"01", "02", "03"})  # N14 with a GS1 check digit


def anchor_test(today: dt.date) -> Callable[[str, str], bool]:
    """Element strings that are unlikely to appear inside a lot or serial by chance."""

    def is_anchor(ai: str, value: str) -> bool:
        if ai in DATE_AIS:
            return dates.yymmdd(value, today) is not None
        return ai in GTIN_AIS and gtin.is_valid(value)

    return is_anchor


def _strict(data: str) -> list[Element] | None:
    """biip's reading: every variable-length field runs to the next GS (or its maximum length)."""
    try:
        message = GS1Message.parse(data, config=BIIP_CONFIG)
    except (ParseError, ValueError):
        return None
    return [(es.ai.ai, es.value) for es in message.element_strings]


def parse_element_string(data: str, today: dt.date) -> ScanData:
    """Parse GS1 element strings where every FNC1 after the first arrives as GS.

    A leading or trailing GS (sent by some scanners) is ignored. When a variable-length field may
    have swallowed the fields after it (a lost GS), the result has needs_confirmation=True and
    the warning "missing_gs_suspected"; when only such a reading exists it is returned that way.
    """
    data = data.strip()  # GS and whitespace at the ends are never data (GS is whitespace to str)
    if not data:
        return failed("unknown", "empty")
    is_anchor = anchor_test(today)
    strict = _strict(data)
    alternative = best_reading(data, is_anchor)
    if strict is not None:
        anchors = sum(is_anchor(ai, value) for ai, value in strict)
        # Another reading with more anchors (and no AI repeated with a new value) means a GS
        # may be missing; so does a variable-length field that ends where no GS was sent.
        suspicious = count_cuts(data, strict) > 0 or (
            alternative is not None and alternative.anchors > anchors and _consistent(alternative.elements)
        )
        return from_elements(strict, today, suspicious=suspicious)
    if alternative is not None:
        return from_elements(alternative.elements, today, suspicious=True)
    return failed("unknown", "unparseable")


def from_elements(elements: Iterable[Element], today: dt.date, *, suspicious: bool = False) -> ScanData:
    """Build a "gs1" ScanData from (AI, value) pairs (also used for GS1 Digital Link URIs)."""
    pairs = tuple(elements)
    warnings: list[str] = ["missing_gs_suspected"] if suspicious else []
    if not _consistent(pairs):
        return failed("gs1", "conflicting_duplicate_ai", *warnings)
    values = dict(pairs)
    gtin14 = None
    # (01) identifies the item; a logistic label may instead carry (02) with a (37) count.
    gtin_ai = "01" if "01" in values else "02" if "02" in values else None
    if gtin_ai is None:
        warnings.append("no_gtin")
    else:
        gtin14 = gtin.to_gtin14(values[gtin_ai])
        if gtin14 is None:
            return failed("gs1", "bad_gtin_check_digit", *warnings)
        if gtin_ai == "02":
            warnings.append("gtin_of_contained_items")
    expiry = production = None
    if "17" in values:
        expiry = dates.yymmdd(values["17"], today)
    elif "7003" in values:  # expiry date and time YYMMDDHHMM
        expiry = dates.yymmdd(values["7003"][:6], today)
        warnings.append("expiry_from_7003")
    if "11" in values:
        production = dates.yymmdd(values["11"], today)
    expiry_given = "17" in values or "7003" in values
    if (expiry_given and expiry is None) or ("11" in values and production is None):
        return failed("gs1", "bad_date", *warnings)
    return ScanData(
        kind="gs1",
        gtin=gtin14,
        lot=values.get("10"),
        serial=values.get("21"),
        expiry=expiry,
        production_date=production,
        quantity=_count(values),
        elements=tuple(dict.fromkeys(pairs)),  # a repeated identical element is listed once
        warnings=tuple(warnings),
        needs_confirmation=suspicious,
    )


def _count(values: dict[str, str]) -> int | None:
    """(30) count of items, else (37) count of trade items in a logistic unit (GenSpecs 3.6.5, 3.6.16)."""
    for ai in ("30", "37"):
        value = values.get(ai, "")
        if value and dates.digits(value, len(value)):
            return int(value)
    return None


def _consistent(elements: Iterable[Element]) -> bool:
    """True when no AI appears twice with different values (GenSpecs 4.14)."""
    seen: dict[str, str] = {}
    return all(seen.setdefault(ai, value) == value for ai, value in elements)
