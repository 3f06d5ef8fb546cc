"""Scanners (stations), scans (every frame and its outcome), barcode parsing and live station events."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from devices.barcodes import parse_scan

from ..services import scans as scan_service
from ..services import stations
from .events import scan_events
from .runtime import context, reader, runtime, writer
from .schemas.scanning import (
    EventsQuery,
    ParseIn,
    ParseOut,
    ResolveIn,
    ScannerList,
    ScannerOut,
    ScannerPatch,
    ScanOut,
    ScanPage,
    ScanQuery,
)
from .security import role

scanners = Blueprint("scanners", __name__, url_prefix="/api/v1/scanners", description="Scanner stations")
scans = Blueprint("scans", __name__, url_prefix="/api/v1/scans", description="Every scanned frame and its outcome")
barcodes = Blueprint("barcodes", __name__, url_prefix="/api/v1/barcodes", description="Barcode parsing")


def _scanner(uow: Any, scanner_id: str) -> dict[str, Any]:
    return next(s for s in stations.list_scanners(uow) if s["id"] == scanner_id)


@scanners.route("")
class Scanners(MethodView):
    @scanners.response(200, ScannerList)
    def get(self) -> dict[str, Any]:
        with reader() as uow:
            return {"items": stations.list_scanners(uow), "next": None}


@scanners.route("/<scanner_id>")
class ScannerById(MethodView):
    @scanners.response(200, ScannerOut)
    def get(self, scanner_id: str) -> dict[str, Any]:
        with reader() as uow:
            stations.get_scanner(uow, scanner_id)
            return _scanner(uow, scanner_id)

    @role("manager")
    @scanners.arguments(ScannerPatch, required=False)
    @scanners.response(200, ScannerOut)
    def patch(self, body: dict[str, Any], scanner_id: str) -> dict[str, Any]:
        """Move a station to another location or change its mode."""
        with writer() as uow:
            stations.update_scanner(uow, context(), scanner_id, **body)
            uow.commit()
            return _scanner(uow, scanner_id)


@scanners.route("/<scanner_id>/events")
class ScannerEvents(MethodView):
    @scanners.arguments(EventsQuery, location="query")
    @scanners.response(200, content_type="text/event-stream",
                       description="server-sent events: `state` (the station) and `scan` (each new scan)")
    def get(self, args: dict[str, Any], scanner_id: str) -> Response:
        """Live feed for the person scanning. Resumes after `Last-Event-ID` or `after`."""
        with reader() as uow:
            stations.get_scanner(uow, scanner_id)
        last = request.headers.get("Last-Event-ID", "")
        after = int(last) if last.isdigit() else args["after"]
        return scan_events(scanner_id, after, args["timeout"])


@scans.route("")
class Scans(MethodView):
    @scans.arguments(ScanQuery, location="query")
    @scans.response(200, ScanPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        with reader() as uow:
            page = scan_service.list_scans(uow, **args)
        return {"items": page.items, "next": page.next}


@scans.route("/<int:scan_id>")
class ScanById(MethodView):
    @scans.response(200, ScanOut)
    def get(self, scan_id: int) -> dict[str, Any]:
        with reader() as uow:
            return scan_service.scan_to_dict(scan_service.get_scan(uow, scan_id))


@scans.route("/<int:scan_id>/resolve")
class Resolve(MethodView):
    @role("manager")
    @scans.arguments(ResolveIn)
    @scans.response(200, ScanOut)
    def post(self, body: dict[str, Any], scan_id: int) -> dict[str, Any]:
        """Map a pending scan's GTIN (or HIBC code) to an item and apply the scan once."""
        with writer() as uow:
            scan = scan_service.resolve(uow, context(), scan_id, body["item_id"],
                                        receive_warn_days=runtime().settings.receive_warn_days)
            uow.commit()
            return scan_service.scan_to_dict(scan)


@barcodes.route("/parse")
class Parse(MethodView):
    @role("staff")
    @barcodes.arguments(ParseIn)
    @barcodes.response(200, ParseOut)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Parse a scan (GS as \\u001d) without applying anything."""
        return parse_scan(body["raw"], today=context().today).to_dict()
