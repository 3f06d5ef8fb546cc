"""GS1 element strings: dates, the century rule, FNC1/GS handling, lost separators, validation."""

from __future__ import annotations

import datetime as dt

import pytest

from devices.barcodes import parse_scan

GS = "\x1d"
TODAY = dt.date(2025, 6, 1)
GTIN_PART = "0109501101530003"


def scan_with_expiry(yymmdd: str, today: dt.date = TODAY) -> dt.date | None:
    return parse_scan(f"]C1{GTIN_PART}17{yymmdd}", today=today).expiry


def test_day_00_means_last_day_of_month() -> None:
    assert scan_with_expiry("250400") == dt.date(2025, 4, 30)
    assert scan_with_expiry("251200") == dt.date(2025, 12, 31)


def test_day_00_in_february_follows_leap_years() -> None:
    assert scan_with_expiry("160200") == dt.date(2016, 2, 29)
    assert scan_with_expiry("170200") == dt.date(2017, 2, 28)


@pytest.mark.parametrize(
    ("yymmdd", "expected"),
    [("740101", dt.date(2074, 1, 1)),  # 49 years ahead
     ("750101", dt.date(2075, 1, 1)),  # 50 years ahead: still the current century
     ("760101", dt.date(1976, 1, 1)),  # 51 years ahead: previous century
     ("250601", dt.date(2025, 6, 1)),
     ("000101", dt.date(2000, 1, 1))],
)
def test_century_is_chosen_within_49_years_back_and_50_forward_of_today(yymmdd: str, expected: dt.date) -> None:
    assert scan_with_expiry(yymmdd, dt.date(2025, 6, 1)) == expected


def test_century_rule_looks_ahead_into_the_next_century_near_its_end() -> None:
    assert scan_with_expiry("300101", dt.date(2080, 1, 1)) == dt.date(2130, 1, 1)  # 50 years ahead
    assert scan_with_expiry("310101", dt.date(2080, 1, 1)) == dt.date(2031, 1, 1)  # 49 years back


def test_dates_depend_only_on_the_today_argument_never_the_clock() -> None:
    assert scan_with_expiry("990101", dt.date(2025, 1, 1)) == dt.date(1999, 1, 1)
    assert scan_with_expiry("990101", dt.date(2060, 1, 1)) == dt.date(2099, 1, 1)


def test_production_date_ai_11_is_read() -> None:
    scan = parse_scan(f"{GTIN_PART}11240115", today=TODAY)
    assert scan.production_date == dt.date(2024, 1, 15)


def test_impossible_expiry_date_gives_bad_date() -> None:
    scan = parse_scan(f"{GTIN_PART}17250231", today=TODAY)
    assert (scan.kind, scan.error, scan.gtin, scan.expiry) == ("gs1", "bad_date", None, None)


def test_bad_gtin_check_digit_in_ai_01_is_an_error() -> None:
    scan = parse_scan("]C1010950110153000417250101", today=TODAY)
    assert (scan.kind, scan.error, scan.gtin) == ("gs1", "bad_gtin_check_digit", None)


@pytest.mark.parametrize("prefix", ["", GS, GS + GS, "]C1", "]C1" + GS, "]d2", "]Q3"])
@pytest.mark.parametrize("suffix", ["", GS])
def test_leading_and_trailing_gs_are_ignored(prefix: str, suffix: str) -> None:
    scan = parse_scan(f"{prefix}{GTIN_PART}10LOT1{GS}17260131{suffix}", today=TODAY)
    assert (scan.gtin, scan.lot, scan.expiry, scan.error) == ("09501101530003", "LOT1", dt.date(2026, 1, 31), None)
    assert not scan.needs_confirmation


def test_gs_after_a_fixed_length_field_is_accepted() -> None:
    scan = parse_scan(f"{GTIN_PART}{GS}17260131{GS}10LOT1", today=TODAY)
    assert (scan.lot, scan.expiry) == ("LOT1", dt.date(2026, 1, 31))


def test_lot_last_needs_no_gs_and_is_trusted() -> None:
    scan = parse_scan(f"{GTIN_PART}1726013110LOT1", today=TODAY)
    assert (scan.lot, scan.needs_confirmation, scan.warnings) == ("LOT1", False, ())


