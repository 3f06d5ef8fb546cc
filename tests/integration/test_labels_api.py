"""Label endpoints: lot labels (GS1-128), location labels and the command card, as SVG and PNG."""

from __future__ import annotations

import datetime as dt
import io
from xml.etree import ElementTree as ET

import pytest
import zxingcpp
from flask import Flask
from openapi_spec_validator import validate
from PIL import Image

from devices.barcodes import parse_scan
from devices.labels import card_commands
from inventory_service.api import labels
from tests.conftest import Api
from tests.integration.conftest import World, receive

TODAY = dt.date(2026, 3, 10)  # the frozen clock's day
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def app(app: Flask) -> Flask:
    """The app with the labels blueprint, also before inventory_service.api registers it itself."""
    if "labels" not in app.blueprints:
        app.extensions["flask-smorest"]["apis"][""]["ext_obj"].register_blueprint(labels.blp)
    return app


def scans(response) -> list[str]:
    """Decode a PNG answer as a scanner would send it: AIM identifier, then the data (GS for FNC1)."""
    image = Image.open(io.BytesIO(response.data))
    found = zxingcpp.read_barcodes(image, text_mode=zxingcpp.TextMode.Plain)
    return [b.symbology_identifier + b.text for b in found]


def texts(response) -> list[str]:
    root = ET.fromstring(response.data)
    assert root.tag == f"{SVG}svg"
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_lot_label_png_decodes_to_the_lots_gtin_expiry_and_number(api: Api, world: World):
    lot = receive(api, world, "AB-12/3", "2027-01-31", 5)["lot"]
    response = api.get(f"/api/v1/lots/{lot['id']}/label.png", role="staff", expect=200)
    assert response.mimetype == "image/png"
    (raw,) = scans(response)
    assert raw.startswith("]C1")
    scan = parse_scan(raw, today=TODAY)
    assert (scan.kind, scan.error, scan.needs_confirmation) == ("gs1", None, False)
    assert (scan.gtin, scan.expiry, scan.lot) == ("09501101530003", dt.date(2027, 1, 31), "AB-12/3")


def test_lot_label_svg_names_the_item_and_prints_the_interpretation_line(api: Api, world: World):
    lot = receive(api, world, "L7", "2027-01-31", 5)["lot"]
    response = api.get(f"/api/v1/lots/{lot['id']}/label.svg", expect=200)
    assert response.mimetype == "image/svg+xml"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert f'filename="lot-{lot["id"]}.svg"' in response.headers["Content-Disposition"]
    assert texts(response)[:2] == ["Syringe 5 ml", "(01)09501101530003(17)270131(10)L7"]


def test_lot_label_png_follows_the_printer_dpi(api: Api, world: World):
    lot = receive(api, world, "L7", "2027-01-31", 5)["lot"]
    response = api.get(f"/api/v1/lots/{lot['id']}/label.png?dpi=203", expect=200)
    assert Image.open(io.BytesIO(response.data)).info["dpi"] == pytest.approx((203, 203), abs=0.1)
    assert parse_scan(scans(response)[0], today=TODAY).lot == "L7"
    bad = api.get(f"/api/v1/lots/{lot['id']}/label.png?dpi=5000", expect=422)
    assert bad.json["error"]["code"] == "validation_failed"


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_lot_of_an_item_without_gtin_has_no_label(api: Api, world: World, fmt: str):
    lot = receive(api, world, "G1", "2027-01-31", 5, item=world.other_item)["lot"]
    error = api.get(f"/api/v1/lots/{lot['id']}/label.{fmt}", expect=409).json["error"]
    assert error["code"] == "no_gtin"
    assert error["details"] == {"item_id": world.other_item}
    assert error["message"]


def test_lot_number_gs1_cannot_carry_is_a_conflict(api: Api, world: World):
    lot = receive(api, world, "LOT 1", "2027-01-31", 5)["lot"]
    error = api.get(f"/api/v1/lots/{lot['id']}/label.svg", expect=409).json["error"]
    assert (error["code"], error["details"]) == ("lot_not_encodable", {"lot_number": "LOT 1"})


@pytest.mark.parametrize("path", ["/api/v1/lots/9999/label.svg", "/api/v1/lots/9999/label.png"])
def test_unknown_lot_is_404(api: Api, world: World, path: str):
    assert api.get(path, expect=404).json["error"]["code"] == "lot_not_found"


@pytest.mark.parametrize("path", ["/api/v1/lots/1/label.svg", "/api/v1/lots/1/label.png",
                                  "/api/v1/locations/1/label.svg", "/api/v1/command-card.svg",
                                  "/api/v1/command-card.png"])
def test_labels_need_a_token(api: Api, path: str):
    response = api.get(path, role="", expect=401)
    assert response.json["error"]["code"] == "unauthorized"


def test_location_label_png_decodes_to_its_loc_command(api: Api, world: World):
    response = api.get(f"/api/v1/locations/{world.clinic}/label.png", role="staff", expect=200)
    assert response.mimetype == "image/png"
    assert scans(response) == ["]C0#LOC:EX1"]
    scan = parse_scan("]C0#LOC:EX1", today=TODAY)
    assert (scan.command, scan.argument) == ("loc", "EX1")


def test_location_label_svg_prints_name_and_command(api: Api, world: World):
    response = api.get(f"/api/v1/locations/{world.stockroom}/label.svg", expect=200)
    assert response.mimetype == "image/svg+xml"
    assert texts(response) == ["Stockroom", "#LOC:SR"]
    assert api.get("/api/v1/locations/9999/label.svg", expect=404).json["error"]["code"] == "location_not_found"


def test_command_card_svg_lists_every_command(api: Api):
    response = api.get("/api/v1/command-card.svg", role="staff", expect=200)
    assert response.mimetype == "image/svg+xml"
    assert set(card_commands()) <= set(texts(response))


def test_command_card_png_decodes_to_every_command(api: Api):
    response = api.get("/api/v1/command-card.png", expect=200)
    assert sorted(scans(response)) == sorted(f"]C0{c}" for c in card_commands())


def test_label_routes_are_documented_with_their_image_types(api: Api):
    spec = api.client.get("/api/v1/openapi.json").get_json()
    validate(spec)
    for path, media in [("/api/v1/lots/{lot_id}/label.svg", "image/svg+xml"),
                        ("/api/v1/lots/{lot_id}/label.png", "image/png"),
                        ("/api/v1/locations/{location_id}/label.svg", "image/svg+xml"),
                        ("/api/v1/locations/{location_id}/label.png", "image/png"),
                        ("/api/v1/command-card.svg", "image/svg+xml"),
                        ("/api/v1/command-card.png", "image/png")]:
        responses = spec["paths"][path]["get"]["responses"]
        assert media in responses["200"]["content"], path
    assert "409" in spec["paths"]["/api/v1/lots/{lot_id}/label.png"]["get"]["responses"]
