"""Printable labels: GS1-128 lot labels, location labels and the scanner command card (SVG, PNG).

Reads only, so any valid token may print. The data is read in a unit of work; drawing happens
after it is closed (devices.labels is pure).
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from devices import labels

from ..domain.errors import Conflict
from ..services import catalog, stock_queries
from .runtime import reader
from .schemas.common import ErrorSchema, Strict

blp = Blueprint("labels", __name__, url_prefix="/api/v1", description="Printable labels and the command card")

SVG, PNG = "image/svg+xml", "image/png"
BINARY = {"type": "string", "format": "binary"}  # documents the body; views return a Response as is
MAX_PNG_DPI = 600  # an A4 card at 600 dpi is ~5000 x 5200 pixels; more is no use on paper


class PngQuery(Strict):
    dpi = fields.Integer(load_default=labels.DEFAULT_DPI, validate=validate.Range(labels.MIN_DPI, MAX_PNG_DPI),
                         metadata={"description": "PNG only: the printer's dots per inch (bars snap to whole dots)"})


def _image(body: bytes, fmt: labels.Format, name: str) -> Response:
    response = Response(body, mimetype=SVG if fmt == "svg" else PNG)
    response.headers["Content-Disposition"] = f'inline; filename="{name}.{fmt}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def lot_label(lot_id: int, fmt: labels.Format, dpi: int = labels.DEFAULT_DPI) -> Response:
    """The lot's GS1-128 label with the item's first GTIN; 409 no_gtin / lot_not_encodable."""
    with reader() as uow:
        lot = stock_queries.get_lot(uow, lot_id)
        item = catalog.get_item(uow, lot.item_id)
        gtins = [g.gtin for g in item.gtins]
        item_id, name, number, expiry = item.id, item.name, lot.lot_number, lot.expiry
    if not gtins:
        raise Conflict(f"item {item_id} has no GTIN, so its lots cannot have a GS1 label", code="no_gtin",
                       details={"item_id": item_id})
    try:
        body = labels.lot_label(gtins[0], expiry, number, fmt=fmt, title=name, dpi=dpi)
    except ValueError as exc:
        # AI (10) carries 1-20 characters of GS1's AI-82 set (GS1 GenSpecs 3.2 and 7.11).
        raise Conflict(f"lot number {number!r} cannot be carried by a GS1 barcode: {exc}",
                       code="lot_not_encodable", details={"lot_number": number}) from exc
    return _image(body, fmt, f"lot-{lot_id}")


def location_label(location_id: int, fmt: labels.Format, dpi: int = labels.DEFAULT_DPI) -> Response:
    """The location's `#LOC:<code>` label; 409 location_not_encodable for a code stations refuse."""
    with reader() as uow:
        location = catalog.get_location(uow, location_id)
        code, name = location.code, location.name
    try:
        body = labels.location_label(code, name, fmt, dpi=dpi)
    except ValueError as exc:
        raise Conflict(f"location code {code!r} cannot be printed as a #LOC command: {exc}",
                       code="location_not_encodable", details={"code": code}) from exc
    return _image(body, fmt, f"location-{location_id}")


LOT_409 = "no_gtin (the item has no GTIN) or lot_not_encodable (not 1-20 GS1 AI-82 characters)"


@blp.route("/lots/<int:lot_id>/label.svg")
class LotLabelSvg(MethodView):
    @blp.response(200, BINARY, content_type=SVG, description="GS1-128 label: (01) GTIN, (17) expiry, (10) lot")
    @blp.alt_response(404, schema=ErrorSchema, description="lot_not_found")
    @blp.alt_response(409, schema=ErrorSchema, description=LOT_409)
    def get(self, lot_id: int) -> Response:
        """A lot's GS1-128 label as SVG (true size in mm), with the item's first GTIN."""
        return lot_label(lot_id, "svg")


@blp.route("/lots/<int:lot_id>/label.png")
class LotLabelPng(MethodView):
    @blp.arguments(PngQuery, location="query")
    @blp.response(200, BINARY, content_type=PNG, description="GS1-128 label: (01) GTIN, (17) expiry, (10) lot")
    @blp.alt_response(404, schema=ErrorSchema, description="lot_not_found")
    @blp.alt_response(409, schema=ErrorSchema, description=LOT_409)
    def get(self, args: dict[str, Any], lot_id: int) -> Response:
        """A lot's GS1-128 label as PNG at `dpi`, with the item's first GTIN."""
        return lot_label(lot_id, "png", args["dpi"])


@blp.route("/locations/<int:location_id>/label.svg")
class LocationLabelSvg(MethodView):
    @blp.response(200, BINARY, content_type=SVG, description="Code 128 label carrying #LOC:<code>")
    @blp.alt_response(404, schema=ErrorSchema, description="location_not_found")
    @blp.alt_response(409, schema=ErrorSchema, description="location_not_encodable")
    def get(self, location_id: int) -> Response:
        """A location's label as SVG: scanned in transfer mode it chooses the destination."""
        return location_label(location_id, "svg")


@blp.route("/locations/<int:location_id>/label.png")
class LocationLabelPng(MethodView):
    @blp.arguments(PngQuery, location="query")
    @blp.response(200, BINARY, content_type=PNG, description="Code 128 label carrying #LOC:<code>")
    @blp.alt_response(404, schema=ErrorSchema, description="location_not_found")
    @blp.alt_response(409, schema=ErrorSchema, description="location_not_encodable")
    def get(self, args: dict[str, Any], location_id: int) -> Response:
        """A location's label as PNG: scanned in transfer mode it chooses the destination."""
        return location_label(location_id, "png", args["dpi"])


@blp.route("/command-card.svg")
class CommandCardSvg(MethodView):
    @blp.response(200, BINARY, content_type=SVG, description="One page of Code 128 command barcodes")
    def get(self) -> Response:
        """The scanner command card as SVG: every #MODE command, #DONE and #QTY presets."""
        return _image(labels.command_card("svg"), "svg", "command-card")


@blp.route("/command-card.png")
class CommandCardPng(MethodView):
    @blp.arguments(PngQuery, location="query")
    @blp.response(200, BINARY, content_type=PNG, description="One page of Code 128 command barcodes")
    def get(self, args: dict[str, Any]) -> Response:
        """The scanner command card as PNG at `dpi`: every #MODE command, #DONE and #QTY presets."""
        return _image(labels.command_card("png", dpi=args["dpi"]), "png", "command-card")
