"""Labels round-trip: render to PNG, decode with a real decoder (zxing-cpp), parse with parse_scan.

zxing-cpp reports a GS1-128 symbol as Code 128 with symbology identifier `]C1` (the leading FNC1)
and, in TextMode.Plain, every later FNC1 as GS (0x1D): identifier + text is exactly what a
serial scanner with AIM identifiers enabled sends (ARCHITECTURE §4).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from xml.etree import ElementTree as ET

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from devices.barcodes import parse_scan
from devices.labels import card_commands, command_card, location_label, lot_label
from devices.labels.gs1 import AI82

TODAY = dt.date(2026, 3, 10)
GTIN = "09501101530003"
EXPIRY = dt.date(2027, 1, 31)
SVG = "{http://www.w3.org/2000/svg}"


def decode(png: bytes) -> list[zxingcpp.Barcode]:
    image = Image.open(io.BytesIO(png))
    return zxingcpp.read_barcodes(image, text_mode=zxingcpp.TextMode.Plain)


def scanned(barcode: zxingcpp.Barcode) -> str:
    """What a scanner sends: the AIM identifier, then the data with GS for every later FNC1."""
    return barcode.symbology_identifier + barcode.text


def only_scan(png: bytes) -> str:
    barcodes = decode(png)
    assert len(barcodes) == 1, [scanned(b) for b in barcodes]
    assert barcodes[0].format == zxingcpp.BarcodeFormat.Code128
    return scanned(barcodes[0])


def svg_root(svg: bytes) -> ET.Element:
    root = ET.fromstring(svg)  # well-formed XML, or this raises
    assert root.tag == f"{SVG}svg"
    assert root.get("width", "").endswith("mm")
    assert root.get("height", "").endswith("mm")
    return root


def svg_texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def rasterize_bars(svg: bytes, dpm: int = 12) -> Image.Image:
    """Paint the SVG's bar rectangles (user unit = 1 mm) at `dpm` dots per mm: enough of an SVG
    renderer to let the decoder read what the SVG draws."""
    root = svg_root(svg)
    width, height = (float(v) for v in root.get("viewBox", "").split()[2:])
    image = Image.new("L", (round(width * dpm), round(height * dpm)), 255)
    draw = ImageDraw.Draw(image)
    for group in root.iter(f"{SVG}g"):
        if group.get("fill") != "#000000":
            continue
        for rect in group.iter(f"{SVG}rect"):
            x, y, w, h = (float(rect.get(k, "0")) * dpm for k in ("x", "y", "width", "height"))
            draw.rectangle((round(x), round(y), round(x + w) - 1, round(y + h) - 1), fill=0)
    return image


# --- lot labels (GS1-128) -----------------------------------------------------------------------

LOTS = ["AB-123", "A/B-1.2", "7", "12345", "L" * 20, "!\"%&'()*+,-./:;<=>?_", "2100437", "abc_DEF"]


@pytest.mark.parametrize("lot", LOTS)
def test_lot_label_png_decodes_to_gs1_128_and_parses_back_to_the_same_fields(lot: str) -> None:
    barcodes = decode(lot_label(GTIN, EXPIRY, lot, fmt="png", title="Syringe 5 ml"))
    assert len(barcodes) == 1
    barcode = barcodes[0]
    assert barcode.format == zxingcpp.BarcodeFormat.Code128
    assert barcode.symbology_identifier == "]C1"
    assert barcode.content_type == zxingcpp.ContentType.GS1
    scan = parse_scan(scanned(barcode), today=TODAY)
    assert (scan.kind, scan.error, scan.needs_confirmation, scan.warnings) == ("gs1", None, False, ())
    assert (scan.gtin, scan.expiry, scan.lot) == (GTIN, EXPIRY, lot)
    assert [ai for ai, _ in scan.elements] == ["01", "17", "10"]


def test_lot_label_puts_the_lot_last_so_no_separator_is_needed() -> None:
    assert only_scan(lot_label(GTIN, EXPIRY, "AB-123", fmt="png")) == "]C101095011015300031727013110AB-123"


@pytest.mark.parametrize("expiry", [dt.date(2028, 2, 29), dt.date(2026, 3, 10), dt.date(2030, 12, 1)])
def test_lot_label_expiry_reads_back_as_the_same_day(expiry: dt.date) -> None:
    scan = parse_scan(only_scan(lot_label(GTIN, expiry, "L1", fmt="png")), today=TODAY)
    assert scan.expiry == expiry


@pytest.mark.parametrize("dpi", [150, 203, 300, 600])
def test_lot_label_png_decodes_at_label_printer_resolutions(dpi: int) -> None:
    png = lot_label(GTIN, EXPIRY, "AB-123", fmt="png", dpi=dpi)
    # PNG stores pixels per metre, so the dpi read back is rounded.
    assert Image.open(io.BytesIO(png)).info["dpi"] == pytest.approx((dpi, dpi), abs=0.1)
    assert parse_scan(only_scan(png), today=TODAY).lot == "AB-123"


def test_lot_label_svg_is_well_formed_with_the_interpretation_line_and_dates_for_staff() -> None:
    root = svg_root(lot_label(GTIN, EXPIRY, "AB-123", title="Syringe 5 ml"))
    assert svg_texts(root) == ["Syringe 5 ml", "(01)09501101530003(17)270131(10)AB-123",
                               "EXP 2027-01-31   LOT AB-123"]


def test_lot_label_svg_bars_decode_to_the_same_data_as_the_png() -> None:
    svg = lot_label(GTIN, EXPIRY, "A/B-1.2")
    barcodes = zxingcpp.read_barcodes(rasterize_bars(svg), text_mode=zxingcpp.TextMode.Plain)
    assert [scanned(b) for b in barcodes] == [only_scan(lot_label(GTIN, EXPIRY, "A/B-1.2", fmt="png"))]


def test_names_with_markup_or_control_characters_stay_text_in_svg() -> None:
    root = svg_root(lot_label(GTIN, EXPIRY, "L1", title='<script>alert("x")</script> &\x07bell'))
    assert not list(root.iter(f"{SVG}script"))
    title_lines = svg_texts(root)[:-2]  # wrapped to the label's width
    assert " ".join(title_lines) == '<script>alert("x")</script> & bell'
    assert root.find(f"{SVG}title").text.startswith("<script>")


FULLWIDTH_DIGITS = "".join(chr(0xFF10 + int(d)) for d in GTIN)  # str.isdigit() is True for these


@pytest.mark.parametrize("gtin", ["9501101530003", "09501101530004", "0950110153000A", FULLWIDTH_DIGITS, ""])
def test_lot_label_rejects_a_gtin_that_is_not_14_digits_with_its_check_digit(gtin: str) -> None:
    with pytest.raises(ValueError, match="GTIN"):
        lot_label(gtin, EXPIRY, "L1")


@pytest.mark.parametrize("lot", ["", "LOT 1", "A#1", "Ä1", "L" * 21, "A\x1dB", "A$1", "A@1", "[1]"])
def test_lot_label_rejects_a_lot_outside_gs1_ai_82(lot: str) -> None:
    with pytest.raises(ValueError, match="lot"):
        lot_label(GTIN, EXPIRY, lot, fmt="png")


def test_unknown_format_is_rejected() -> None:
    with pytest.raises(ValueError, match="format"):
        lot_label(GTIN, EXPIRY, "L1", fmt="pdf")  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None, database=None)
@given(lot=st.text(alphabet=sorted(AI82), min_size=1, max_size=20))
def test_any_ai_82_lot_round_trips_through_a_real_decoder(lot: str) -> None:
    scan = parse_scan(only_scan(lot_label(GTIN, EXPIRY, lot, fmt="png", dpi=203)), today=TODAY)
    assert (scan.gtin, scan.expiry, scan.lot, scan.error) == (GTIN, EXPIRY, lot, None)


# --- location labels ----------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["SR", "Fridge-2.Shelf_B", "A/1", "x" * 64])
def test_location_label_decodes_to_a_loc_command_for_the_code(code: str) -> None:
    raw = only_scan(location_label(code, "Stockroom", fmt="png"))
    assert raw == f"]C0#LOC:{code}"
    scan = parse_scan(raw, today=TODAY)
    assert (scan.kind, scan.command, scan.argument, scan.error) == ("command", "loc", code, None)


def test_location_label_svg_prints_the_name_and_the_command() -> None:
    root = svg_root(location_label("FR-2", "Vaccine fridge 2", "svg"))
    assert svg_texts(root) == ["Vaccine fridge 2", "#LOC:FR-2"]


def test_a_long_location_name_wraps_instead_of_widening_the_label() -> None:
    short = svg_root(location_label("FR-2", "Fridge", "svg"))
    long = svg_root(location_label("FR-2", "Vaccine refrigerator 2, second shelf from the top (pediatrics)", "svg"))
    assert long.get("width") == short.get("width")
    assert len(svg_texts(long)) > len(svg_texts(short))


@pytest.mark.parametrize("code", ["", "A B", "Küche", "x" * 65, "A:B", "#1"])
def test_location_label_rejects_a_code_the_loc_command_does_not_accept(code: str) -> None:
    assert parse_scan(f"#LOC:{code}", today=TODAY).error is not None
    with pytest.raises(ValueError, match="location code"):
        location_label(code, "Somewhere")


# --- command card -------------------------------------------------------------------------------

def test_command_card_holds_every_mode_done_and_quantity_command() -> None:
    commands = card_commands()
    assert {"#MODE:RECEIVE", "#MODE:CONSUME", "#MODE:COUNT", "#MODE:TRANSFER", "#DONE"} <= set(commands)
    assert any(re.fullmatch(r"#QTY:[0-9]+", c) for c in commands)


def test_every_command_on_the_card_png_decodes_and_parses() -> None:
    barcodes = decode(command_card("png"))
    raws = sorted(scanned(b) for b in barcodes)
    assert raws == sorted(f"]C0{c}" for c in card_commands())
    for raw in raws:
        scan = parse_scan(raw, today=TODAY)
        assert (scan.kind, scan.error) == ("command", None), raw
    parsed = {parse_scan(raw, today=TODAY).argument for raw in raws}
    assert {"receive", "consume", "count", "transfer"} <= parsed


def test_command_card_svg_is_one_page_that_fits_a4_and_letter() -> None:
    root = svg_root(command_card("svg"))
    width, height = (float(root.get(k, "").removesuffix("mm")) for k in ("width", "height"))
    assert width <= 200
    assert height <= 260
    texts = svg_texts(root)
    assert all(c in texts for c in card_commands())


def test_command_card_svg_bars_decode_like_the_png() -> None:
    barcodes = zxingcpp.read_barcodes(rasterize_bars(command_card("svg")), text_mode=zxingcpp.TextMode.Plain)
    assert sorted(scanned(b) for b in barcodes) == sorted(f"]C0{c}" for c in card_commands())


def test_command_card_quantities_can_be_chosen() -> None:
    barcodes = decode(command_card("png", quantities=(1, 24, 100_000)))
    assert {scanned(b) for b in barcodes} >= {"]C0#QTY:1", "]C0#QTY:24", "]C0#QTY:100000"}


@pytest.mark.parametrize("quantity", [0, -1, 100_001, 2.5, True])
def test_command_card_rejects_quantities_a_station_refuses(quantity: object) -> None:
    with pytest.raises(ValueError, match="quantities"):
        command_card(quantities=(quantity,))  # type: ignore[arg-type]
