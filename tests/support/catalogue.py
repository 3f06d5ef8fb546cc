"""One of everything, for tests that reach the whole API (the fuzzer, the row-reference checks)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from devices.barcodes import parse_scan
from devices.mqtt import EquipmentCycle, TemperatureReading
from devices.serial import ScannerConfig
from inventory_service.db.uow import Database
from inventory_service.services import cold_evaluation, cycles, maintenance, readings, scans, stations
from inventory_service.services.context import Context
from tests.conftest import Api
from tests.integration.conftest import World, receive
from tests.support.clock import FrozenClock


@dataclass(frozen=True)
class Catalogue:
    unit: int
    unit_location: int
    lot: int
    held_lot: int
    excursion: int
    scan: int
    rule: int


def seed_catalogue(api: Api, world: World, db: Database, clock: FrozenClock, ctx: Callable[..., Context]) -> Catalogue:
    """One of everything, so generated ids and links reach real rows: items, locations, lots, a
    par level (and its reorder alert), a fridge with a sensor, an excursion and its alarm and holds,
    an autoclave with a plan, a ticket and cycles, a routing rule, a station with a pending scan."""
    lot = receive(api, world, "L1", "2027-01-31", 10)["lot"]["id"]
    receive(api, world, "L2", "2027-06-30", 5, location=world.clinic)
    api.post("/api/v1/par-levels", {"item_id": world.item, "location_id": world.stockroom, "reorder_point": 20,
                                     "order_up_to": 50}, role="manager", expect=201)
    unit = api.post("/api/v1/storage-units", {"name": "Vaccine fridge", "kind": "refrigerator"}, role="manager",
                    expect=201).json
    api.post("/api/v1/sensors", {"id": "probe-1", "storage_unit_id": unit["id"]}, role="manager", expect=201)
    held = receive(api, world, "V1", "2027-03-31", 20, location=unit["location_id"])["lot"]["id"]
    start = clock() + timedelta(minutes=1)  # readings after the sensor's assignment, stored 2 hours later
    clock.advance(hours=2)
    temps = [5.0] * 6 + [9.5] * 10 + [5.0] * 6
    batch = [TemperatureReading("probe-1", i, start + timedelta(minutes=5 * i), t) for i, t in enumerate(temps)]
    c = ctx("ingest", "mqtt")
    with db.unit_of_work() as uow:
        for unit_id, since in readings.store(uow, c, batch).items():
            cold_evaluation.evaluate(uow, c, unit_id, since)
        uow.commit()
    api.post("/api/v1/equipment", {"id": "ac-1", "kind": "autoclave", "name": "Autoclave 1", "serial": "SN-9"},
             role="manager", expect=201)
    api.post("/api/v1/maintenance-plans", {"equipment_id": "ac-1", "name": "Spore test", "every": 7,
                                           "first_due": clock().date().isoformat()}, role="manager", expect=201)
    with db.unit_of_work() as uow:
        cycles.store(uow, ctx("ingest", "mqtt"), [
            EquipmentCycle("ac-1", i, clock() - timedelta(hours=2, minutes=-i), i, "134C-4min", "pass", 134.5, 4.0)
            for i in range(1, 4)])
        maintenance.open_due_tickets(uow, ctx("job", "job"))
        stations.register(uow, ctx("setup"), ScannerConfig(id="sr-1", url="loop://", location="SR"))
        uow.commit()
    station = ctx("station:sr-1", "station")
    with db.unit_of_work() as uow:
        scan = scans.record(uow, station, "sr-1", parse_scan("]C101040063813339311727013110X9", today=station.today))
        uow.commit()
    rule = api.post("/api/v1/routing-rules", {"channel": "webhook", "recipients": ["https://hooks.example/inventory"]},
                    role="manager", expect=201).json["id"]
    [excursion] = api.get(f"/api/v1/storage-units/{unit['id']}/excursions?from={(clock() - timedelta(days=1)).date()}"
                          f"&to={clock().date()}", expect=200).json["items"]
    return Catalogue(unit["id"], unit["location_id"], lot, held, excursion["id"], scan.id, rule)
