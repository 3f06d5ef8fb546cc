"""Acknowledgements are records: a second one is added, the first one stays (clock: New York)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from inventory_service.db.uow import Database
from tests.conftest import Api
from tests.support import coldchain
from tests.support.clock import FrozenClock

T0 = datetime(2026, 3, 10, 15, 10, tzinfo=UTC)


@pytest.fixture
def alarm(api: Api, db: Database, clock: FrozenClock) -> dict:
    unit = api.post("/api/v1/storage-units", {"name": "Vaccine fridge A", "kind": "refrigerator"}, role="manager",
                    expect=201).json
    api.post("/api/v1/sensors", {"id": "probe-a", "storage_unit_id": unit["id"]}, role="manager", expect=201)
    coldchain.feed(db, clock, [5.0] * 2 + [14.8] * 8, start=T0, sensor="probe-a")
    [found] = api.get("/api/v1/alarms", expect=200).json["items"]
    return found


def test_a_second_alarm_acknowledgement_is_added_and_never_replaces_the_first(api: Api, clock: FrozenClock,
                                                                           alarm: dict):
    first = api.post(f"/api/v1/alarms/{alarm['id']}/ack", {"reason": "on my way"}, role="manager", expect=200).json
    clock.advance(minutes=20)
    second = api.post(f"/api/v1/alarms/{alarm['id']}/ack", {"reason": "again"}, role="admin", expect=200).json
    assert (second["acknowledged_at"], second["acknowledged_by"], second["ack_reason"]) == (
        first["acknowledged_at"], "manager-token", "on my way")
    assert [(a["acknowledged_by"], a["reason"]) for a in second["acknowledgements"]] == [
        ("manager-token", "on my way"), ("admin-token", "again")]
    a1, a2 = (datetime.fromisoformat(a["acknowledged_at"]) for a in second["acknowledgements"])
    assert a2 - a1 == timedelta(minutes=20)
    [listed] = api.get("/api/v1/alarms", expect=200).json["items"]
    assert listed["acknowledgements"] == second["acknowledgements"]
    # The alarm's alert carries both too, and its first acknowledgement stays the first.
    [alert] = [a for a in api.get("/api/v1/alerts", expect=200).json["items"] if a["id"] == alarm["alert_id"]]
    assert (alert["ack_reason"], [a["reason"] for a in alert["acknowledgements"]]) == (
        "on my way", ["on my way", "again"])


def test_a_second_alert_acknowledgement_is_added_too(api: Api, clock: FrozenClock, alarm: dict):
    path = f"/api/v1/alerts/{alarm['alert_id']}/ack"
    first = api.post(path, {"reason": "seen"}, role="manager", expect=200).json
    clock.advance(minutes=5)
    second = api.post(path, {"reason": "called the technician"}, role="manager", expect=200).json
    assert (second["acknowledged_at"], second["ack_reason"], second["status"]) == (
        first["acknowledged_at"], "seen", "acknowledged")
    assert [a["reason"] for a in second["acknowledgements"]] == ["seen", "called the technician"]
    api.post(path, {"reason": "   "}, role="manager", expect=422)
    assert len(api.get("/api/v1/alerts?status=acknowledged", expect=200).json["items"][0]["acknowledgements"]) == 2
