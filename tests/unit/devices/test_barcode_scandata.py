"""The ScanData record and the parse_scan entry point's edge contract."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from devices.barcodes import MAX_SCAN_LENGTH, ScanData, parse_scan

TODAY = dt.date(2025, 6, 1)


def test_to_dict_gives_json_ready_values_with_dates_as_iso_strings() -> None:
    data = parse_scan("+X999123ABC0/$$05191234AB/S5678EDFG/16D20151001A", today=TODAY).to_dict()
    assert data["expiry"] == "2019-05-31"
    assert data["production_date"] == "2015-10-01"
    assert data["warnings"] == []
    assert json.loads(json.dumps(data)) == data


def test_to_dict_lists_gs1_elements_by_ai() -> None:
    data = parse_scan("]C1011231231231233310ABC123\x1d99TESTING", today=TODAY).to_dict()
    assert data["elements"] == {"01": "12312312312333", "10": "ABC123", "99": "TESTING"}


def test_scan_data_is_frozen() -> None:
    scan = parse_scan("#DONE", today=TODAY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        scan.kind = "gs1"  # type: ignore[misc]


def test_raw_is_returned_unchanged_including_gs_and_spaces() -> None:
    raw = "\x1d]weird data \x1d "
    assert parse_scan(raw, today=TODAY).raw == raw


@pytest.mark.parametrize("raw", ["", " ", "\x1d", "\x1d\x1d"])
def test_empty_scans_are_unknown_and_empty(raw: str) -> None:
    scan = parse_scan(raw, today=TODAY)
    assert (scan.kind, scan.error, scan.raw) == ("unknown", "empty", raw)


def test_overlong_input_is_rejected_without_parsing() -> None:
    scan = parse_scan("0" * (MAX_SCAN_LENGTH + 1), today=TODAY)
    assert (scan.kind, scan.error) == ("unknown", "too_long")


def test_non_text_input_is_answered_not_raised() -> None:
    scan = parse_scan(b"0109501101530003", today=TODAY)  # type: ignore[arg-type]
    assert (scan.kind, scan.error, scan.raw) == ("unknown", "not_text", "")


def test_a_datetime_today_is_used_as_its_date() -> None:
    now = dt.datetime(2080, 1, 1, 12, 0)
    assert parse_scan("]C1010950110153000317300101", today=now).expiry == dt.date(2130, 1, 1)


def test_today_must_be_a_date() -> None:
    with pytest.raises(TypeError):
        parse_scan("#DONE", today="2025-06-01")  # type: ignore[arg-type]


def test_an_error_leaves_no_data_fields_behind() -> None:
    scan = parse_scan("]C1010950110153000417250101", today=TODAY)
    assert scan.error == "bad_gtin_check_digit"
    assert scan == ScanData(kind="gs1", raw=scan.raw, symbology="]C1", error="bad_gtin_check_digit")
