"""The scanners resource, barcode parsing over HTTP, and the per-scanner event stream."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from devices.barcodes import parse_scan
from devices.serial import ScannerConfig
from inventory_service.db.uow import Database
from inventory_service.services import scans, stations
from inventory_service.services.context import Context
from tests.conftest import Api
from tests.integration.conftest import World


@pytest.fixture
def station(db: Database, ctx: Callable[..., Context], world: World) -> Callable[[str], int]:
    with db.unit_of_work() as uow:
        stations.register(uow, ctx("setup"), ScannerConfig(id="sr-1", url="/dev/serial/by-id/usb-x", location="SR",
                                                           baudrate=19200, parity="O", bytesize=7))
        uow.commit()

    def scan(text: str) -> int:
        c = ctx("station:sr-1", "station")
        with db.unit_of_work() as uow:
            row = scans.record(uow, c, "sr-1", parse_scan(text, today=c.today))
            uow.commit()
            return row.id
    return scan


def test_scanners_are_listed_with_their_port_settings_and_state(api: Api, station, world: World):
    [s] = api.get("/api/v1/scanners", expect=200).json["items"]
    assert (s["id"], s["location_code"], s["mode"], s["port_state"]) == ("sr-1", "SR", "receive", "unknown")
    assert s["port_settings"]["baudrate"] == 19200 and s["port_settings"]["parity"] == "O"
    assert api.get("/api/v1/scanners/nope", expect=404).json["error"]["code"] == "scanner_not_found"


def test_a_manager_moves_a_station_and_changes_its_mode(api: Api, station, world: World):
    api.call("PATCH", "/api/v1/scanners/sr-1", role="staff", json={"mode": "consume"}, expect=403)
    s = api.call("PATCH", "/api/v1/scanners/sr-1", role="manager",
                 json={"mode": "consume", "location_id": world.clinic}, expect=200).json
    assert (s["mode"], s["home_mode"], s["location_code"]) == ("consume", "consume", "EX1")


def test_a_station_keeps_its_edited_location_when_the_configuration_is_loaded_again(
        api: Api, station, world: World, db: Database, ctx):
    api.call("PATCH", "/api/v1/scanners/sr-1", role="manager", json={"location_id": world.clinic}, expect=200)
    with db.unit_of_work() as uow:
        stations.register(uow, ctx("setup"), ScannerConfig(id="sr-1", url="/dev/ttyACM1", location="SR"))
        uow.commit()
    s = api.get("/api/v1/scanners/sr-1", expect=200).json
    assert (s["location_code"], s["url"]) == ("EX1", "/dev/ttyACM1")


def test_parse_endpoint_reads_without_applying(api: Api):
    r = api.post("/api/v1/barcodes/parse", {"raw": "]C1011231231231233310ABC123\u001d99TESTING"}, role="staff",
                 expect=200).json
    assert (r["kind"], r["gtin"], r["lot"], r["symbology"], r["elements"]["99"]) == (
        "gs1", "12312312312333", "ABC123", "]C1", "TESTING")
    hibc = api.post("/api/v1/barcodes/parse", {"raw": "+A123BJC5D6E71G"}, role="staff", expect=200).json
    assert (hibc["kind"], hibc["lic"], hibc["pcn"], hibc["error"]) == ("hibc", "A123", "BJC5D6E7", None)
    assert api.get("/api/v1/movements", expect=200).json["items"] == []


def test_parse_endpoint_reports_bad_input_without_failing(api: Api):
    r = api.post("/api/v1/barcodes/parse", {"raw": "+A123BJC5D6E71X"}, role="staff", expect=200).json
    assert (r["kind"], r["error"]) == ("hibc", "bad_check_character")
    assert api.post("/api/v1/barcodes/parse", {"raw": ""}, role="staff", expect=422).json["error"]["code"] == \
        "validation_failed"


def _events(body: bytes) -> list[tuple[str, dict]]:
    out = []
    for block in body.decode().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "event" in lines:
            out.append((lines["event"], json.loads(lines["data"])))
    return out


def test_the_event_stream_sends_the_station_state_and_new_scans(api: Api, station):
    first = station("#MODE:CONSUME")
    station("garbage!")
    r = api.get("/api/v1/scanners/sr-1/events?timeout=0.5", expect=200)
    assert r.mimetype == "text/event-stream"
    events = _events(r.data)
    assert events[0][0] == "state" and events[0][1]["mode"] == "consume"
    assert [(e[1]["outcome"], e[1]["reason"]) for e in events[1:]] == [("command", None), ("rejected", "unparseable")]
    resumed = api.get("/api/v1/scanners/sr-1/events?timeout=0.5", headers={"Last-Event-ID": str(first)})
    assert [e[1]["reason"] for e in _events(resumed.data) if e[0] == "scan"] == ["unparseable"]


def test_the_event_stream_needs_a_token(client, station):
    assert client.get("/api/v1/scanners/sr-1/events?timeout=0.2").status_code == 401
