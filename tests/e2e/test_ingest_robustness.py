"""MQTT ingest robustness: the real `inventory-service ingest` process against a real Mosquitto.

Acceptance (issue text): "`kill -9` of the ingest process five times while 20,000 readings stream in,
then restart: every reading stored exactly once; the same readings published twice: no duplicates
and no second alert; 2,000 random payloads (hypothesis or a seeded generator): each one stored or
rejected with a reason and the service still ingesting".

Every test migrates a fresh database with `inventory-service db upgrade`, runs the ingest as a child
process with a fixed INVENTORY_INSTANCE (so its MQTT 5 session survives restarts), publishes with a
plain paho client at QoS 1 and waits for every PUBACK (from then on the message is the broker's
responsibility), and checks the database from this process. The tests at the end are regression
tests for the bugs found while writing these.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from inventory_service.db.engine import make_engine
from inventory_service.db.models import Alarm, Alert, Excursion, LotHold, Reading, RejectedInput, Sensor, SeqGap
from inventory_service.db.uow import Database
from inventory_service.ingest.broker import BrokerAddress
from inventory_service.services import storage_units
from inventory_service.services.context import Context
from inventory_service.services.readings import PAYLOAD_KEEP
from tests.support.services import postgres_database
from tests.support.wait import wait_for

CLI = [sys.executable, "-m", "inventory_service.cli"]
SITE_TZ = "Europe/Berlin"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]

pytestmark = [pytest.mark.mqtt, pytest.mark.slow]


# --------------------------------------------------------------------------------------------------
# The database, the ingest process, a publisher, and a watcher of the ingest's status topic
# --------------------------------------------------------------------------------------------------


@dataclass
class Service:
    """A migrated database and the environment of the `inventory-service` processes that use it."""

    env: dict[str, str]
    db: Database
    data_dir: Path
    instance: str
    mqtt_url: str

    def count(self, model: type, *where: Any) -> int:
        with self.db.unit_of_work(write=False) as uow:
            return int(uow.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    def rows(self, statement: Any) -> list[tuple[Any, ...]]:
        with self.db.unit_of_work(write=False) as uow:
            return [tuple(r) for r in uow.session.execute(statement).all()]

    def ctx(self, now: datetime) -> Context:
        return Context(actor="test-setup", source="cli", now=now, tz=ZoneInfo(SITE_TZ))

    def register(self, at: datetime, units: dict[str, list[str]]) -> dict[str, int]:
        """Refrigerators (default range and rules) with sensors assigned as of `at`: unit id per sensor."""
        out = {}
        with self.db.unit_of_work() as uow:
            for name, sensors in units.items():
                unit = storage_units.create_unit(uow, self.ctx(at), name=name, kind="refrigerator")
                for sensor_id in sensors:
                    storage_units.assign_sensor(uow, self.ctx(at), sensor_id=sensor_id, storage_unit_id=unit.id)
                    out[sensor_id] = unit.id
            uow.commit()
        return out


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'inventory.db'}"
    else:
        with postgres_database("inv_robust") as url:
            yield url


@pytest.fixture
def service(database_url: str, mqtt_url: str, tmp_path: Path) -> Iterator[Service]:
    """A database migrated by the real CLI, and the environment for `inventory-service ingest`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_")}
    instance = f"robust-{uuid.uuid4().hex[:10]}"
    env.update({
        "INVENTORY_DATA_DIR": str(tmp_path), "INVENTORY_DATABASE_URL": database_url,
        "INVENTORY_MQTT_URL": mqtt_url, "INVENTORY_INSTANCE": instance, "INVENTORY_TIMEZONE": SITE_TZ,
        "INVENTORY_LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1",
    })
    done = subprocess.run([*CLI, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"db upgrade failed:\n{done.stdout}\n{done.stderr}"
    db = Database(make_engine(database_url))
    try:
        yield Service(env, db, tmp_path, instance, mqtt_url)
    finally:
        db.dispose()
        forget_session(mqtt_url, instance)


def forget_session(mqtt_url: str, instance: str) -> None:
    """Drop the ingest's persistent session and its retained status: the broker lives for the whole
    test run, and would otherwise keep queueing every later test's readings for this client."""
    a = BrokerAddress.parse(mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"inventory-ingest-{instance}",
                         protocol=mqtt.MQTTv5)
    try:
        client.connect(a.host, a.port, keepalive=10, clean_start=True)  # no session expiry: gone at disconnect
        client.loop_start()
        client.publish(f"inventory/ingest/{instance}/status", b"", qos=1, retain=True).wait_for_publish(5)
        client.disconnect()
    except (OSError, RuntimeError, ValueError):
        pass
    finally:
        client.loop_stop()


class IngestProcess:
    """`inventory-service ingest` as a child process; each start logs to its own file."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.proc: subprocess.Popen[bytes] | None = None
        self.logs: list[Path] = []

    def start(self) -> None:
        assert not self.alive(), "already running"
        log = self.service.data_dir / f"ingest-{len(self.logs) + 1}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            self.proc = subprocess.Popen([*CLI, "ingest"], env=self.service.env, stdout=out,
                                         stderr=subprocess.STDOUT)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no offline message, no disconnect, no chance to finish or acknowledge a batch."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if not self.alive():
            return
        assert self.proc is not None
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def log_text(self) -> str:
        return "".join(f"--- {p.name}\n{p.read_text(errors='replace')}" for p in self.logs if p.exists())

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_text()[-chars:]


class Watcher:
    """Follows `inventory/ingest/<instance>/status`: the ingest publishes "online" right after it
    subscribed (the broker handles a connection's packets in order), its Last Will says "offline"."""

    def __init__(self, mqtt_url: str, instance: str) -> None:
        a = BrokerAddress.parse(mqtt_url)
        self.events: list[str] = []
        self._cond = threading.Condition()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-watch-{uuid.uuid4().hex[:8]}",
                                  protocol=mqtt.MQTTv5)
        self.topic = f"inventory/ingest/{instance}/status"
        self.client.on_connect = lambda client, *_: client.subscribe(self.topic, qos=1)
        self.client.on_message = self._on_message
        self.client.connect(a.host, a.port, keepalive=30)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.events.append(msg.payload.decode(errors="replace"))
            self._cond.notify_all()

    def mark(self) -> int:
        with self._cond:
            return len(self.events)

    def wait_online(self, since: int, timeout: float = 30.0) -> None:
        with self._cond:
            ok = self._cond.wait_for(lambda: "online" in self.events[since:], timeout)
        assert ok, f"the ingest did not come online within {timeout:.0f}s (status messages {self.events[since:]})"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Publisher:
    """A plain paho client at QoS 1: `publish_all` returns once the broker acknowledged everything."""

    def __init__(self, mqtt_url: str, inflight: int = 100) -> None:
        a = BrokerAddress.parse(mqtt_url)
        self.published = 0  # messages the broker has acknowledged
        self.failures: list[str] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-pub-{uuid.uuid4().hex[:8]}",
                                  protocol=mqtt.MQTTv5)
        self.client.max_inflight_messages_set(inflight)
        self.client.max_queued_messages_set(0)
        self.client.on_publish = self._on_publish
        self.client.connect(a.host, a.port, keepalive=30)
        self.client.loop_start()
        wait_for(self.client.is_connected, 10, "the publisher to connect", 0.02)

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int, reason: Any, properties: Any) -> None:
        if getattr(reason, "is_failure", False):
            self.failures.append(f"mid {mid}: {reason}")

    def publish_all(self, messages: Iterable[tuple[str, bytes]], *, chunk: int = 200,
                    rate: float | None = None) -> None:
        """Publish in chunks, waiting for each chunk's PUBACKs; `rate` caps messages per second."""
        started = time.monotonic()
        pending: list[tuple[str, bytes]] = []

        def flush() -> None:
            infos = [self.client.publish(t, p, qos=1) for t, p in pending]
            for info in infos:
                info.wait_for_publish(timeout=30)
                assert info.is_published(), f"no PUBACK for mid {info.mid} (rc {info.rc})"
            self.published += len(pending)
            pending.clear()
            if rate:
                ahead = self.published / rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)

        for message in messages:
            pending.append(message)
            if len(pending) >= chunk:
                flush()
        if pending:
            flush()
        assert not self.failures, f"the broker refused messages: {self.failures[:5]}"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def reading(seq: int, ts: datetime, temp_c: float, **extra: Any) -> dict[str, Any]:
    return {"seq": seq, "ts": iso(ts), "temp_c": temp_c, **extra}


