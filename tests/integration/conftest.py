"""A small catalogue most stock tests start from."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.conftest import Api


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
