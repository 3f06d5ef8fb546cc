"""AIM symbology identifiers in front of the data."""

from __future__ import annotations

import datetime as dt

import pytest

from devices.barcodes import parse_scan
from devices.barcodes.symbology import carries_gs1, carries_gtin_only, name_of, split_symbology

TODAY = dt.date(2025, 6, 1)
GS1 = ["]C1", "]d2", "]Q3", "]e0"]
GTIN = ["]E0", "]E4", "]I1"]
PLAIN = ["]C0", "]d1", "]Q1"]


@pytest.mark.parametrize("identifier", GS1 + GTIN + PLAIN)
def test_identifier_is_split_off_and_reported(identifier: str) -> None:
    assert split_symbology(identifier + "DATA") == (identifier, "DATA")
    assert name_of(identifier) is not None


def test_text_without_an_identifier_is_left_whole() -> None:
    assert split_symbology("0109501101530003") == (None, "0109501101530003")
    assert split_symbology("]") == (None, "]")
    assert split_symbology("]1X") == (None, "]1X")


@pytest.mark.parametrize("identifier", GS1)
def test_gs1_identifiers_mark_gs1_element_strings(identifier: str) -> None:
    assert carries_gs1(identifier)
    scan = parse_scan(identifier + "0109501101530003", today=TODAY)
    assert (scan.kind, scan.symbology, scan.gtin) == ("gs1", identifier, "09501101530003")


@pytest.mark.parametrize(("identifier", "data"), [("]E0", "4006381333931"), ("]E4", "96385074"),
                                                  ("]I1", "10366302300017")])
def test_ean_upc_itf_identifiers_mark_a_bare_gtin(identifier: str, data: str) -> None:
    assert carries_gtin_only(identifier)
    scan = parse_scan(identifier + data, today=TODAY)
    assert (scan.kind, scan.symbology) == ("gtin", identifier)


def test_gs1_identifier_before_14_digits_means_element_strings_not_a_gtin() -> None:
    # "]C1" + (17)(10): a GS1-128 secondary bar code, not a GTIN-14.
    scan = parse_scan("]C1172601311012", today=TODAY)
    assert (scan.kind, scan.expiry, scan.lot) == ("gs1", dt.date(2026, 1, 31), "12")


def test_unknown_identifier_is_reported_and_the_data_still_parsed() -> None:
    scan = parse_scan("]X0#DONE", today=TODAY)
    assert (scan.symbology, scan.command) == ("]X0", "done")


def test_identifier_alone_is_empty() -> None:
    scan = parse_scan("]C1", today=TODAY)
    assert (scan.kind, scan.error, scan.symbology, scan.raw) == ("unknown", "empty", "]C1", "]C1")