def topic(sensor_id: str) -> str:
    return f"coldchain/{sensor_id}/reading"


def start_listening(ingest: IngestProcess, watcher: Watcher) -> None:
    """Start a fresh ingest and wait until it is subscribed (a new session gets nothing published before)."""
    mark = watcher.mark()
    ingest.start()
    watcher.wait_online(mark)


# --------------------------------------------------------------------------------------------------
# 1. kill -9 five times while 20,000 readings stream in
# --------------------------------------------------------------------------------------------------

SENSORS = 20
PER_SENSOR = 1000


def stream_messages(sensors: list[str], t0: datetime, rng: random.Random) -> list[tuple[str, bytes]]:
    """Each sensor's seq 0..999 a minute apart, mostly single objects, some backfill arrays of 2-20
    (and a few one-item arrays), interleaved across sensors; a sensor's own messages stay in order."""
    per_sensor: list[list[tuple[str, bytes]]] = []
    for sensor in sensors:
        msgs, seq = [], 0
        while seq < PER_SENSOR:
            n = 1 if rng.random() < 0.8 else min(rng.randint(2, 20), PER_SENSOR - seq)
            items = [reading(s, t0 + timedelta(minutes=s), round(rng.uniform(3.0, 7.0), 2),
                             battery_pct=rng.randint(20, 100)) for s in range(seq, seq + n)]
            body: Any = items[0] if n == 1 and rng.random() < 0.9 else items
            msgs.append((topic(sensor), json.dumps(body).encode()))
            seq += n
        per_sensor.append(msgs)
    out: list[tuple[str, bytes]] = []
    cursors = [0] * len(sensors)
    while True:
        open_ = [k for k, m in enumerate(per_sensor) if cursors[k] < len(m)]
        if not open_:
            return out
        k = rng.choice(open_)
        out.append(per_sensor[k][cursors[k]])
        cursors[k] += 1


