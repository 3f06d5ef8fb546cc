"""The simulated fridge logger against a real Mosquitto: what a plain subscriber and the ingest service see."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.subscribeoptions import SubscribeOptions

from firmware_sim.fridge import SimulatedFridge, make_scenario
from tests.support.wait import wait_for

pytestmark = pytest.mark.timeout(60)


@dataclass(frozen=True)
class Msg:
    topic: str
    payload: bytes
    qos: int
    retain: bool


class Subscriber:
    """A plain paho client on `coldchain/<id>/#`, QoS 1, MQTT 5 retain-as-published (so a live message shows
    whether its publisher set retain)."""

    def __init__(self, url: str, sensor_id: str) -> None:
        parts = urlsplit(url)
        self.sensor_id = sensor_id
        self.messages: list[Msg] = []
        self._lock, self._subscribed = threading.Lock(), threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"sub-{uuid.uuid4().hex[:8]}",
                                  protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        self.client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
        self.client.loop_start()
        self.client.subscribe(f"coldchain/{sensor_id}/#", options=SubscribeOptions(qos=1, retainAsPublished=True))
        assert self._subscribed.wait(10)

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append(Msg(msg.topic, bytes(msg.payload), msg.qos, bool(msg.retain)))

    def snapshot(self) -> list[Msg]:
        with self._lock:
            return list(self.messages)

    def statuses(self) -> list[str]:
        return [m.payload.decode() for m in self.snapshot() if m.topic.endswith("/status")]

    def readings(self) -> list[Msg]:
        return [m for m in self.snapshot() if m.topic.endswith("/reading")]

    def close(self) -> None:
        self.client.disconnect()  # first: it wakes the network thread, which then ends
        self.client.loop_stop()


def broker(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 1883


@pytest.fixture
def sensor_id(mqtt_url: str) -> Iterator[str]:
    """A fresh sensor id; its retained status is cleared afterwards, so later ingest tests do not see it."""
    sid = f"sim-{uuid.uuid4().hex[:10]}"
    yield sid
    host, port = broker(mqtt_url)
    cleaner = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"clean-{sid}")
    cleaner.connect(host, port)
    cleaner.loop_start()
    cleaner.publish(f"coldchain/{sid}/status", b"", qos=1, retain=True).wait_for_publish(5)
    cleaner.disconnect()
    cleaner.loop_stop()


@pytest.fixture
def subscriber(mqtt_url: str, sensor_id: str) -> Iterator[Subscriber]:
    sub = Subscriber(mqtt_url, sensor_id)
    yield sub
    sub.close()


def kinds(messages: list[Msg]) -> list[str]:
    """status payloads as they are, readings as `seq` or `[first..last]` for arrays."""
    out = []
    for m in messages:
        if m.topic.endswith("/status"):
            out.append(m.payload.decode())
            continue
        data = json.loads(m.payload)
        out.append(f"[{data[0]['seq']}..{data[-1]['seq']}]" if isinstance(data, list) else str(data["seq"]))
    return out


def test_outage_backfill_retained_status_and_last_will(mqtt_url: str, sensor_id: str, subscriber: Subscriber):
    host, port = broker(mqtt_url)
    fridge = SimulatedFridge(sensor_id, host, port, interval_s=300, speed=0)
    before = datetime.now(UTC)
    summary = fridge.run(make_scenario("outage", outage_at=30, outage_minutes=30), timedelta(minutes=120),
                         seed=4, kill=True)
    assert summary.killed and summary.published == 24 and summary.arrays == 1 and summary.last_seq == 23
    assert summary.link_drops == 1 and summary.messages == 19
    wait_for(lambda: subscriber.statuses() == ["online", "offline", "online", "offline"], 15,
             "the statuses online, offline, online, offline")
    time.sleep(0.2)
    messages = subscriber.snapshot()
    assert kinds(messages) == ["online", *map(str, range(6)), "offline", "online", "[6..11]",
                               *map(str, range(12, 24)), "offline"]
    for m in messages:
        assert m.qos == 1, m
        assert m.retain == m.topic.endswith("/status"), m  # statuses retained (the Will too), readings never
    backfill = json.loads(next(m.payload for m in messages if m.payload.startswith(b"[")))
    assert [r["seq"] for r in backfill] == list(range(6, 12))
    stamps = [datetime.fromisoformat(r["ts"].replace("Z", "+00:00")) for m in subscriber.readings()
              for r in (lambda d: d if isinstance(d, list) else [d])(json.loads(m.payload))]
    assert all(ts.tzinfo is not None for ts in stamps)
    assert stamps == sorted(stamps) and stamps[1] - stamps[0] == timedelta(minutes=5)
    assert stamps[-1] <= datetime.now(UTC)  # nothing in the future
    assert stamps[0] >= before - timedelta(minutes=120)
    # A late subscriber gets the Will, retained.
    late = Subscriber(mqtt_url, sensor_id)
    try:
        wait_for(lambda: late.snapshot() != [], 15, "the late subscriber to get the retained status")
        assert late.snapshot() == [Msg(f"coldchain/{sensor_id}/status", b"offline", 1, True)]
    finally:
        late.close()


def test_clean_end_publishes_offline_and_a_later_connect_online(mqtt_url: str, sensor_id: str,
                                                                subscriber: Subscriber):
    host, port = broker(mqtt_url)
    with SimulatedFridge(sensor_id, host, port, interval_s=300) as fridge:
        wait_for(lambda: subscriber.statuses() == ["online"], 15, "the status online")
        fridge.run("normal", timedelta(minutes=30), seed=1)
    wait_for(lambda: subscriber.statuses() == ["online", "offline"], 15, "the statuses online, offline")
    assert [json.loads(m.payload)["seq"] for m in subscriber.readings()] == list(range(6))
    assert not fridge.connected


def test_command_line_replays_an_accelerated_door_opening_and_is_killed(mqtt_url: str, sensor_id: str,
                                                                       subscriber: Subscriber):
    speed = 12_000  # 5-minute readings every 25 ms
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "firmware_sim", "fridge", "--sensor", sensor_id, "--broker", mqtt_url,
         "--scenario", "door_open", "--door-at", "30", "--door-minutes", "30", "--duration-min", "120",
         "--speed", str(speed), "--seq-start", "100", "--kill"],
        capture_output=True, text=True, timeout=30, check=False)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert "24 readings published in 24 messages (0 backfill arrays), seq 100..123" in result.stdout
    assert "killed" in result.stdout
    assert elapsed >= 23 * 300 / speed  # paced by the accelerated clock
    wait_for(lambda: subscriber.statuses() == ["online", "offline"], 15, "the statuses online, offline")
    payloads = [json.loads(m.payload) for m in subscriber.readings()]
    assert [p["seq"] for p in payloads] == list(range(100, 124))
    door = [p for p in payloads if p["door_open"]]
    assert len(door) == 6 and max(p["temp_c"] for p in door) > 8.0
    assert all(2.0 <= p["temp_c"] <= 8.0 for p in payloads[:6])


def test_unreachable_broker_is_a_clear_error():
    result = subprocess.run(
        [sys.executable, "-m", "firmware_sim", "fridge", "--sensor", "x", "--broker", "mqtt://127.0.0.1:1",
         "--duration-min", "10"], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 1
    assert "refused" in result.stderr.lower()
