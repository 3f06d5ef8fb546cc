"""The cold-chain read side and decisions over HTTP (clock: New York, DST since 8 March 2026)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from inventory_service.db.uow import Database
from tests.conftest import Api
from tests.support import coldchain
from tests.support.clock import FrozenClock

NY = ZoneInfo("America/New_York")
T0 = datetime(2026, 3, 10, 15, 10, tzinfo=UTC)  # 11:10 in New York


def feed(db: Database, clock: FrozenClock, temps: list[float], start: datetime = T0, seq0: int = 0) -> None:
    coldchain.feed(db, clock, temps, start=start, seq0=seq0, sensor="probe-1")


@pytest.fixture
def fridge(api: Api) -> dict:
    unit = api.post("/api/v1/storage-units", {"name": "Vaccine fridge", "kind": "refrigerator"}, role="manager",
                    expect=201).json
    sensor = api.post("/api/v1/sensors", {"id": "probe-1", "storage_unit_id": unit["id"]}, role="manager",
                      expect=201).json
    item = api.post("/api/v1/items", {"name": "MMR", "storage": "refrigerated"}, role="manager", expect=201).json
    lot = api.post("/api/v1/stock/receive", {"item_id": item["id"], "location_id": unit["location_id"],
                                             "lot_number": "MMR-1", "expiry": "2027-01-31", "quantity": 10},
                   role="staff", expect=201).json["lot"]
    return {"unit": unit, "sensor": sensor, "item": item, "lot": lot}


def test_units_get_the_defaults_of_their_kind(api: Api, fridge: dict):
    unit = fridge["unit"]
    assert (unit["min_c"], unit["max_c"], unit["no_data_min"]) == (2.0, 8.0, 60)
    assert [(r["kind"], r["mode"], r["delay_min"]) for r in unit["alarm_rules"]] == [
        ("high", "consecutive", 30), ("low", "consecutive", 15)]
    who = api.post("/api/v1/storage-units", {"name": "Outreach box", "kind": "refrigerator",
                                             "preset": "who_30_day_recorder"}, role="manager", expect=201).json
    assert who["alarm_rules"][1] == {"kind": "low", "mode": "consecutive", "delay_min": 60, "threshold_c": -0.5,
                                     "inclusive": True}
    assert fridge["sensor"]["assignments"][0]["storage_unit_id"] == unit["id"]
    [sensor] = api.get("/api/v1/sensors", expect=200).json["items"]
    assert (sensor["id"], sensor["storage_unit_id"], sensor["interval_min"]) == ("probe-1", unit["id"], 5)


def test_excursion_alarm_hold_and_disposition(api: Api, db: Database, clock: FrozenClock, fridge: dict):
    feed(db, clock, [5.0] * 2 + [10.0] * 8 + [5.0] * 2)
    unit_id = fridge["unit"]["id"]
    path = f"/api/v1/storage-units/{unit_id}/excursions?from=2026-03-10&to=2026-03-10"
    [ex] = api.get(path, expect=200).json["items"]
    assert (ex["kind"], ex["duration_min"], ex["peak_c"], len(ex["alarm_ids"])) == ("high", 40, 10.0, 1)
    [lot] = ex["affected_lots"]
    assert (lot["lot_number"], lot["quantity"], lot["lot_status"], lot["disposition"]) == ("MMR-1", 10, "hold", None)
    consume = {"item_id": fridge["item"]["id"], "location_id": fridge["unit"]["location_id"], "quantity": 1}
    assert api.post("/api/v1/stock/consume", consume, role="staff", expect=409).json["error"]["code"] == \
        "insufficient_stock"
    [alarm] = api.get(f"/api/v1/alarms?storage_unit_id={unit_id}", expect=200).json["items"]
    acked = api.post(f"/api/v1/alarms/{alarm['id']}/ack", {"reason": "door was left ajar"}, role="manager",
                     expect=200).json
    assert acked["acknowledged_by"] == "manager-token"
    path = f"/api/v1/excursions/{ex['id']}/dispositions"
    api.post(path, {"lot_id": lot["lot_id"], "disposition": "release"}, role="staff", expect=403)
    wait = api.post(path, {"lot_id": lot["lot_id"], "disposition": "pending_manufacturer",
                           "notes": "called Merck, case 123"}, role="manager", expect=201).json
    assert wait["lot_status"] == "hold"
    done = api.post(path, {"lot_id": lot["lot_id"], "disposition": "release", "notes": "stability data OK"},
                    role="manager", expect=201).json
    assert done["lot_status"] == "available"
    api.post("/api/v1/stock/consume", consume, role="staff", expect=201)
    again = api.post(path, {"lot_id": lot["lot_id"], "disposition": "discard"}, role="manager", expect=409)
    assert again.json["error"]["code"] == "already_decided"


def test_discard_disposes_the_held_stock_through_the_ledger(api: Api, db: Database, clock: FrozenClock, fridge: dict):
    feed(db, clock, [5.0] * 2 + [10.0] * 8 + [5.0] * 2)
    [ex] = api.get(f"/api/v1/storage-units/{fridge['unit']['id']}/excursions?from=2026-03-10&to=2026-03-10",
                   expect=200).json["items"]
    out = api.post(f"/api/v1/excursions/{ex['id']}/dispositions", {"lot_id": fridge["lot"]["id"],
                                                                    "disposition": "discard"},
                   role="manager", expect=201).json
    assert out["lot_status"] == "discarded" and len(out["movement_ids"]) == 1
    [m] = api.get("/api/v1/movements?kind=dispose", expect=200).json["items"]
    assert m["quantity"] == -10


def test_daily_summary_mkt_readings_and_csv(api: Api, db: Database, clock: FrozenClock, fridge: dict):
    feed(db, clock, [4.0, 6.0, 9.0, 5.0])
    unit_id = fridge["unit"]["id"]
    [day] = api.get(f"/api/v1/storage-units/{unit_id}/daily-summary?from=2026-03-10&to=2026-03-10",
                    expect=200).json["days"]
    assert (day["min_c"], day["max_c"], day["minutes_high"]) == (4.0, 9.0, 5.0)
    assert day["alarms"] == []
    r = api.get("/api/v1/readings?sensor_id=probe-1&limit=2", expect=200).json
    assert (r["count"], len(r["items"])) == (4, 2)
    m = api.get(f"/api/v1/storage-units/{unit_id}/mkt?from=2026-03-10T15:10:00Z&to=2026-03-10T15:30:00Z",
                expect=200).json
    assert m["readings"] == 4 and 5.0 < m["mkt_c"] < 7.0
    csv = api.get(f"/api/v1/storage-units/{unit_id}/daily-summary?from=2026-03-10&to=2026-03-11&format=csv",
                  expect=200)
    assert csv.mimetype == "text/csv"
    header = "date,min_c,max_c,mean_c,minutes_high,minutes_low,minutes_no_data,alarms"
    assert csv.data.decode().splitlines()[0] == header


def test_an_alarm_that_fired_yesterday_is_listed_on_every_day_it_was_active(api: Api, db: Database,
                                                                           clock: FrozenClock, fridge: dict):
    late = datetime(2026, 3, 11, 3, 0, tzinfo=UTC)  # 23:00 on 10 March in New York
    feed(db, clock, [5.0] * 12, start=T0)
    feed(db, clock, [10.0] * 24, start=late, seq0=100)  # two hours high across the site's midnight
    days = api.get(f"/api/v1/storage-units/{fridge['unit']['id']}/daily-summary?from=2026-03-10&to=2026-03-11",
                   expect=200).json["days"]
    fired = [a["id"] for a in days[0]["alarms"] if a["kind"] == "high"]
    assert fired and fired == [a["id"] for a in days[1]["alarms"] if a["kind"] == "high"]
