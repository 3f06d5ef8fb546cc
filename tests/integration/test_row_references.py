"""Every id a request names must be a row: one that does not exist answers 404 (or 422) and leaves
nothing behind, whichever endpoint names it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from inventory_service.db.uow import Database
from inventory_service.services.context import Context
from tests.conftest import Api
from tests.integration.conftest import World
from tests.support.catalogue import Catalogue, seed_catalogue
from tests.support.clock import FrozenClock

NONE = 987_654  # within the id range, and no row has it
LISTS = ("/api/v1/items", "/api/v1/locations", "/api/v1/stock", "/api/v1/lots", "/api/v1/movements",
         "/api/v1/par-levels", "/api/v1/storage-units", "/api/v1/sensors", "/api/v1/alarms", "/api/v1/equipment",
         "/api/v1/maintenance-plans", "/api/v1/tickets", "/api/v1/routing-rules", "/api/v1/scanners",
         "/api/v1/scans", "/api/v1/alerts")


@pytest.fixture
def catalogue(api: Api, world: World, db: Database, clock: FrozenClock, ctx: Callable[..., Context]) -> Catalogue:
    clock.set(datetime(2026, 12, 7, 15, 0, tzinfo=UTC))
    return seed_catalogue(api, world, db, clock, ctx)


def snapshot(api: Api) -> dict[str, Any]:
    return {path: api.get(path, expect=200).json for path in LISTS}


def requests(w: World, c: Catalogue) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, body) naming one missing row each; everything else in the body is valid."""
    move = {"item_id": w.item, "location_id": w.stockroom, "quantity": 1}
    lot = {"item_id": w.item, "location_id": w.stockroom, "lot_id": c.lot}
    receipt = {"item_id": w.item, "location_id": w.stockroom, "lot_number": "N1", "expiry": "2027-05-31",
               "quantity": 1}
    return [
        ("POST", "/api/v1/stock/receive", {**receipt, "item_id": NONE}),
        ("POST", "/api/v1/stock/receive", {**receipt, "location_id": NONE}),
        ("POST", "/api/v1/stock/consume", {**move, "item_id": NONE}),
        ("POST", "/api/v1/stock/consume", {**move, "location_id": NONE}),
        ("POST", "/api/v1/stock/consume", {**move, "lot_id": NONE}),
        ("POST", "/api/v1/stock/transfer", {**move, "to_location_id": NONE}),
        ("POST", "/api/v1/stock/transfer", {**move, "to_location_id": w.clinic, "lot_id": NONE}),
        ("POST", "/api/v1/stock/adjust", {**lot, "lot_id": NONE, "quantity": 1, "reason": "found"}),
        ("POST", "/api/v1/stock/adjust", {**lot, "location_id": NONE, "quantity": 1, "reason": "found"}),
        ("POST", "/api/v1/stock/count", {**lot, "lot_id": NONE, "counted_quantity": 3}),
        ("POST", "/api/v1/stock/count", {**lot, "location_id": NONE, "counted_quantity": 3}),
        ("POST", "/api/v1/stock/dispose", {**lot, "item_id": NONE, "quantity": 1, "reason": "broken"}),
        ("POST", "/api/v1/stock/dispose", {**lot, "location_id": NONE, "quantity": 1, "reason": "broken"}),
        ("POST", "/api/v1/par-levels", {"item_id": NONE, "location_id": w.clinic, "reorder_point": 1,
                                        "order_up_to": 2}),
        ("POST", "/api/v1/par-levels", {"item_id": w.other_item, "location_id": NONE, "reorder_point": 1,
                                        "order_up_to": 2}),
        ("POST", "/api/v1/recalls", {"item_id": NONE, "lot_numbers": ["L1"], "reason": "maker's notice"}),
        ("POST", "/api/v1/storage-units", {"name": "Freezer", "kind": "freezer", "location_id": NONE}),
        ("POST", "/api/v1/sensors", {"id": "probe-9", "storage_unit_id": NONE}),
        ("POST", "/api/v1/equipment", {"id": "fr-9", "kind": "refrigerator", "name": "F", "location_id": NONE}),
        ("POST", "/api/v1/equipment", {"id": "fr-9", "kind": "refrigerator", "name": "F", "storage_unit_id": NONE}),
        ("POST", "/api/v1/equipment", {"id": "fr-9", "kind": "refrigerator", "name": "F", "sensor_id": "no-such"}),
        ("POST", "/api/v1/maintenance-plans", {"equipment_id": "no-such", "name": "Service", "every": 30}),
        ("POST", "/api/v1/routing-rules", {"channel": "mqtt", "location_id": NONE}),
        ("PATCH", f"/api/v1/routing-rules/{c.rule}", {"location_id": NONE}),
        ("PATCH", "/api/v1/scanners/sr-1", {"location_id": NONE}),
        ("POST", f"/api/v1/excursions/{c.excursion}/dispositions", {"lot_id": NONE, "disposition": "discard"}),
        ("POST", f"/api/v1/excursions/{c.excursion}/dispositions", {"lot_id": c.held_lot, "disposition": "discard",
                                                                   "location_id": NONE}),
        ("POST", f"/api/v1/scans/{c.scan}/resolve", {"item_id": NONE}),
    ]


def test_a_missing_row_is_refused_and_nothing_is_stored(api: Api, world: World, catalogue: Catalogue):
    before = snapshot(api)
    answers = []
    for method, path, body in requests(world, catalogue):
        r = api.call(method, path, json=body)
        answers.append((method, path, body, r.status_code, (r.get_json() or {}).get("error", {}).get("code")))
    wrong = [a for a in answers if a[3] not in (404, 422)]
    assert wrong == []
    named = [a for a in answers if (a[4] or "").endswith("_not_found") or (a[4] or "").startswith("unknown_")]
    assert len(named) == len(answers), [a for a in answers if a not in named]
    assert snapshot(api) == before


def test_the_catalogue_ids_are_real(api: Api, world: World, catalogue: Catalogue):
    """The references above fail for the missing id alone: with the catalogue's ids they pass."""
    api.post("/api/v1/stock/consume", {"item_id": world.item, "location_id": world.stockroom, "quantity": 1,
                                       "lot_id": catalogue.lot}, role="staff", expect=201)
    api.call("PATCH", "/api/v1/scanners/sr-1", json={"location_id": world.clinic}, role="manager", expect=200)
    api.post(f"/api/v1/scans/{catalogue.scan}/resolve", {"item_id": world.other_item}, role="manager", expect=200)
    api.post(f"/api/v1/excursions/{catalogue.excursion}/dispositions",
             {"lot_id": catalogue.held_lot, "disposition": "discard", "location_id": catalogue.unit_location},
             role="manager", expect=201)
