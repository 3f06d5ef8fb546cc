"""Holds belong to the exposed stock where it is, and decisions are records (clock: New York).

The walkthrough: MMR55 has 5 vials in Vaccine fridge A and 1 in the stockroom; the fridge goes to
14.8 °C. The fridge's vials are held, the stockroom's vial stays usable; a release while the fridge
is still out of range is refused; each decision keeps the exposure it was taken on.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from inventory_service.db.uow import Database
from tests.conftest import Api
from tests.integration.conftest import World, receive
from tests.support import coldchain
from tests.support.clock import FrozenClock

NY = ZoneInfo("America/New_York")
T0 = datetime(2026, 3, 10, 15, 10, tzinfo=UTC)


def feed(db: Database, clock: FrozenClock, temps: list[float], start: datetime = T0, seq0: int = 0) -> None:
    coldchain.feed(db, clock, temps, start=start, seq0=seq0, sensor="probe-a")


@pytest.fixture
def fridge(api: Api, world: World) -> dict:
    unit = api.post("/api/v1/storage-units", {"name": "Vaccine fridge A", "kind": "refrigerator"}, role="manager",
                    expect=201).json
    api.post("/api/v1/sensors", {"id": "probe-a", "storage_unit_id": unit["id"]}, role="manager", expect=201)
    mmr = api.post("/api/v1/items", {"name": "MMR vaccine", "storage": "refrigerated"}, role="manager",
                   expect=201).json["id"]
    lot = receive(api, world, "MMR55", "2027-01-31", 5, location=unit["location_id"], item=mmr)["lot"]["id"]
    receive(api, world, "MMR55", "2027-01-31", 1, location=world.stockroom, item=mmr)
    return {"unit": unit["id"], "fridge": unit["location_id"], "item": mmr, "lot": lot}


def excursion(api: Api, fridge: dict) -> dict:
    [ex] = api.get(f"/api/v1/storage-units/{fridge['unit']}/excursions?from=2026-03-10&to=2026-03-10",
                   expect=200).json["items"]
    return ex


def stock(api: Api, item: int) -> dict[int, tuple[int, str]]:
    rows = api.get(f"/api/v1/stock?item_id={item}", expect=200).json["items"]
    return {r["location_id"]: (r["quantity"], r["status"]) for r in rows}


def consume(api: Api, fridge: dict, location: int, expect: int, lot: bool = False) -> dict:
    body = {"item_id": fridge["item"], "location_id": location, "quantity": 1}
    return api.post("/api/v1/stock/consume", {**body, **({"lot_id": fridge["lot"]} if lot else {})}, role="staff",
                    expect=expect).json


def test_an_excursion_holds_the_stock_in_the_fridge_and_not_the_lot_elsewhere(api: Api, db: Database,
                                                                              clock: FrozenClock, world: World,
                                                                              fridge: dict):
    feed(db, clock, [5.0] * 2 + [14.8] * 8)  # 40 minutes high and going on
    assert stock(api, fridge["item"]) == {fridge["fridge"]: (5, "hold"), world.stockroom: (1, "available")}
    assert consume(api, fridge, fridge["fridge"], 409, lot=True)["error"]["code"] == "lot_unavailable"
    assert consume(api, fridge, fridge["fridge"], 409)["error"]["code"] == "insufficient_stock"  # FEFO: none usable
    consume(api, fridge, world.stockroom, 201, lot=True)  # the stockroom's vial was never exposed
    lot = api.get(f"/api/v1/lots/{fridge['lot']}", expect=200).json
    assert (lot["status"], lot["held_at"]) == ("available", [fridge["fridge"]])
    assert [x["lot_number"] for x in api.get("/api/v1/lots?status=hold", expect=200).json["items"]] == ["MMR55"]
    [place] = excursion(api, fridge)["affected_lots"]
    assert (place["location_id"], place["item_name"], place["quantity"], place["lot_status"]) == (
        fridge["fridge"], "MMR vaccine", 5, "hold")


def test_a_release_is_refused_while_the_excursion_goes_on_and_each_decision_keeps_its_exposure(
        api: Api, db: Database, clock: FrozenClock, world: World, fridge: dict):
    feed(db, clock, [5.0] * 2 + [14.8] * 7)  # high from +10 min; 35 minutes and going on
    ex = excursion(api, fridge)
    assert ex["ongoing"] and ex["duration_min"] == 35
    path = f"/api/v1/excursions/{ex['id']}/dispositions"
    refused = api.post(path, {"lot_id": fridge["lot"], "disposition": "release"}, role="manager", expect=409).json
    assert refused["error"]["code"] == "excursion_ongoing"
    assert consume(api, fridge, fridge["fridge"], 409, lot=True)["error"]["code"] == "lot_unavailable"
    asked = api.post(path, {"lot_id": fridge["lot"], "disposition": "ask_manufacturer", "notes": "called Merck",
                            "manufacturer_reference": "case 4711"}, role="manager", expect=201).json
    assert (asked["disposition"], asked["exposure_min"], asked["excursion_ongoing"], asked["lot_status"]) == (
        "pending_manufacturer", 35, True, "hold")
    feed(db, clock, [14.8] * 2 + [5.0] * 3, start=T0 + timedelta(minutes=45), seq0=9)  # ends at +55: 45 minutes
    ex = excursion(api, fridge)
    assert (ex["ongoing"], ex["duration_min"]) == (False, 45)
    clock.advance(minutes=10)
    done = api.post(path, {"lot_id": fridge["lot"], "disposition": "release", "notes": "stability data OK"},
                    role="manager", expect=201).json
    assert (done["exposure_min"], done["excursion_ongoing"], done["lot_status"]) == (45, False, "available")
    consume(api, fridge, fridge["fridge"], 201, lot=True)
    [place] = excursion(api, fridge)["affected_lots"]
    assert [(d["disposition"], d["exposure_min"], d["excursion_ongoing"], d["decided_by"], d["notes"])
            for d in place["decisions"]] == [
        ("pending_manufacturer", 35, True, "manager-token", "called Merck"),
        ("release", 45, False, "manager-token", "stability data OK")]
    assert place["decisions"][0]["manufacturer_reference"] == "case 4711"
    # The inspector's CSV: one row per decision, with the item's name, when, who, notes and the exposure then.
    text = api.get(f"/api/v1/storage-units/{fridge['unit']}/excursions?from=2026-03-10&to=2026-03-10&format=csv",
                   expect=200).data.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["item_name"], r["lot_number"], r["decision"], r["exposure_at_decision_min"], r["decided_by"],
             r["notes"]) for r in rows] == [
        ("MMR vaccine", "MMR55", "pending_manufacturer", "35.0", "manager-token", "called Merck"),
        ("MMR vaccine", "MMR55", "release", "45.0", "manager-token", "stability data OK")]
    assert datetime.fromisoformat(rows[0]["decided_at"]) < datetime.fromisoformat(rows[1]["decided_at"])


def test_discard_disposes_of_the_exposed_stock_only_and_the_stockroom_vial_stays_usable(
        api: Api, db: Database, clock: FrozenClock, world: World, fridge: dict):
    api.post("/api/v1/par-levels", {"item_id": fridge["item"], "location_id": world.stockroom, "reorder_point": 0,
                                     "order_up_to": 4}, role="manager", expect=201)
    feed(db, clock, [5.0] * 2 + [14.8] * 8 + [5.0] * 2)
    ex = excursion(api, fridge)
    out = api.post(f"/api/v1/excursions/{ex['id']}/dispositions", {"lot_id": fridge["lot"], "disposition": "discard"},
                   role="manager", expect=201).json
    assert len(out["movement_ids"]) == 1
    [m] = api.get("/api/v1/movements?kind=dispose", expect=200).json["items"]
    assert (m["location_id"], m["quantity"]) == (fridge["fridge"], -5)
    assert stock(api, fridge["item"]) == {world.stockroom: (1, "available")}
    assert api.get(f"/api/v1/lots/{fridge['lot']}", expect=200).json["status"] == "available"
    again = api.post(f"/api/v1/excursions/{ex['id']}/dispositions", {"lot_id": fridge["lot"],
                                                                      "disposition": "release"},
                     role="manager", expect=409)
    assert again.json["error"]["code"] == "already_decided"
    consume(api, fridge, world.stockroom, 201)  # FEFO finds the stockroom's vial
    assert stock(api, fridge["item"]) == {}


def test_reorder_figures_count_held_stock_as_on_hold_only_where_it_is_held(api: Api, db: Database,
                                                                          clock: FrozenClock, world: World,
                                                                          fridge: dict):
    for location in (world.stockroom, fridge["fridge"]):
        api.post("/api/v1/par-levels", {"item_id": fridge["item"], "location_id": location, "reorder_point": 2,
                                         "order_up_to": 10}, role="manager", expect=201)
    feed(db, clock, [5.0] * 2 + [14.8] * 8 + [5.0] * 2)
    rows = {s["location_id"]: s for s in api.get("/api/v1/reorder-suggestions", expect=200).json["items"]}
    assert (rows[fridge["fridge"]]["usable_quantity"], rows[fridge["fridge"]]["on_hold_quantity"]) == (0, 5)
    assert (rows[world.stockroom]["usable_quantity"], rows[world.stockroom]["on_hold_quantity"]) == (1, 0)


def test_held_stock_moved_to_another_fridge_stays_held_there(api: Api, db: Database, clock: FrozenClock,
                                                             world: World, fridge: dict):
    backup = api.post("/api/v1/storage-units", {"name": "Backup fridge", "kind": "refrigerator"}, role="manager",
                      expect=201).json["location_id"]
    feed(db, clock, [5.0] * 2 + [14.8] * 8)
    api.post("/api/v1/stock/transfer", {"item_id": fridge["item"], "location_id": fridge["fridge"],
                                        "to_location_id": backup, "lot_id": fridge["lot"], "quantity": 3},
             role="staff", expect=201)
    assert stock(api, fridge["item"]) == {fridge["fridge"]: (2, "hold"), world.stockroom: (1, "available"),
                                          backup: (3, "hold")}
    places = {p["location_id"]: p for p in excursion(api, fridge)["affected_lots"]}
    assert places[backup]["quantity"] == 3
    path = f"/api/v1/excursions/{excursion(api, fridge)['id']}/dispositions"
    api.post(path, {"lot_id": fridge["lot"], "disposition": "discard", "location_id": backup}, role="manager",
             expect=201)
    assert stock(api, fridge["item"]) == {fridge["fridge"]: (2, "hold"), world.stockroom: (1, "available")}


def test_stock_moved_out_before_the_late_readings_arrived_is_held_where_it_went(api: Api, db: Database,
                                                                                clock: FrozenClock, world: World,
                                                                                fridge: dict):
    clock.set(T0 + timedelta(minutes=30))  # during the excursion (its readings are not in yet)
    api.post("/api/v1/stock/transfer", {"item_id": fridge["item"], "location_id": fridge["fridge"],
                                        "to_location_id": world.clinic, "lot_id": fridge["lot"], "quantity": 2},
             role="staff", expect=201)
    feed(db, clock, [5.0] * 2 + [14.8] * 8 + [5.0] * 2)  # the logger's backfill
    assert stock(api, fridge["item"]) == {fridge["fridge"]: (3, "hold"), world.stockroom: (1, "available"),
                                          world.clinic: (2, "hold")}
    places = {p["location_id"]: p for p in excursion(api, fridge)["affected_lots"]}
    assert (places[world.clinic]["quantity"], places[fridge["fridge"]]["quantity"]) == (2, 5)
    assert places[world.clinic]["exposure_min"] == 20  # high from +10, moved at +30
