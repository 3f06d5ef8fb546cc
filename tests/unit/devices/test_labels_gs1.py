"""GS1 element strings for printing: FNC1 only where the standard needs it, AI-82, the 48 limit."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import zxingcpp
from PIL import Image

from devices.barcodes import parse_scan
from devices.labels.gs1 import AI82, FNC1, element_data, human_readable, lot_elements, needs_separator
from devices.labels.render import to_png
from devices.labels.sheet import gs1_128_modules, single_label

TODAY = dt.date(2026, 3, 10)


def scan_of(elements: list[tuple[str, str]]) -> str:
    """Print `elements` as GS1-128, decode the PNG and return what a scanner would send."""
    png = to_png(single_label([], gs1_128_modules(element_data(elements)), [(human_readable(elements), 9.0)]))
    (barcode,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)), text_mode=zxingcpp.TextMode.Plain)
    return barcode.symbology_identifier + barcode.text


def test_ai_82_is_the_82_characters_of_gs1_figure_7_11_1() -> None:
    assert len(AI82) == 82
    assert not set(" #$@[\\]^`{|}~") & AI82


@pytest.mark.parametrize("ai", ["00", "01", "02", "03", "04", "11", "13", "17", "19", "20", "310", "3103", "36", "41"])
def test_predefined_length_ais_need_no_separator(ai: str) -> None:
    assert not needs_separator(ai)


@pytest.mark.parametrize("ai", ["10", "21", "30", "05", "240", "7003", "37", "90", "99"])
def test_every_other_ai_needs_a_separator_when_something_follows(ai: str) -> None:
    assert needs_separator(ai)


def test_lot_elements_are_gtin_expiry_lot_in_that_order() -> None:
    assert lot_elements("09501101530003", dt.date(2027, 1, 31), "AB-123") == [
        ("01", "09501101530003"), ("17", "270131"), ("10", "AB-123")]


def test_no_fnc1_after_fixed_length_fields_nor_after_the_last_field() -> None:
    assert element_data([("01", "09501101530003"), ("17", "270131"), ("10", "AB-123")]) == (
        "01095011015300031727013110AB-123")


def test_fnc1_follows_a_variable_length_field_that_is_not_last() -> None:
    data = element_data([("10", "AB12"), ("17", "270131"), ("21", "S1"), ("30", "5")])
    assert data == f"10AB12{FNC1}1727013121S1{FNC1}305"


def test_the_interpretation_line_puts_each_ai_in_parentheses() -> None:
    assert human_readable([("01", "09501101530003"), ("10", "A1")]) == "(01)09501101530003(10)A1"


def test_a_mid_symbol_fnc1_is_printed_and_arrives_as_gs() -> None:
    raw = scan_of([("01", "09501101530003"), ("10", "AB-1"), ("17", "270131")])
    assert raw == "]C10109501101530003" + "10AB-1\x1d17270131"
    scan = parse_scan(raw, today=TODAY)
    assert (scan.gtin, scan.lot, scan.expiry, scan.needs_confirmation) == (
        "09501101530003", "AB-1", dt.date(2027, 1, 31), False)


@pytest.mark.parametrize("lot", ["1", "123", "1234567", "A1B"])
def test_digit_runs_of_odd_length_before_a_separator_encode_correctly(lot: str) -> None:
    # Code set C packs digit pairs; an odd run before FNC1 must switch code set without losing a digit.
    scan = parse_scan(scan_of([("10", lot), ("17", "270131")]), today=TODAY)
    assert (scan.lot, scan.expiry) == (lot, dt.date(2027, 1, 31))


def test_a_symbol_holds_at_most_48_data_characters() -> None:
    elements = [("01", "09501101530003"), ("17", "270131"), ("10", "L" * 20)]  # 46 characters
    assert len(element_data(elements)) == 46
    with pytest.raises(ValueError, match="48"):
        element_data([*elements[:2], ("21", "S"), ("10", "L" * 20)])


@pytest.mark.parametrize("elements", [[], [("1", "x")], [("ab", "x")], [("10", "")], [("10", "A B")]])
def test_malformed_elements_are_rejected(elements: list[tuple[str, str]]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        element_data(elements)
