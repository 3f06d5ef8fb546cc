"""GS1 Digital Link URIs: plain, upper case, behind ]Q1 / ]d1, and URIs that are not Digital Links."""

from __future__ import annotations

import datetime as dt

import pytest

from devices.barcodes import parse_scan
from devices.barcodes.digital_link import normalise

TODAY = dt.date(2025, 6, 1)
URI = "https://id.gs1.org/01/09520123456788/10/ABC1/21/12345?17=180426"


def expect_vector(raw: str, symbology: str | None = None) -> None:
    scan = parse_scan(raw, today=TODAY)
    assert (scan.kind, scan.gtin, scan.lot, scan.serial, scan.expiry, scan.error, scan.symbology) == (
        "gs1", "09520123456788", "ABC1", "12345", dt.date(2018, 4, 26), None, symbology
    )
    assert scan.raw == raw


@pytest.mark.parametrize("identifier", ["]Q1", "]d1"])
def test_digital_link_behind_a_plain_qr_or_datamatrix_identifier_is_read(identifier: str) -> None:
    expect_vector(identifier + URI, identifier)


def test_upper_case_scheme_is_accepted() -> None:
    expect_vector("HTTPS://id.gs1.org/01/09520123456788/10/ABC1/21/12345?17=180426")


def test_fully_upper_case_uri_behind_q1_is_accepted() -> None:
    expect_vector("]Q1HTTPS://ID.GS1.ORG/01/09520123456788/10/ABC1/21/12345?17=180426", "]Q1")


def test_only_scheme_and_host_are_lower_cased() -> None:
    assert normalise("HTTPS://Example.COM/01/X/10/AbC?17=1") == "https://example.com/01/X/10/AbC?17=1"


def test_digital_link_with_a_path_prefix_and_http_is_read() -> None:
    scan = parse_scan("http://example.com/shop/01/09520123456788/10/ABC1", today=TODAY)
    assert (scan.gtin, scan.lot) == ("09520123456788", "ABC1")


def test_digital_link_expiry_uses_the_century_rule_with_today() -> None:
    raw = "https://id.gs1.org/01/09520123456788?17=991231"
    assert parse_scan(raw, today=dt.date(2025, 1, 1)).expiry == dt.date(1999, 12, 31)
    assert parse_scan(raw, today=dt.date(2060, 1, 1)).expiry == dt.date(2099, 12, 31)


def test_digital_link_with_a_bad_gtin_check_digit_is_an_error() -> None:
    scan = parse_scan("https://id.gs1.org/01/09520123456789", today=TODAY)
    assert (scan.kind, scan.error) == ("gs1", "bad_gtin_check_digit")


def test_web_address_that_is_not_a_digital_link_is_unknown() -> None:
    scan = parse_scan("]Q1https://example.com/about", today=TODAY)
    assert (scan.kind, scan.error) == ("unknown", "unparseable")
