"""GTIN-8/12/13/14 check digits, the 14-digit normal form, and bare EAN/UPC/ITF-14 scans."""

from __future__ import annotations

import datetime as dt

import pytest

from devices.barcodes import parse_scan
from devices.barcodes.gtin import check_digit, is_valid, to_gtin14

TODAY = dt.date(2025, 6, 1)

VALID = ["96385074", "036000291452", "4006381333931", "09501101530003", "10366302300017"]


@pytest.mark.parametrize("number", VALID)
def test_valid_gtins_of_every_length_pass_the_check_digit(number: str) -> None:
    assert is_valid(number)
    assert check_digit(number[:-1]) == int(number[-1])


@pytest.mark.parametrize("number", VALID)
def test_any_wrong_check_digit_is_rejected(number: str) -> None:
    for wrong in set("0123456789") - {number[-1]}:
        assert not is_valid(number[:-1] + wrong)


@pytest.mark.parametrize("number", ["", "1234567", "123456789", "12345678901", "123456789012345", "abcdefgh"])
def test_lengths_other_than_8_12_13_14_are_not_gtins(number: str) -> None:
    assert not is_valid(number)


def test_non_ascii_digits_are_not_gtin_digits() -> None:
    assert not is_valid("٩٦٣٨٥٠٧٤")  # Arabic-Indic digits: str.isdigit() would accept them
    assert parse_scan("٩٦٣٨٥٠٧٤", today=TODAY).kind == "unknown"


def test_check_digit_uses_weights_3_1_from_the_right() -> None:
    # 0950110153000: 3*0+1*0+3*0+1*3+3*5+1*1+3*0+1*1+3*1+1*0+3*5+1*9+3*0 = 47 -> check 3
    assert check_digit("0950110153000") == 3


@pytest.mark.parametrize(
    ("number", "gtin14"),
    [("96385074", "00000096385074"), ("036000291452", "00036000291452"),
     ("4006381333931", "04006381333931"), ("09501101530003", "09501101530003")],
)
def test_gtin_is_normalised_to_14_digits(number: str, gtin14: str) -> None:
    assert to_gtin14(number) == gtin14
    assert parse_scan(number, today=TODAY).gtin == gtin14


def test_bare_digits_with_a_bad_check_digit_give_bad_gtin_check_digit() -> None:
    scan = parse_scan("4006381333932", today=TODAY)
    assert (scan.kind, scan.error, scan.gtin) == ("gtin", "bad_gtin_check_digit", None)


@pytest.mark.parametrize(
    ("raw", "gtin14"),
    [("]E04006381333931", "04006381333931"), ("]E496385074", "00000096385074"),
     ("]I110366302300017", "10366302300017")],
)
def test_ean_upc_and_itf14_symbologies_give_a_gtin(raw: str, gtin14: str) -> None:
    scan = parse_scan(raw, today=TODAY)
    assert (scan.kind, scan.gtin, scan.symbology, scan.error) == ("gtin", gtin14, raw[:3], None)


def test_ean13_symbology_with_a_bad_check_digit_is_an_error() -> None:
    assert parse_scan("]E04006381333930", today=TODAY).error == "bad_gtin_check_digit"


def test_upc_e_sent_as_8_digits_behind_e0_is_expanded_to_upc_a() -> None:
    scan = parse_scan("]E004252614", today=TODAY)
    assert scan.gtin == "00042100005264"
    assert "upc_e_expanded" in scan.warnings


def test_ean_add_on_is_dropped_with_a_warning() -> None:
    scan = parse_scan("]E3400638133393112", today=TODAY)
    assert scan.gtin == "04006381333931"
    assert scan.warnings == ("add_on_ignored",)


def test_gtin_symbology_with_text_is_unknown() -> None:
    scan = parse_scan("]E0HELLO", today=TODAY)
    assert (scan.kind, scan.error) == ("unknown", "unparseable")


def test_trailing_gs_after_a_gtin_is_ignored() -> None:
    assert parse_scan("4006381333931\x1d", today=TODAY).gtin == "04006381333931"