def test_lot_swallowing_a_following_date_is_flagged_for_confirmation() -> None:
    scan = parse_scan(f"{GTIN_PART}10LOT11726013121SER9", today=TODAY)
    assert scan.needs_confirmation
    assert "missing_gs_suspected" in scan.warnings


def test_lost_gs_that_makes_the_strict_reading_fail_is_recovered_but_flagged() -> None:
    # (21) runs into (17) and (10): the strict reading fails; the recovered one must be confirmed.
    scan = parse_scan("0104150011164140211GTFG32DLF1723033110158993A", today=TODAY)
    assert (scan.serial, scan.expiry, scan.lot) == ("1GTFG32DLF", dt.date(2023, 3, 31), "158993A")
    assert scan.needs_confirmation
    assert "missing_gs_suspected" in scan.warnings


def test_variable_field_at_its_maximum_length_without_gs_is_flagged() -> None:
    lot = "A" * 20
    scan = parse_scan(f"{GTIN_PART}10{lot}17260131", today=TODAY)
    assert scan.lot == lot
    assert scan.needs_confirmation


def test_count_ai_30_gives_the_quantity() -> None:
    scan = parse_scan(f"{GTIN_PART}3012{GS}10L1", today=TODAY)
    assert (scan.quantity, scan.lot) == (12, "L1")


def test_expiry_date_and_time_7003_is_used_when_17_is_absent() -> None:
    scan = parse_scan(f"{GTIN_PART}70032601311200{GS}10L1", today=TODAY)
    assert scan.expiry == dt.date(2026, 1, 31)
    assert "expiry_from_7003" in scan.warnings


def test_repeated_ai_with_a_different_value_is_an_error() -> None:
    scan = parse_scan(f"]C1{GTIN_PART}17260131{GS}10A{GS}10B", today=TODAY)
    assert scan.error == "conflicting_duplicate_ai"


def test_repeated_ai_with_the_same_value_is_accepted_once() -> None:
    scan = parse_scan(f"]C1{GTIN_PART}10A{GS}10A", today=TODAY)
    assert (scan.lot, scan.error, scan.elements) == ("A", None, (("01", "09501101530003"), ("10", "A")))


def test_gs1_symbol_without_a_gtin_warns() -> None:
    scan = parse_scan(f"]C117260131{GS}10LOT1", today=TODAY)
    assert (scan.kind, scan.gtin, scan.lot, scan.warnings) == ("gs1", None, "LOT1", ("no_gtin",))


def test_gs1_looking_text_without_identifier_and_without_gtin_needs_confirmation() -> None:
    scan = parse_scan("10ABC", today=TODAY)
    assert (scan.kind, scan.lot, scan.needs_confirmation) == ("gs1", "ABC", True)


def test_gs1_data_in_a_plain_code128_needs_confirmation() -> None:
    scan = parse_scan(f"]C0{GTIN_PART}10LOT1", today=TODAY)
    assert scan.gtin == "09501101530003"
    assert scan.needs_confirmation
    assert "gs1_data_in_plain_symbology" in scan.warnings


def test_gs1_identifier_with_garbage_is_unparseable() -> None:
    scan = parse_scan("]C1HELLO", today=TODAY)
    assert (scan.kind, scan.error, scan.symbology) == ("unknown", "unparseable", "]C1")


def test_gtin_of_contained_items_02_with_count_37_is_read() -> None:
    scan = parse_scan(f"]C10209501101530003375{GS}10L1", today=TODAY)
    assert (scan.gtin, scan.quantity) == ("09501101530003", 5)
    assert "gtin_of_contained_items" in scan.warnings


def test_serial_ending_like_a_second_expiry_is_not_mistaken_for_a_lost_gs() -> None:
    # "17251231" inside the serial would repeat (17) with another value: not a plausible reading.
    scan = parse_scan(f"{GTIN_PART}17260131{GS}10L1{GS}21ABC17251231", today=TODAY)
    assert (scan.serial, scan.needs_confirmation, scan.warnings) == ("ABC17251231", False, ())


def test_real_numeric_serials_and_lots_are_not_flagged() -> None:
    for raw in ["0110366302300017102100437" + GS + "1716020021925768618163",
                GS + "010357466145194721118165795226" + GS + "17210331101724847.1"]:
        assert not parse_scan(raw, today=TODAY).needs_confirmation
