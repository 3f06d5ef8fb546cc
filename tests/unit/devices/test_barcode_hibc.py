"""HIBC LIC: primary, secondary, concatenated and linked symbols, every date format, mod-43 checks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from devices.barcodes import parse_scan
from devices.barcodes.hibc import CHARSET, check_character

TODAY = dt.date(2025, 6, 1)
PRIMARY = "+A99912345"  # LIC A999, PCN 1234, U/M 5


def symbol(body: str) -> str:
    """`body` with its mod-43 check character appended."""
    return body + check_character(body)


def fields(raw: str) -> dict[str, Any]:
    scan = parse_scan(raw, today=TODAY)
    assert scan.error is None, scan.error
    return {"lot": scan.lot, "serial": scan.serial, "expiry": scan.expiry, "quantity": scan.quantity}


def test_check_character_is_mod_43_over_every_character_including_plus_and_slash() -> None:
    assert check_character("+A123BJC5D6E71") == "G"
    assert check_character("+X999123ABC0/$$05191234AB/S5678EDFG/16D20151001") == "A"
    assert check_character("+$$52001510X3+") == " "
    assert CHARSET.index("%") == 42


def test_primary_gives_lic_pcn_and_unit_of_measure() -> None:
    scan = parse_scan(symbol(PRIMARY), today=TODAY)
    assert (scan.kind, scan.lic, scan.pcn, scan.unit_of_measure) == ("hibc", "A999", "1234", 5)
    assert (scan.lot, scan.expiry, scan.gtin, scan.error) == (None, None, None, None)


def test_bad_check_character_is_rejected() -> None:
    scan = parse_scan("+A123BJC5D6E71H", today=TODAY)
    assert (scan.kind, scan.error, scan.lic) == ("hibc", "bad_check_character", None)


def test_bad_check_character_in_a_concatenated_symbol_is_rejected() -> None:
    scan = parse_scan("+A99912345/$$52001510X3/16D20111212/S77DEFG458", today=TODAY)
    assert scan.error == "bad_check_character"


@pytest.mark.parametrize("check", [" ", "+", ".", "$", "/", "%", "-"])
def test_check_character_may_be_punctuation_and_is_never_stripped(check: str) -> None:
    body = next(f"+A999P{i}1" for i in range(2000) if check_character(f"+A999P{i}1") == check)
    scan = parse_scan(body + check, today=TODAY)
    assert (scan.kind, scan.pcn, scan.error) == ("hibc", body[5:-1], None)


EXPIRY = dt.date(2026, 12, 31)
SECONDARY_FORMATS = [
    ("$LOT1", {"lot": "LOT1"}),
    ("$+SER1", {"serial": "SER1"}),
    ("$$0526LOT1", {"lot": "LOT1", "expiry": dt.date(2026, 5, 31)}),  # flag 0: MMYY, end of month
    ("$$1226LOT1", {"lot": "LOT1", "expiry": EXPIRY}),  # flag 1: MMYY, month 12
    ("$$2123126LOT1", {"lot": "LOT1", "expiry": EXPIRY}),  # MMDDYY
    ("$$3261231LOT1", {"lot": "LOT1", "expiry": EXPIRY}),  # YYMMDD
    ("$$426123114LOT1", {"lot": "LOT1", "expiry": EXPIRY}),  # YYMMDDHH
    ("$$526365LOT1", {"lot": "LOT1", "expiry": EXPIRY}),  # YYJJJ
    ("$$62636514LOT1", {"lot": "LOT1", "expiry": EXPIRY}),  # YYJJJHH
    ("$$7LOT1", {"lot": "LOT1"}),  # lot only
    ("$$824LOT1", {"lot": "LOT1", "quantity": 24}),  # 2-digit quantity
    ("$$8243261231LOT1", {"lot": "LOT1", "quantity": 24, "expiry": EXPIRY}),  # quantity then a date
    ("$$900100LOT1", {"lot": "LOT1", "quantity": 100}),  # 5-digit quantity
    ("$$900100526151LOT1", {"lot": "LOT1", "quantity": 100, "expiry": dt.date(2026, 5, 31)}),
    ("$$+3261231SER1", {"serial": "SER1", "expiry": EXPIRY}),  # dated serial
    ("$$+7SER1", {"serial": "SER1"}),
    ("26365LOT1", {"lot": "LOT1", "expiry": EXPIRY}),  # legacy YYJJJ without a flag
]


@pytest.mark.parametrize(("secondary", "expected"), SECONDARY_FORMATS, ids=[s for s, _ in SECONDARY_FORMATS])
def test_each_secondary_format_in_a_concatenated_symbol(secondary: str, expected: dict[str, Any]) -> None:
    empty = {"lot": None, "serial": None, "expiry": None, "quantity": None}
    assert fields(symbol(f"{PRIMARY}/{secondary}")) == {**empty, **expected}


@pytest.mark.parametrize(("secondary", "expected"), SECONDARY_FORMATS, ids=[s for s, _ in SECONDARY_FORMATS])
def test_each_secondary_format_as_a_separate_linked_symbol(secondary: str, expected: dict[str, Any]) -> None:
    primary = symbol(PRIMARY)
    second = symbol(f"+{secondary}{primary[-1]}")
    empty = {"lot": None, "serial": None, "expiry": None, "quantity": None}
    assert fields(second) == {**empty, **expected}
    assert fields(primary + second) == {**empty, **expected}


def test_month_year_expiry_means_the_last_day_of_that_month() -> None:
    assert fields(symbol(f"{PRIMARY}/$$0224L"))["expiry"] == dt.date(2024, 2, 29)


def test_secondary_symbol_alone_reports_its_link_character() -> None:
    scan = parse_scan("+$$52001510X3+ ", today=TODAY)
    assert (scan.kind, scan.lic, scan.link_character, scan.lot) == ("hibc", None, "+", "10X3")
    assert "hibc_secondary_only" in scan.warnings


def test_linked_secondary_with_the_wrong_link_character_is_rejected() -> None:
    primary = symbol(PRIMARY)
    wrong_link = "Z" if primary[-1] != "Z" else "Y"
    scan = parse_scan(primary + symbol(f"+$$3261231LOT1{wrong_link}"), today=TODAY)
    assert (scan.error, scan.lot) == ("bad_link_character", None)


def test_supplemental_serial_manufacture_and_expiry_dates() -> None:
    scan = parse_scan(symbol(f"{PRIMARY}/$$7LOT1/S99/16D20240229/14D20261231"), today=TODAY)
    assert (scan.lot, scan.serial, scan.production_date, scan.expiry) == (
        "LOT1", "99", dt.date(2024, 2, 29), EXPIRY)


def test_expiry_given_twice_with_different_dates_is_an_error() -> None:
    scan = parse_scan(symbol(f"{PRIMARY}/$$3261231LOT1/14D20261130"), today=TODAY)
    assert scan.error == "conflicting_fields"


def test_unknown_supplemental_field_is_ignored_with_a_warning() -> None:
    scan = parse_scan(symbol(f"{PRIMARY}/$$7LOT1/ZZ9"), today=TODAY)
    assert (scan.lot, scan.warnings) == ("LOT1", ("hibc_unknown_supplemental_ignored",))


@pytest.mark.parametrize("secondary", ["$$3261331L", "$$3260230L", "$$525366L", "$$2133126L", "$$426123124L"])
def test_impossible_dates_give_bad_date(secondary: str) -> None:
    assert parse_scan(symbol(f"{PRIMARY}/{secondary}"), today=TODAY).error == "bad_date"


def test_julian_day_366_exists_only_in_leap_years() -> None:
    assert fields(symbol(f"{PRIMARY}/$$524366L"))["expiry"] == dt.date(2024, 12, 31)


def test_hibc_two_digit_years_use_the_century_rule_with_today() -> None:
    raw = symbol(f"{PRIMARY}/$$3991231L")
    assert parse_scan(raw, today=dt.date(2025, 1, 1)).expiry == dt.date(1999, 12, 31)
    assert parse_scan(raw, today=dt.date(2060, 1, 1)).expiry == dt.date(2099, 12, 31)


@pytest.mark.parametrize("secondary", ["$$X", "$$3261", "$$8A", "$LO T", "$$"])
def test_malformed_secondary_data_gives_bad_hibc_syntax(secondary: str) -> None:
    assert parse_scan(symbol(f"{PRIMARY}/{secondary}"), today=TODAY).error == "bad_hibc_syntax"


def test_code39_with_check_stripped_by_the_scanner_is_accepted() -> None:
    scan = parse_scan("]A3+A123BJC5D6E71", today=TODAY)
    assert (scan.lic, scan.pcn, scan.error, scan.symbology) == ("A123", "BJC5D6E7", None, "]A3")
    assert "check_verified_by_scanner" in scan.warnings


@pytest.mark.parametrize("identifier", ["]A0", "]C0", "]d1", "]Q1"])
def test_hibc_behind_plain_symbology_identifiers(identifier: str) -> None:
    scan = parse_scan(identifier + "+A123BJCMD6E79++$$52001510X3+ ", today=TODAY)
    assert (scan.lic, scan.lot, scan.symbology) == ("A123", "10X3", identifier)


def test_lower_case_or_foreign_characters_are_not_hibc() -> None:
    assert parse_scan("+a123bjc5d6e71g", today=TODAY).kind == "unknown"
    assert parse_scan("+A123BJC5D6E71G\x00", today=TODAY).error == "unparseable"


def test_stray_gs_around_hibc_is_ignored_but_a_space_check_character_is_kept() -> None:
    assert parse_scan("\x1d+A123BJC5D6E71G\x1d", today=TODAY).lic == "A123"
    assert parse_scan("+$$52001510X3+ \x1d", today=TODAY).lot == "10X3"
    assert parse_scan("+$$52001510X3+", today=TODAY).error == "bad_check_character"
