"""MQTT ingest against a real Mosquitto: stored once, rejected with a reason, never lost."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from inventory_service.db.models import Reading, RejectedInput, Sensor
from inventory_service.db.uow import Database
from inventory_service.ingest.broker import BrokerAddress
from inventory_service.ingest.mqtt import Message, MqttIngest
from inventory_service.services import storage_units
from inventory_service.services.context import Context
from tests.support.clock import FrozenClock
from tests.support.wait import wait_for

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def publisher(mqtt_url: str) -> Iterator[mqtt.Client]:
    a = BrokerAddress.parse(mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-pub-{time.monotonic_ns()}")
    client.connect(a.host, a.port)
    client.loop_start()
    yield client
    client.loop_stop()
    client.disconnect()


@pytest.fixture
def ingest(mqtt_url: str, db: Database, clock: FrozenClock, ctx: Callable[..., Context]) -> Iterator[MqttIngest]:
    with db.unit_of_work() as uow:
        unit = storage_units.create_unit(uow, ctx(), name="Fridge A", kind="refrigerator")
        storage_units.assign_sensor(uow, ctx(), sensor_id="probe-1", storage_unit_id=unit.id)
        uow.commit()
    clock.set(datetime.now(UTC))
    service = MqttIngest(mqtt_url, db, clock, "America/New_York", instance=f"t{time.monotonic_ns()}")
    service.start()
    wait_for(service.connected, 15, "the ingest to connect")
    yield service
    service.stop()


def count(db: Database, model: type) -> int:
    with db.unit_of_work(write=False) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def reading(seq: int, minutes_ago: float, temp: float = 5.0) -> dict:
    ts = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return {"seq": seq, "ts": ts.isoformat(), "temp_c": temp, "battery_pct": 87}


def test_readings_and_backfill_arrays_are_stored_once(ingest: MqttIngest, publisher: mqtt.Client, db: Database):
    publisher.publish("coldchain/probe-1/reading", json.dumps(reading(1, 20)), qos=1)
    backfill = [reading(s, 20 - s) for s in range(2, 12)]
    publisher.publish("coldchain/probe-1/reading", json.dumps(backfill), qos=1)
    publisher.publish("coldchain/probe-1/reading", json.dumps(backfill), qos=1)  # redelivered
    wait_for(lambda: count(db, Reading) == 11 and ingest.stats["messages"] >= 3, 15, "11 readings from 3 messages")
    time.sleep(0.3)
    assert count(db, Reading) == 11
    with db.unit_of_work(write=False) as uow:
        sensor = uow.session.get(Sensor, "probe-1")
        assert sensor is not None and sensor.battery_pct == 87 and sensor.max_seq == 11


def test_committed_messages_are_acknowledged_so_the_same_session_gets_nothing_again(
        ingest: MqttIngest, publisher: mqtt.Client, db: Database, mqtt_url: str, clock: FrozenClock):
    """A batch's PUBACKs are queued together and written by the network thread in one wake-up: the
    broker must take every one of them, or a reconnect with the same persistent session would get the
    messages again."""
    for first in (1, 26):  # two batches at least, each acknowledged after its commit
        for seq in range(first, first + 25):
            publisher.publish("coldchain/probe-1/reading", json.dumps(reading(seq, 60 - seq)), qos=1)
        wait_for(lambda first=first: ingest.stats["acknowledged"] == first + 24 and not ingest.client.want_write(),
                 15, f"messages up to {first + 24} acknowledged and written")
    ingest.stop()
    again = MqttIngest(mqtt_url, db, clock, "America/New_York", instance=ingest.instance)
    again.start()
    try:
        wait_for(again.connected, 15, "the second ingest to connect")
        time.sleep(1.0)  # the broker sends a resumed session's unacknowledged messages at once
        assert again.stats["readings"] == 0
    finally:
        again.stop()
    assert count(db, Reading) == 50


def test_a_message_is_not_acknowledged_before_its_rows_are_committed(
        ingest: MqttIngest, publisher: mqtt.Client, db: Database, mqtt_url: str, clock: FrozenClock,
        monkeypatch: pytest.MonkeyPatch):
    """ARCHITECTURE §4: a message the ingest holds but has not committed stays unacknowledged, so when
    the process goes away the broker keeps it in the persistent session and hands it to the next
    process with the same client id. An ingest that acknowledged on receipt (or before its commit)
    would leave the broker nothing to send again, and the reading would be lost."""
    holding, release = threading.Event(), threading.Event()

    def never_commits(batch: list[Message]) -> None:
        """Holds the batch, as a process that dies before its commit would; once released, whatever
        the old consumer then acknowledges goes nowhere: its connection is closed."""
        holding.set()
        release.wait(30)

    monkeypatch.setattr(ingest, "process", never_commits)
    publisher.publish("coldchain/probe-1/reading", json.dumps(reading(1, 5)), qos=1)
    assert holding.wait(15)
    time.sleep(0.5)  # room for an early PUBACK to reach the broker, were one sent
    ingest.stop(timeout=0.5)  # the consumer is still inside never_commits: nothing was committed
    assert count(db, Reading) == 0
    again = MqttIngest(mqtt_url, db, clock, "America/New_York", instance=ingest.instance)
    again.start()
    try:
        wait_for(lambda: count(db, Reading) == 1, 15, "the reading stored by the next process")  # sent again
        wait_for(lambda: again.stats["acknowledged"] == 1, 15, "the next process to acknowledge it")
    finally:
        again.stop()
        release.set()


def test_the_ingest_reconnects_when_the_broker_drops_its_connection_and_goes_on_storing(
        ingest: MqttIngest, publisher: mqtt.Client, db: Database, mqtt_url: str):
    """The network loop is the ingest's own (paho's external-loop API): a connection the broker closes
    is made again, and subscriptions with it."""
    a = BrokerAddress.parse(mqtt_url)
    # Another client with the ingest's client id takes the session over: the broker closes the
    # ingest's connection (MQTT 5.0 §3.1.4). Driven by hand, so that it never reconnects itself.
    intruder = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"inventory-ingest-{ingest.instance}",
                           protocol=mqtt.MQTTv5)
    intruder.connect(a.host, a.port, clean_start=False)
    deadline = time.monotonic() + 10
    while not intruder.is_connected() and time.monotonic() < deadline:
        intruder.loop(0.1)
    assert intruder.is_connected()
    wait_for(lambda: not ingest.connected(), 15, "the ingest to see the connection dropped")
    intruder.disconnect()
    intruder.loop(0.1)
    wait_for(ingest.connected, 15, "the ingest to reconnect")
    publisher.publish("coldchain/probe-1/reading", json.dumps(reading(1, 5)), qos=1)
    wait_for(lambda: count(db, Reading) == 1, 15, "the reading after the reconnect")


def test_bad_payloads_are_stored_as_rejected_with_a_reason_and_ingest_goes_on(
        ingest: MqttIngest, publisher: mqtt.Client, db: Database):
    bad = [b"not json", b'{"seq": 1}', b'{"seq": -1, "ts": "2026-01-01T00:00:00Z", "temp_c": 5}',
           b'{"seq": 1, "ts": "2026-01-01T00:00:00", "temp_c": 5}', b'{"seq": 1, "ts": "2026-01-01T00:00:00Z",'
           b' "temp_c": "warm"}', b"\xff\xfe", b"[]"]
    for payload in bad:
        publisher.publish("coldchain/probe-1/reading", payload, qos=1)
    publisher.publish("coldchain/has space/reading", json.dumps(reading(1, 1)), qos=1)
    publisher.publish("coldchain/probe-1/reading", json.dumps(reading(50, 1)), qos=1)
    wait_for(lambda: count(db, RejectedInput) == len(bad) + 1 and count(db, Reading) == 1, 15,
             f"{len(bad) + 1} rejections and 1 reading")
    with db.unit_of_work(write=False) as uow:
        reasons = [r.reason for r in uow.session.scalars(select(RejectedInput).order_by(RejectedInput.id))]
    assert reasons[0].startswith("not UTF-8 JSON")
    assert "no time zone" in reasons[3]
    assert "temp_c must be a finite number" in reasons[4]
    assert "is not coldchain/<id>/reading" in reasons[-1]


def test_sensor_status_follows_the_retained_last_will(ingest: MqttIngest, publisher: mqtt.Client, db: Database):
    publisher.publish("coldchain/probe-1/status", "offline", qos=1, retain=True)

    def status() -> str:
        with db.unit_of_work(write=False) as uow:
            s = uow.session.get(Sensor, "probe-1")
            return s.status if s else ""
    wait_for(lambda: status() == "offline", 15, "the sensor offline")
    publisher.publish("coldchain/probe-1/status", "online", qos=1, retain=True)
    wait_for(lambda: status() == "online", 15, "the sensor online")
    publisher.publish("coldchain/probe-1/status", "", qos=1, retain=True)  # clear the retained message


def test_a_batch_the_database_refuses_is_halved_until_the_poison_message_is_found(
        db: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch):
    """A refusal of the data itself (an IntegrityError, say) is not retried with backoff: the batch is
    split in halves, committed in order, down to the one message that fails, which is stored as rejected;
    every message is acknowledged once, in the order it came (MQTT 3.1.1 §4.6)."""
    from sqlalchemy.exc import IntegrityError

    service = MqttIngest("mqtt://127.0.0.1:1", db, clock, "America/New_York", instance="halving")
    batch = [Message("coldchain/probe-1/reading", b"{}", mid, 1) for mid in range(1, 2001)]
    poison = 1234
    tries: list[int] = []
    committed: list[int] = []
    rejected: list[int] = []
    acked: list[int] = []

    def process(msgs: list[Message]) -> None:
        tries.append(len(msgs))
        if any(m.mid == poison for m in msgs):
            raise IntegrityError("INSERT ...", {}, Exception("value out of range"))
        committed.extend(m.mid for m in msgs)

    monkeypatch.setattr(service, "process", process)
    monkeypatch.setattr(service, "_reject_unprocessable", lambda m, exc: rejected.append(m.mid) or True)
    monkeypatch.setattr(service, "_acknowledge", lambda msgs: acked.extend(m.mid for m in msgs))
    started = time.monotonic()
    service._commit_with_retry(batch)
    assert time.monotonic() - started < 1.0  # no backoff sleeps for data the database refuses
    assert rejected == [poison]
    assert committed == [m for m in range(1, 2001) if m != poison]
    assert acked == list(range(1, 2001))
    assert len(tries) <= 2 * 12  # halving: about two tries per level of log2(2000)
