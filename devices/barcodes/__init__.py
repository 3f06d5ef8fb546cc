"""Pure barcode parsing for clinic scanners: one entry point, `parse_scan`.

    parse_scan(raw: str, *, today: datetime.date) -> ScanData

Understands GS1 element strings (GS1-128, GS1 DataMatrix/QR, DataBar), GS1 Digital Link URIs,
HIBC (primary, secondary, concatenated), bare GTIN-8/12/13/14 and the service's command cards,
with or without a leading AIM symbology identifier. Standard library and biip only; no I/O and
no clock: every date-relative rule uses `today`.

Contract: parse_scan never raises for any `raw`; `raw` is returned unchanged in the result; a
scan that cannot be read has kind "unknown" and an error reason.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

from devices.barcodes import symbology
from devices.barcodes.commands import is_command, parse_command
from devices.barcodes.digital_link import looks_like_uri, parse_digital_link
from devices.barcodes.gs1 import parse_element_string
from devices.barcodes.gtin import looks_like_gtin, parse_gtin
from devices.barcodes.hibc import parse_hibc
from devices.barcodes.scandata import ScanData, failed, with_error

__all__ = ["MAX_SCAN_LENGTH", "ScanData", "parse_scan"]

GS = "\x1d"  # FNC1 as sent by the scanner
MAX_SCAN_LENGTH = 8192  # above the largest QR Code (7089 digits); longer input is not a barcode
_GS1_START = re.compile(r"[0-9]{2}")


def parse_scan(raw: str, *, today: dt.date) -> ScanData:
    """Parse one scanned frame (CR/LF already removed by the serial layer) relative to `today`.

    Raises TypeError only for a `today` that is not a date (a programming error); any `raw`,
    of any type or content, gives a ScanData (a non-str `raw` gives error "not_text" and raw "",
    so that `to_dict()` stays JSON-ready).
    """
    if isinstance(today, dt.datetime):
        today = today.date()
    if not isinstance(today, dt.date):
        raise TypeError("today must be a datetime.date")
    if not isinstance(raw, str):
        return ScanData(kind="unknown", raw="", error="not_text")
    try:
        return _parse(raw, today)
    except Exception:  # the contract is "never raises": a bug here must not stop a scanner
        return ScanData(kind="unknown", raw=raw, error="internal_error")


def _parse(raw: str, today: dt.date) -> ScanData:
    if len(raw) > MAX_SCAN_LENGTH:
        return replace(failed("unknown", "too_long"), raw=raw)
    identifier, data = symbology.split_symbology(raw)
    result = _dispatch(identifier, data, today)
    if result.error is not None:
        result = with_error(result, result.error)
    return replace(result, raw=raw, symbology=identifier)


def _dispatch(identifier: str | None, data: str, today: dt.date) -> ScanData:
    """Choose the parser: the symbology identifier first, then the shape of the data."""
    trimmed = data.strip()  # for recognising shapes only: HIBC data is never whitespace-stripped
    if not trimmed:
        return failed("unknown", "empty")
    if symbology.carries_gtin_only(identifier):
        return parse_gtin(data, identifier)
    if is_command(data.strip(GS)):  # a stray GS around a command card is never part of it
        return parse_command(data.strip(GS))
    if looks_like_uri(trimmed):
        return parse_digital_link(trimmed, today)
    hibc = data.strip(GS)  # a stray GS is never HIBC data, but a space may be its check character
    if hibc.startswith("+"):
        stripped_check = identifier in symbology.CODE39_CHECK_STRIPPED
        return parse_hibc(hibc, today, check_transmitted=not stripped_check)
    if symbology.carries_gs1(identifier):
        return parse_element_string(data, today)
    if looks_like_gtin(trimmed):
        return parse_gtin(trimmed, identifier)
    if not _GS1_START.match(trimmed):
        return failed("unknown", "unparseable")
    result = parse_element_string(data, today)
    if result.kind != "gs1" or result.error is not None:
        return result
    # Without a GS1 identifier the same digits could be any Code 128 text: ask before trusting.
    extra: tuple[str, ...] = ()
    if symbology.is_plain(identifier):
        extra = ("gs1_data_in_plain_symbology",)
    if extra or result.gtin is None:
        return replace(result, warnings=result.warnings + extra, needs_confirmation=True)
    return result
