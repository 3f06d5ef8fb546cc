"""The simulated fridge logger feeding the real MQTT ingest: a day with a door opening and an outage is
stored whole, with no gap in seq and nothing rejected, and the sensor ends offline by its Last Will."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from firmware_sim.fridge import SimulatedFridge, make_scenario
from inventory_service.db.coldchain import Reading, RejectedInput, Sensor, SeqGap
from inventory_service.db.uow import Database
from inventory_service.ingest.mqtt import MqttIngest
from inventory_service.services import storage_units
from inventory_service.services.context import Context
from tests.support.clock import FrozenClock
from tests.support.wait import wait_for

pytestmark = pytest.mark.timeout(60)


def broker(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 1883


@pytest.fixture
def sensor_id(mqtt_url: str) -> Iterator[str]:
    """A fresh sensor id; its retained status is cleared afterwards, so later tests do not see it."""
    sid = f"sim-{uuid.uuid4().hex[:10]}"
    yield sid
    host, port = broker(mqtt_url)
    cleaner = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"clean-{sid}")
    cleaner.connect(host, port)
    cleaner.loop_start()
    cleaner.publish(f"coldchain/{sid}/status", b"", qos=1, retain=True).wait_for_publish(5)
    cleaner.disconnect()
    cleaner.loop_stop()


def count(db: Database, model: type, sensor_id: str) -> int:
    with db.unit_of_work(write=False) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model).where(
            model.sensor_id == sensor_id)) or 0)


def test_the_ingest_service_stores_a_simulated_day_with_an_outage(
        mqtt_url: str, sensor_id: str, db: Database, clock: FrozenClock, ctx: Callable[..., Context]):
    with db.unit_of_work() as uow:
        unit = storage_units.create_unit(uow, ctx(), name="Simulated fridge", kind="refrigerator")
        storage_units.assign_sensor(uow, ctx(), sensor_id=sensor_id, storage_unit_id=unit.id)
        uow.commit()
    clock.set(datetime.now(UTC))
    service = MqttIngest(mqtt_url, db, clock, "America/New_York", instance=f"fridge{time.monotonic_ns()}")
    service.start()
    try:
        wait_for(service.connected, 15, "the ingest to connect")
        host, port = broker(mqtt_url)
        summary = SimulatedFridge(sensor_id, host, port).run(
            make_scenario(["door_open", "outage"], door_at=120, outage_at=600, outage_minutes=120),
            timedelta(days=1), seed=8, kill=True)
        assert summary.published == 288 and summary.arrays == 1

        def sensor() -> Sensor:
            with db.unit_of_work(write=False) as uow:
                found = uow.session.get(Sensor, sensor_id)
                assert found is not None
                uow.session.expunge(found)
                return found
        wait_for(lambda: count(db, Reading, sensor_id) == 288 and sensor().status == "offline", 30,
                 "the day's 288 readings and the sensor offline")
        assert sensor().max_seq == 287
        assert count(db, SeqGap, sensor_id) == 0
        with db.unit_of_work(write=False) as uow:
            rejected = uow.session.scalars(select(RejectedInput).where(RejectedInput.topic.contains(sensor_id)))
            assert list(rejected) == []
    finally:
        service.stop()
