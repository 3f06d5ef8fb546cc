"""A small catalogue most stock tests start from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from devices.barcodes import parse_scan
from devices.serial import ScannerConfig
from inventory_service.db.uow import Database
from inventory_service.services import scans, stations
from inventory_service.services.context import Context
from tests.conftest import Api
from tests.support.clock import FrozenClock


@dataclass
class World:
    item: int
    other_item: int
    stockroom: int
    clinic: int


@pytest.fixture
def world(api: Api) -> World:
    item = api.post("/api/v1/items", {"name": "Syringe 5 ml", "gtins": ["09501101530003"]}, expect=201).json["id"]
    other = api.post("/api/v1/items", {"name": "Gauze pad", "sku": "GZ-1"}, expect=201).json["id"]
    sr = api.post("/api/v1/locations", {"code": "SR", "name": "Stockroom", "kind": "stockroom"}, expect=201)
    cr = api.post("/api/v1/locations", {"code": "EX1", "name": "Exam room 1", "kind": "clinic_room"}, expect=201)
    return World(item, other, sr.json["id"], cr.json["id"])


def receive(api: Api, w: World, lot: str, expiry: str, qty: int, *, location: int | None = None,
            item: int | None = None) -> dict:
    return api.post("/api/v1/stock/receive", {
        "item_id": item or w.item, "location_id": location or w.stockroom, "lot_number": lot, "expiry": expiry,
        "quantity": qty,
    }, role="staff", expect=201).json


def receive_then_age(api: Api, w: World, clock: FrozenClock, lot: str, expiry: str, qty: int, **kw: Any) -> dict:
    """Stock of a lot that has expired on the shelf: received while it was still good (a lot past its
    expiry is refused at receipt), with the clock then put back to now."""
    now = clock()
    clock.set(datetime.combine(date.fromisoformat(expiry), time(15, 0), tzinfo=UTC))
    try:
        return receive(api, w, lot, expiry, qty, **kw)
    finally:
        clock.set(now)


@pytest.fixture(name="scan")
def station_scan(db: Database, ctx: Callable[..., Context], world: World) -> Callable[[str], dict[str, Any]]:
    """A receive station `sr-1` at the stockroom; calling it records one frame as the scanner ingest does
    and answers the scan row as the API shows it."""
    with db.unit_of_work() as uow:
        stations.register(uow, ctx("setup"), ScannerConfig(id="sr-1", url="loop://", location="SR", mode="receive"))
        uow.commit()

    def do(text: str) -> dict[str, Any]:
        c = ctx("station:sr-1", "station")
        with db.unit_of_work() as uow:
            row = scans.record(uow, c, "sr-1", parse_scan(text, today=c.today))
            uow.commit()
            return scans.scan_to_dict(row)
    return do