@pytest.mark.timeout(240)
def test_kill_9_five_times_while_20000_readings_stream_in_stores_each_exactly_once(service: Service):
    rng = random.Random(20_000)
    tag = uuid.uuid4().hex[:6]
    sensors = [f"k{tag}-{i:02d}" for i in range(SENSORS)]
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=PER_SENSOR + 1)  # last one a minute ago
    unit_of = service.register(t0 - timedelta(minutes=1),
                               {f"Fridge {tag} {u}": sensors[u * 5:(u + 1) * 5] for u in range(SENSORS // 5)})
    messages = stream_messages(sensors, t0, rng)
    expected = {(s, q) for s in sensors for q in range(PER_SENSOR)}

    ingest = IngestProcess(service)
    watcher = Watcher(service.mqtt_url, service.instance)
    publisher = Publisher(service.mqtt_url)
    pub_thread: threading.Thread | None = None
    pub_error: list[BaseException] = []
    started = time.monotonic()
    try:
        start_listening(ingest, watcher)  # from here on the broker keeps everything for the session

        def publish() -> None:
            try:
                publisher.publish_all(messages, rate=len(messages) / 15.0)  # a stream over ~15 s
            except BaseException as exc:  # re-raised by the test thread
                pub_error.append(exc)

        pub_thread = threading.Thread(target=publish, name="publisher", daemon=True)
        pub_thread.start()

        kills: list[tuple[float, int, int]] = []  # (seconds in, messages published, readings stored)
        for k in range(1, 6):
            # Spread over the stream, and each time only once the ingest is busy storing again.
            wait_for(lambda k=k: publisher.published >= k * len(messages) // 6 or not pub_thread.is_alive(),
                     60, f"the publisher to reach {k}/6", 0.1)
            before = service.count(Reading)
            wait_for(lambda b=before: b < service.count(Reading) or b >= len(expected), 30,
                     "the ingest to store more", 0.02)
            time.sleep(rng.uniform(0.0, 0.3))
            assert ingest.alive(), f"the ingest died on its own:\n{ingest.log_tail()}"
            ingest.kill()
            kills.append((round(time.monotonic() - started, 1), publisher.published, service.count(Reading)))
            time.sleep(rng.uniform(0.0, 1.0))  # down for a moment: the broker queues for the session
            ingest.start()

        pub_thread.join(timeout=90)
        assert not pub_thread.is_alive(), "the publisher did not finish"
        assert not pub_error, f"the publisher failed: {pub_error[0]!r}"
        assert publisher.published == len(messages)

        # "then restart": once more, then wait until the count stops growing.
        ingest.kill()
        ingest.start()
        last, last_change = -1, time.monotonic()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            n = service.count(Reading)
            if n != last:
                last, last_change = n, time.monotonic()
            elif time.monotonic() - last_change > (1.5 if n >= len(expected) else 15.0):
                break
            time.sleep(0.2)
        assert ingest.alive(), f"the ingest died:\n{ingest.log_tail()}"

        rows = service.rows(select(Reading.sensor_id, Reading.seq, Reading.storage_unit_id))
        stored_keys = Counter((s, q) for s, q, _ in rows)
        duplicated = [k for k, c in stored_keys.items() if c > 1]
        missing = sorted(expected - set(stored_keys))
        unexpected = sorted(set(stored_keys) - expected)
        summary = (f"{len(messages)} messages; kills at (s, published, stored) {kills}; {len(rows)} rows, "
                   f"{len(missing)} missing (first {missing[:5]}), {len(duplicated)} duplicated, "
                   f"{len(unexpected)} unexpected")
        assert (len(rows), missing, duplicated, unexpected) == (SENSORS * PER_SENSOR, [], [], []), \
            summary + "\n" + ingest.log_tail()
        # Each attributed to its unit, nothing rejected, every sensor at seq 999, no sequence gap left open.
        assert [(s, u) for s, _, u in rows if u != unit_of[s]] == []
        ours = RejectedInput.topic.in_([topic(s) for s in sensors])
        assert service.count(RejectedInput, ours) == 0, service.rows(select(RejectedInput.reason).where(ours).limit(5))
        assert sorted(service.rows(select(Sensor.id, Sensor.max_seq).where(Sensor.id.in_(sensors)))) == [
            (s, PER_SENSOR - 1) for s in sensors]
        assert service.rows(select(SeqGap.sensor_id, SeqGap.first_missing, SeqGap.last_missing)
                            .where(SeqGap.filled.is_(False))) == []
        # Data complete, in range, the newest a minute old: no alarm may be left open (a no-data alarm
        # raised while the stream was half stored must have ended once the rest arrived).
        assert service.rows(select(Alarm.kind, Alarm.condition_start).where(
            Alarm.storage_unit_id.in_(set(unit_of.values())), Alarm.ended_at.is_(None))) == []
        # No batch failed along the way (a retried batch would still end up stored, but it is a fault).
        assert not re.search(r"batch of \d+ failed", ingest.log_text()), ingest.log_tail()
        print(f"\n{summary}; {time.monotonic() - started:.1f}s")
    finally:
        ingest.stop()
        if pub_thread is not None:
            pub_thread.join(timeout=30)
        publisher.close()
        watcher.close()


# --------------------------------------------------------------------------------------------------
# 2. The same readings published twice: no duplicates, no second alarm or alert
# --------------------------------------------------------------------------------------------------


def excursion_payloads(sensor: str, now: datetime) -> list[tuple[str, bytes]]:
    """Five-minute readings: in range at -55 min, 10 °C from -50 to -10 (45 minutes high: the default
    rule fires after 30), in range at -5 and 0; as single messages and one backfill array. The first
    reading is under the 60-minute no-data limit old, so no partial view of the series is "silent"."""
    temps = [5.0] + [10.0] * 9 + [5.0, 5.0]
    items = [reading(i, now - timedelta(minutes=55 - 5 * i), t, battery_pct=90) for i, t in enumerate(temps)]
    messages = [json.dumps(x).encode() for x in items[:3]]
    messages.append(json.dumps(items[3:8]).encode())
    messages += [json.dumps(x).encode() for x in items[8:]]
    return [(topic(sensor), m) for m in messages]


def coldchain_state(service: Service, unit_id: int) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "readings": service.rows(select(Reading.id, Reading.sensor_id, Reading.seq, Reading.ts, Reading.temp_c)
                                 .order_by(Reading.id)),
        "excursions": service.rows(select(Excursion.id, Excursion.kind, Excursion.start, Excursion.end,
                                          Excursion.ongoing, Excursion.peak_c, Excursion.duration_min)
                                   .where(Excursion.storage_unit_id == unit_id).order_by(Excursion.id)),
        "alarms": service.rows(select(Alarm.id, Alarm.kind, Alarm.rule_index, Alarm.condition_start,
                                      Alarm.triggered_at, Alarm.ended_at, Alarm.alert_id)
                               .where(Alarm.storage_unit_id == unit_id).order_by(Alarm.id)),
        "alerts": service.rows(select(Alert.id, Alert.kind, Alert.dedupe_key, Alert.status, Alert.opened_at,
                                      Alert.resolved_at).order_by(Alert.id)),
        "holds": service.rows(select(LotHold.id, LotHold.excursion_id, LotHold.lot_id).order_by(LotHold.id)),
        "gaps": service.rows(select(SeqGap.id, SeqGap.first_missing, SeqGap.filled).order_by(SeqGap.id)),
    }


@pytest.mark.timeout(120)
def test_the_same_readings_published_twice_store_nothing_twice_and_alert_once(service: Service):
    tag = uuid.uuid4().hex[:6]
    sensor = f"d{tag}"
    now = datetime.now(UTC).replace(microsecond=0)
    unit_id = service.register(now - timedelta(minutes=56), {f"Fridge {tag}": [sensor]})[sensor]
    payloads = excursion_payloads(sensor, now)
    ingest = IngestProcess(service)
    watcher = Watcher(service.mqtt_url, service.instance)
    publisher = Publisher(service.mqtt_url)
    sentinels = iter(range(10**6))

    def publish_and_drain(messages: list[tuple[str, bytes]]) -> None:
        """Publish, then a reading of an unrelated sensor: once that is stored, the ingest (one
        consumer, one publisher, in-order delivery) has processed everything published before it."""
        n = next(sentinels)
        publisher.publish_all([*messages, (topic(f"s{tag}"), json.dumps(reading(n, now, 5.0)).encode())])
        wait_for(lambda: service.count(Reading, Reading.sensor_id == f"s{tag}", Reading.seq == n) == 1, 30,
                 f"sentinel {n} to be stored", 0.1)

    try:
        start_listening(ingest, watcher)
        publish_and_drain(payloads)
        first = coldchain_state(service, unit_id)
        ours = [r for r in first["readings"] if r[1] == sensor]
        assert len(ours) == 12
        assert [(a[1], a[2], a[5] is not None) for a in first["alarms"]] == [("high", 0, True)], first["alarms"]
        assert [(e[1], e[4]) for e in first["excursions"]] == [("high", False)], first["excursions"]
        excursion_alerts = [a for a in first["alerts"] if a[1] == "excursion"]
        assert [(a[2], a[3]) for a in excursion_alerts] == [(f"alarm:{first['alarms'][0][0]}", "resolved")]

        # The exact same payloads again (a device that resends after a lost PUBACK, a replayed log).
        publish_and_drain(payloads)
        second = coldchain_state(service, unit_id)
        assert [r for r in second["readings"] if r[1] == sensor] == ours
        assert {k: v for k, v in second.items() if k != "readings"} == \
               {k: v for k, v in first.items() if k != "readings"}

        # Once more, shuffled, with one new in-range reading: the unit is re-evaluated over the whole
        # excursion, which must still be the one alarm with its one alert.
        again = list(payloads)
        random.Random(2).shuffle(again)
        new = json.dumps(reading(12, datetime.now(UTC), 5.0)).encode()
        publish_and_drain([*again, (topic(sensor), new)])
        third = coldchain_state(service, unit_id)
        assert len([r for r in third["readings"] if r[1] == sensor]) == 13
        assert [a[:5] for a in third["alarms"]] == [a[:5] for a in first["alarms"]]
        assert [a for a in third["alerts"] if a[1] == "excursion"] == excursion_alerts
        assert [e[:3] for e in third["excursions"]] == [e[:3] for e in first["excursions"]]
        assert third["holds"] == first["holds"]
        assert ingest.alive()
    finally:
        ingest.stop()
        publisher.close()
        watcher.close()


# --------------------------------------------------------------------------------------------------
# 3. 2,000 random payloads: each stored or rejected with a reason, and the ingest still ingesting
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    """What should become of one message: readings stored, a status set, or a rejection."""

    stored: frozenset[tuple[str, int]] = frozenset()
    status: tuple[str, str] | None = None
    reason: str | None = None  # a rejection whose reason contains this ("" = any reason)
    category: str = ""

    @property
    def rejected(self) -> bool:
        return self.reason is not None


def rejected_text(payload: bytes) -> str:
    """The payload as `readings.reject` keeps it (truncated, escaped)."""
    return payload[:PAYLOAD_KEEP].decode("utf-8", errors="backslashreplace").replace("\x00", "\\x00")


class PayloadFactory:
    """A seeded mix of valid readings, backfill arrays, statuses and every kind of broken message.

    Every valid reading gets a fresh seq, so each message's readings can be found afterwards, and
    readings inside rejected messages get fresh seqs too, so a partly stored message would show."""

    # Payloads that once escaped validation as other exceptions (see the regression test below); they
    # must be rejected by validation, never through the ingest's poison-message path.
    CRASHERS = ("int too large for a float", "int over 4300 digits", "nesting beyond the recursion limit",
                "year 1 with a positive offset", "NUL in a field name")

    def __init__(self, seed: int, tag: str, now: datetime) -> None:
        self.rng, self.tag, self.now = random.Random(seed), tag, now
        self.seq = 0
        # Registered sensors get realistic data (recent, mostly in range), so the unit's evaluation
        # stays cheap; unregistered ones get the whole range of what the contract accepts.
        self.registered = [f"f{tag}-r{i}" for i in range(2)]
        self.unregistered = [f"f{tag}-u{i}" for i in range(4)] + [f"f{tag}.x_y-z", (f"f{tag}" + "9" * 64)[:64]]
        self.statuses = 0
        self.done: list[tuple[str, bytes, Expect]] = []

    # -- valid pieces ---------------------------------------------------------------------------

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def sensor(self) -> str:
        return self.rng.choice(self.registered + self.unregistered)

    def ts(self, realistic: bool = False) -> str:
        r = self.rng
        when = self.now + timedelta(seconds=r.uniform(-6 * 3600 if realistic else -3 * 86400, 300))
        if r.random() < 0.1:
            when = when.replace(microsecond=0)
        zone = r.choice([UTC, UTC, *map(ZoneInfo, ("America/New_York", "Asia/Kolkata", "Pacific/Kiritimati"))])
        text = when.astimezone(zone).isoformat()
        return text.replace("+00:00", r.choice(["Z", "z", "+00:00"])) if zone is UTC else text

    def valid_obj(self, sensor: str = "") -> dict[str, Any]:
        r = self.rng
        realistic = sensor in self.registered
        temp = (round(r.uniform(2, 8), 1) if r.random() < 0.95 else round(r.uniform(-5, 15), 1)) if realistic else \
            r.choice([round(r.uniform(2, 8), 2), round(r.uniform(-150, 150), 3), r.randint(-150, 150), 150.0, -150, 0])
        obj: dict[str, Any] = {"seq": self.next_seq(), "ts": self.ts(realistic), "temp_c": temp}
        if r.random() < 0.5:
            obj["battery_pct"] = r.choice([None, r.randint(0, 100), round(r.uniform(0, 100), 1), 0, 100.0])
        if r.random() < 0.3:
            obj["door_open"] = r.choice([None, True, False])
        keys = list(obj)
        r.shuffle(keys)
        return {k: obj[k] for k in keys}

    def dumps(self, data: Any) -> bytes:
        r = self.rng.random()
        if r < 0.2:
            return json.dumps(data, indent=2).encode()
        if r < 0.4:
            return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
        return json.dumps(data).encode()

    def add(self, topic_: str, payload: bytes, expect: Expect) -> None:
        self.done.append((topic_, payload, expect))

    def stored(self, sensor: str, objs: list[dict[str, Any]], category: str) -> Expect:
        return Expect(stored=frozenset((sensor, int(o["seq"])) for o in objs), category=category)

    # -- generators -----------------------------------------------------------------------------

    def valid_single(self) -> None:
        s = self.sensor()
        obj = self.valid_obj(s)
        self.add(topic(s), self.dumps(obj), self.stored(s, [obj], "valid object"))

    def valid_array(self) -> None:
        s = self.sensor()
        sizes = [1, 2, 3, 5] if s in self.registered else [1, 2, 5, 30, 200]
        objs = [self.valid_obj(s) for _ in range(self.rng.choice(sizes))]
        if len(objs) > 2 and self.rng.random() < 0.2:
            objs.append(dict(objs[0]))  # the same reading twice in one message: stored once
        self.add(topic(s), self.dumps(objs), self.stored(s, objs, "valid array"))

    def valid_odd(self) -> None:
        s, r = self.sensor(), self.rng
        kind = r.choice(["old", "epoch", "seq extremes", "repeat"])
        if kind == "repeat" and any(e.stored for _, _, e in self.done):
            t, p, e = r.choice([d for d in self.done if d[2].stored])
            self.add(t, p, Expect(stored=e.stored, category="valid, published again"))
            return
        obj = self.valid_obj(s)
        if kind == "old":
            obj["ts"] = "0001-01-01T00:00:00Z"
        elif kind == "epoch":
            obj["ts"] = "1970-01-01T00:00:00.000001+00:00"
        else:
            obj["seq"] = 2**63 - 1 - self.next_seq()
        self.add(topic(s), self.dumps(obj), self.stored(s, [obj], f"valid, {kind}"))

    def status(self) -> None:
        self.statuses += 1
        s = f"st{self.tag}-{self.statuses}"
        value = self.rng.choice(["online", "offline"])
        payload = self.rng.choice([value, value.upper(), f"  {value}\n", value.capitalize()])
        self.add(f"coldchain/{s}/status", payload.encode(), Expect(status=(s, value), category="status"))

    def bad_status(self) -> None:
        self.statuses += 1
        s = f"st{self.tag}-{self.statuses}"
        payload = self.rng.choice([b"", b"maybe", b"on line", b"\xff\xfe", b'{"status": "online"}', b"1"])
        self.add(f"coldchain/{s}/status", payload, Expect(reason="status must be online or offline",
                                                          category="bad status"))

    def broken_field(self) -> None:
        """One valid-looking reading with one field broken; sometimes inside an otherwise good array."""
        r = self.rng
        obj = self.valid_obj()
        cases: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
            ("missing seq", lambda o: o.pop("seq"), "seq must be a non-negative integer"),
            ("missing ts", lambda o: o.pop("ts"), "ts must be an RFC 3339 string"),
            ("missing temp_c", lambda o: o.pop("temp_c"), "temp_c must be a finite number"),
            ("seq string", lambda o: o.update(seq=str(o["seq"])), "seq must be"),
            ("seq float", lambda o: o.update(seq=o["seq"] + 0.5), "seq must be"),
            ("seq bool", lambda o: o.update(seq=True), "seq must be"),
            ("seq negative", lambda o: o.update(seq=-o["seq"]), "seq must be"),
            ("seq 2**63", lambda o: o.update(seq=2**63 + r.randint(0, 10**6)), "seq must be"),
            ("seq huge", lambda o: o.update(seq=10**80), "seq must be"),
            ("ts number", lambda o: o.update(ts=1_700_000_000), "ts must be an RFC 3339 string"),
            ("ts naive", lambda o: o.update(ts=iso(self.now - timedelta(hours=1)).removesuffix("Z")),
             "has no time zone offset"),
            ("ts date only", lambda o: o.update(ts="2026-01-15"), "has no time zone offset"),
            ("ts garbage", lambda o: o.update(ts=r.choice([
                "yesterday", "", "2026-13-01T00:00:00Z", "2026-01-01T25:00:00Z", "12:00", "2026-01-01T00:00+25:00"])),
             "is not RFC 3339"),
            ("ts very long", lambda o: o.update(ts=o["ts"] + "x" * 100_000), "ts '2"),  # reasons are cut at 2000
            ("ts future", lambda o: o.update(ts=iso(self.now + timedelta(minutes=r.randint(30, 10**6)))),
             "is in the future"),
            ("ts year 9999", lambda o: o.update(ts="9999-12-31T23:59:59Z"), "is in the future"),
            ("temp string", lambda o: o.update(temp_c=r.choice(["warm", "5.0", ""])), "temp_c must be a finite"),
            ("temp bool", lambda o: o.update(temp_c=False), "temp_c must be a finite number"),
            ("temp null", lambda o: o.update(temp_c=None), "temp_c must be a finite number"),
            ("temp nested", lambda o: o.update(temp_c={"value": 5.0, "unit": "C"}), "temp_c must be a finite"),
            ("temp list", lambda o: o.update(temp_c=[5.0]), "temp_c must be a finite number"),
            ("temp NaN", lambda o: o.update(temp_c=float("nan")), "temp_c must be a finite number"),
            ("temp Infinity", lambda o: o.update(temp_c=r.choice([float("inf"), float("-inf")])), "finite"),
            ("temp out of range", lambda o: o.update(temp_c=r.choice([150.01, -151, 1e300, -1e308, 10**20])),
             "(sensor fault?)"),
            ("battery range", lambda o: o.update(battery_pct=r.choice([101, -1, 100.5, 1e9])),
             "battery_pct must be 0..100"),
            ("battery type", lambda o: o.update(battery_pct=r.choice(["full", float("nan"), True, [50]])),
             "battery_pct must be a finite number"),
            ("door type", lambda o: o.update(door_open=r.choice(["yes", 1, 0, "true", {}])),
             "door_open must be true or false"),
            ("unknown field", lambda o: o.update({r.choice(["extra", "Temp_C", "", "seq ", "humidity",
                                                            "x" * 5000, "ünïcødé"]): 1}), "unknown field"),
            ("nested reading", lambda o: (o.clear(), o.update(reading=self.valid_obj())), "unknown field"),
        ]
        name, breaker, reason = r.choice(cases)
        breaker(obj)
        s = self.sensor()
        if r.random() < 0.3:
            objs: list[Any] = [self.valid_obj() for _ in range(r.randint(1, 5))]
            objs.insert(r.randint(0, len(objs)), obj)
            self.add(topic(s), self.dumps(objs), Expect(reason=reason, category=f"array with {name}"))
        else:
            self.add(topic(s), self.dumps(obj), Expect(reason=reason, category=name))

    def broken_message(self) -> None:
        r = self.rng
        good = json.dumps(self.valid_obj()).encode()
        cases: list[tuple[str, Callable[[], bytes], str]] = [
            ("truncated JSON", lambda: good[:r.randint(0, len(good) - 1)], "not UTF-8 JSON"),
            ("trailing garbage", lambda: good + b"}", "not UTF-8 JSON"),
            ("single quotes", lambda: good.replace(b'"', b"'"), "not UTF-8 JSON"),
            ("empty payload", lambda: b"", "not UTF-8 JSON"),
            ("binary junk", lambda: b"\xff" + r.randbytes(r.randint(0, 3000)), "not UTF-8 JSON"),
            ("NUL bytes", lambda: good[:5] + b"\x00" + good[5:], "not UTF-8 JSON"),
            ("latin-1", lambda: '{"seq": 1, "ts": "é"}'.encode("latin-1"), "not UTF-8 JSON"),
            ("JSON scalar", lambda: r.choice([b"1", b'"reading"', b"null", b"true", b"-0.5"]),
             "expected a JSON object"),
            ("array of scalars", lambda: b"[1, 2, 3]", "item 0: expected a JSON object"),
            ("array of arrays", lambda: json.dumps([[self.valid_obj()]]).encode(), "expected a JSON object"),
            ("empty array", lambda: r.choice([b"[]", b"[ ]", b" [\n] "]), "empty array"),
            ("empty object", lambda: b"{}", "seq must be"),
            ("very long string", lambda: json.dumps({"seq": "9" * 200_000}).encode(), "seq must be"),
        ]
        name, make, reason = r.choice(cases)
        self.add(topic(self.sensor()), make(), Expect(reason=reason, category=name))

    def bad_topic(self) -> None:
        r = self.rng
        t = r.choice([f"coldchain/bad id {self.tag}/reading", "coldchain//reading", f"coldchain/ü{self.tag}/reading",
                      f"coldchain/{self.tag}{'a' * 64}/reading", f"coldchain/{self.tag}{'b' * 400}/reading",
                      f"coldchain/{self.tag}\u200b/reading", f"coldchain/{self.tag}😀/reading",
                      f"coldchain/x{self.tag}:1/reading"])
        self.add(t, self.dumps(self.valid_obj()), Expect(reason="is not coldchain/<id>/reading", category="bad topic"))

    def crasher(self, which: str) -> None:
        ts = iso(self.now)
        payload = {
            "int too large for a float": f'{{"seq": {self.next_seq()}, "ts": "{ts}", "temp_c": {"9" * 400}}}',
            "int over 4300 digits": f'{{"seq": {"1" * 5000}, "ts": "{ts}", "temp_c": 4.0}}',
            "nesting beyond the recursion limit": "[" * 50_000 + "]" * 50_000,
            "year 1 with a positive offset": f'{{"seq": {self.next_seq()}, "ts": "0001-01-01T00:30:00+01:00", '
                                             f'"temp_c": 4.0}}',
            "NUL in a field name": f'{{"seq": {self.next_seq()}, "ts": "{ts}", "temp_c": 4.0, "a\\u0000b": 1}}',
        }[which]
        self.add(topic(self.sensor()), payload.encode(), Expect(reason="", category=which))

    def build(self, n: int) -> list[tuple[str, bytes, Expect]]:
        makers = [(self.valid_single, 34), (self.valid_array, 12), (self.valid_odd, 3), (self.status, 3),
                  (self.bad_status, 2), (self.broken_field, 28), (self.broken_message, 12), (self.bad_topic, 6)]
        funcs, weights = zip(*makers, strict=True)
        specials = [lambda w=w: self.crasher(w) for w in self.CRASHERS * 2]
        oversize = [self.valid_obj() for _ in range(10_001)]
        specials.append(lambda: self.add(topic(self.sensor()), json.dumps(oversize).encode(),
                                         Expect(reason="over the limit of 10000", category="array over 10,000")))
        at = set(self.rng.sample(range(n), len(specials)))
        for i in range(n):
            if i in at:
                specials.pop()()
            else:
                self.rng.choices(funcs, weights)[0]()
        assert len(self.done) == n
        return self.done


@pytest.mark.timeout(300)
def test_2000_random_payloads_are_each_stored_or_rejected_with_a_reason_and_ingest_goes_on(service: Service):
    tag = uuid.uuid4().hex[:6]
    now = datetime.now(UTC)
    factory = PayloadFactory(seed=2000, tag=tag, now=now)
    service.register(now - timedelta(days=4), {f"Fridge {tag}": factory.registered})
    cases = factory.build(2000)
    expected_pairs = set().union(*(e.stored for _, _, e in cases))
    expected_rejects = Counter((t[:300], rejected_text(p)) for t, p, e in cases if e.rejected)
    reason_for = {(t[:300], rejected_text(p)): e for t, p, e in cases if e.rejected}
    statuses = {e.status for _, _, e in cases if e.status}
    our_topics = {t[:300] for t, _, _ in cases}
    n_rejected = sum(expected_rejects.values())

    ingest = IngestProcess(service)
    watcher = Watcher(service.mqtt_url, service.instance)
    publisher = Publisher(service.mqtt_url)
    started = time.monotonic()
    try:
        start_listening(ingest, watcher)
        publisher.publish_all([(t, p) for t, p, _ in cases])

        def rejected_rows() -> list[tuple[Any, ...]]:
            return [r for r in service.rows(select(RejectedInput.topic, RejectedInput.payload, RejectedInput.reason))
                    if r[0] in our_topics]

        published = time.monotonic()
        try:
            wait_for(lambda: len(rejected_rows()) >= n_rejected and service.count(Reading) >= len(expected_pairs),
                     180, f"{n_rejected} rejections and {len(expected_pairs)} readings", 0.5)
        except AssertionError as exc:
            raise AssertionError(f"{exc}: have {len(rejected_rows())} rejections and {service.count(Reading)} "
                                 f"readings\n{ingest.log_tail()}") from None
        drained = time.monotonic()
        time.sleep(1.0)  # anything more would be a bug: let it show

        stored = Counter(service.rows(select(Reading.sensor_id, Reading.seq)))
        assert [k for k, c in stored.items() if c > 1] == []
        stored_set = set(stored)
        assert sorted(expected_pairs - stored_set)[:10] == [], "valid readings not stored"
        assert sorted(stored_set - expected_pairs)[:10] == [], "readings stored from a rejected message"
        rows = rejected_rows()
        got_rejects = Counter((t, p) for t, p, _ in rows)
        assert got_rejects == expected_rejects, (
            f"rejections differ: missing {list((expected_rejects - got_rejects).items())[:3]!r:.2000}, "
            f"unexpected {list((got_rejects - expected_rejects).items())[:3]!r:.2000}")
        wrong_reason = [(reason_for[(t, p)].category, reason_for[(t, p)].reason, reason[:200]) for t, p, reason in rows
                        if not reason.strip() or reason_for[(t, p)].reason not in reason]
        assert wrong_reason == [], sorted({(c, f, r[:60]) for c, f, r in wrong_reason})[:20]
        got_statuses = set(service.rows(select(Sensor.id, Sensor.status).where(Sensor.id.like(f"st{tag}-%"))))
        assert got_statuses == statuses

        # Every message accounted for: stored (all its readings there, or its status set) or rejected.
        accounted = Counter("rejected" if e.rejected else "stored" for _, _, e in cases
                            if e.rejected or e.status in got_statuses or (e.stored and e.stored <= stored_set))
        assert accounted["stored"] + len(rows) == len(cases) == 2000

        # Still ingesting: a process that stayed up stores one more reading.
        assert ingest.alive(), ingest.log_tail()
        final = (f"f{tag}-final", 1)
        publisher.publish_all([(topic(final[0]), json.dumps(reading(1, datetime.now(UTC), 4.5)).encode())])
        wait_for(lambda: service.count(Reading, Reading.sensor_id == final[0]) == 1, 30, "the final reading", 0.1)
        assert ingest.alive(), ingest.log_tail()

        by_category = Counter(e.category for _, _, e in cases)
        poison = sorted({(reason_for[(t, p)].category, reason.split(":")[1].strip()) for t, p, reason in rows
                         if reason.startswith("could not be stored")})
        assert poison == [], "payloads rejected only through the poison-message path"
        print(f"\n2000 payloads: {accounted['stored']} stored ({len(expected_pairs)} readings), {len(rows)} rejected, "
              f"{len(by_category)} categories; via the poison path: {poison}; published in {published - started:.1f}s, "
              f"processed {drained - published:.1f}s later, {time.monotonic() - started:.1f}s in all")
    finally:
        ingest.stop()
        publisher.close()
        watcher.close()


# --------------------------------------------------------------------------------------------------
# Regression tests for bugs found while writing the tests above
# --------------------------------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_hostile_numbers_and_nesting_are_rejected_by_validation_not_by_the_poison_path(service: Service):
    ts = iso(datetime.now(UTC))
    hostile = {
        "400-digit temp_c": f'{{"seq": 1, "ts": "{ts}", "temp_c": {"9" * 400}}}',
        "400-digit battery_pct": f'{{"seq": 2, "ts": "{ts}", "temp_c": 4.0, "battery_pct": {"9" * 400}}}',
        "5000-digit seq": f'{{"seq": {"1" * 5000}, "ts": "{ts}", "temp_c": 4.0}}',
        "nested 50,000 deep": "[" * 50_000 + "]" * 50_000,
        "year 1, +01:00": '{"seq": 3, "ts": "0001-01-01T00:30:00+01:00", "temp_c": 4.0}',
        "NUL in a field name": f'{{"seq": 4, "ts": "{ts}", "temp_c": 4.0, "a\\u0000b": 1}}',
    }
    sensor = f"h{uuid.uuid4().hex[:6]}"
    ingest = IngestProcess(service)
    watcher = Watcher(service.mqtt_url, service.instance)
    publisher = Publisher(service.mqtt_url)
    try:
        start_listening(ingest, watcher)
        publisher.publish_all([(topic(sensor), p.encode()) for p in hostile.values()])
        ours = RejectedInput.topic == topic(sensor)
        wait_for(lambda: service.count(RejectedInput, ours) == len(hostile), 90, "every hostile payload to be rejected",
                 0.1)
        assert service.count(Reading) == 0
        reasons = dict(service.rows(select(RejectedInput.payload, RejectedInput.reason).where(ours)))
        poison = {name: reasons[rejected_text(p.encode())][:80] for name, p in hostile.items()
                  if reasons[rejected_text(p.encode())].startswith("could not be stored")}
        assert poison == {}
    finally:
        ingest.stop()
        publisher.close()
        watcher.close()


@pytest.mark.timeout(120)
def test_a_backfill_stored_in_parts_leaves_no_no_data_alarm_open(service: Service):
    """A logger back after three hours offline uploads its buffer in three messages, oldest first.
    (Found with the kill -9 test: every batch of a backfill left a no-data alarm open for good;
    fixed in ab3d48b, kept as a regression test.)"""
    sensor = f"b{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC).replace(microsecond=0)
    unit_id = service.register(now - timedelta(minutes=181), {f"Fridge {sensor}": [sensor]})[sensor]
    items = [reading(i, now - timedelta(minutes=180 - 5 * i), 5.0) for i in range(37)]  # -180 ... 0
    ingest = IngestProcess(service)
    watcher = Watcher(service.mqtt_url, service.instance)
    publisher = Publisher(service.mqtt_url)
    try:
        start_listening(ingest, watcher)
        for part in (items[:13], items[13:25], items[25:]):
            publisher.publish_all([(topic(sensor), json.dumps(part).encode())])
            wait_for(lambda n=part[-1]["seq"] + 1: service.count(Reading) == n, 30, "the part to be stored", 0.1)
        open_alarms = service.rows(select(Alarm.kind, Alarm.condition_start).where(
            Alarm.storage_unit_id == unit_id, Alarm.ended_at.is_(None)))
        open_alerts = service.rows(select(Alert.kind, Alert.subject).where(Alert.status == "open"))
        assert (open_alarms, open_alerts) == ([], [])  # every reading is there, five minutes apart
    finally:
        ingest.stop()
        publisher.close()
        watcher.close()
