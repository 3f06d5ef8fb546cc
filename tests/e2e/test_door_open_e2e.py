"""A fridge door left open, end to end: the real `inventory-service run` process, a real Mosquitto and the
simulated data logger of `firmware_sim`.

Acceptance (issue text): "a simulated door left open for 45 minutes raises exactly one alarm and holds
exactly the lots in that fridge".

Two refrigerators with the default rules (high above 8.0 °C for 30 consecutive minutes), probe-a in
fridge A (two lots), probe-b in fridge B (one lot), and one lot in a stockroom. Each logger sends the last
three hours (the simulator's default start: the last reading stamped now); A's door is open from minute 60
for 45 minutes. Each logger first uploads its memory as one backfill array, then the same series is sent
again through `python -m firmware_sim fridge ... --speed 0` as 36 single messages (a redelivery), and
nothing may change.

Why part of the setup goes through the services layer: a reading belongs to the unit its sensor was
assigned to at the reading's time, and the API assigns "now". The series lies in the past, so the fridges,
their stock and the sensor assignments are written with a `Context` whose `now` is just before the first
reading (sensors installed three hours ago). Sensors are assigned only after the service's start-up
no-data sweep has run (seen in its DEBUG log): a sweep that finds a sensor silent since its assignment
raises a no-data alarm, and readings that fill the silence afterwards do not end it (cold_evaluation
`_no_data` only updates the alarms it finds again), while this test wants none at all. The next sweeps
come a minute after start, by which time the readings are stored.

Why the first delivery is one array per logger: evaluating a unit while only part of a burst of past
readings is stored sees silence from the last stored reading to now and raises a no-data alarm, which the
rest of the burst, a few milliseconds later, does not end (same cause). Where the ingest cuts a burst of
single messages into batches is a matter of timing, so such a delivery would make the alarm count flaky;
one array is stored and evaluated in one transaction. The redelivery stores nothing new, so evaluates
nothing, and may come as single messages.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zlib
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from firmware_sim.fridge import Batch, SimulatedFridge, default_start, generate, make_scenario, rfc3339
from inventory_service.db.engine import make_engine
from inventory_service.db.models import Sensor
from inventory_service.db.uow import Database
from inventory_service.ingest.broker import BrokerAddress
from inventory_service.services import catalog, stock, storage_units
from inventory_service.services.context import Context
from tests.support.services import free_port
from tests.support.wait import wait_for

pytestmark = [pytest.mark.mqtt, pytest.mark.slow, pytest.mark.timeout(180)]

CLI = [sys.executable, "-m", "inventory_service.cli"]
SIM = [sys.executable, "-m", "firmware_sim", "fridge"]
SITE_TZ = ZoneInfo("Europe/Berlin")

INTERVAL = timedelta(minutes=5)
DURATION = timedelta(minutes=180)
COUNT = int(DURATION / INTERVAL)  # 36 readings per logger
DOOR_AT, DOOR_MINUTES = 60.0, 45.0
SENSOR_A, SENSOR_B = "probe-a", "probe-b"
SEEDS = {SENSOR_A: zlib.crc32(SENSOR_A.encode()), SENSOR_B: zlib.crc32(SENSOR_B.encode())}  # the CLI's defaults
DOOR = make_scenario("door_open", door_at=DOOR_AT, door_minutes=DOOR_MINUTES)
NORMAL = make_scenario("normal")
EXPIRY = date(2030, 6, 30)
FIRST_PERIODIC_SWEEP_S = 60  # ingest sweeper and the scheduler's no_data_check, counted from start-up


# --------------------------------------------------------------------------------------------------
# HTTP, the service process, MQTT housekeeping
# --------------------------------------------------------------------------------------------------


class Http:
    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token

    def call(self, method: str, path: str, body: Any = None, *, expect: int = 200, **query: Any) -> Any:
        url = f"{self.base}{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        req = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                     method=method)
        req.add_header("Content-Type", "application/json")
        req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status, payload = r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            status, payload = e.code, json.loads(e.read())
        assert status == expect, (method, path, status, payload)
        return payload

    def get(self, path: str, **query: Any) -> Any:
        return self.call("GET", path, **query)

    def post(self, path: str, body: Any) -> Any:
        return self.call("POST", path, body, expect=201)


def healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/api/v1/health", timeout=2) as r:
            health = json.loads(r.read())
    except (OSError, ValueError):
        return False
    return bool(health.get("database") == "ok" and health.get("mqtt") == "ok")


def mqtt_client(url: str, client_id: str) -> tuple[mqtt.Client, Callable[[Callable[[], bool], float], bool]]:
    """A connected MQTT 5 client driven from this thread (no loop thread), and `pump(done, timeout)`."""
    address = BrokerAddress.parse(url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    if address.username:
        client.username_pw_set(address.username, address.password)

    def pump(done: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            client.loop(0.05)
        return done()

    connected: list[bool] = []
    client.on_connect = lambda *_: connected.append(True)
    client.connect(address.host, address.port, keepalive=30, clean_start=True)
    assert pump(lambda: bool(connected), 10), f"no CONNACK from {address.redacted()}"
    return client, pump


def wait_for_retained(url: str, topic: str, payload: bytes, timeout: float = 20) -> None:
    """The service publishes `online` on its status topic right after subscribing (same connection, so
    the broker has taken the subscription once it holds the status)."""
    client, pump = mqtt_client(url, f"e2e-watch-{uuid.uuid4().hex[:8]}")
    seen: list[bytes] = []
    client.on_message = lambda _c, _u, msg: seen.append(bytes(msg.payload))
    try:
        client.subscribe(topic, qos=1)
        assert pump(lambda: payload in seen, timeout), f"{topic}: saw {seen}, not {payload!r}"
    finally:
        client.disconnect()


def clean_broker(url: str, ingest_client_id: str, retained_topics: list[str]) -> None:
    """The broker is shared by the test session: drop this test's ingest session (clean start, no
    expiry) and its retained status messages, so no later test sees them."""
    client, pump = mqtt_client(url, ingest_client_id)
    try:
        infos = [client.publish(topic, b"", qos=1, retain=True) for topic in retained_topics]
        pump(lambda: all(i.is_published() for i in infos), 10)
    finally:
        client.disconnect()


def sensor_rows(db: Database) -> dict[str, Sensor]:
    """The loggers' rows, read from the database: `GET /api/v1/sensors` answers 500 as soon as a sensor
    exists (its response schema serialises sensors as storage units), so ingest progress is read here."""
    with db.unit_of_work(write=False) as uow:
        rows = list(uow.session.scalars(select(Sensor).where(Sensor.id.in_(list(SEEDS)))))
        for row in rows:
            uow.session.expunge(row)
    return {row.id: row for row in rows}


# --------------------------------------------------------------------------------------------------
# The expected series
# --------------------------------------------------------------------------------------------------


def high_runs(temps: list[tuple[datetime, float]], max_c: float = 8.0) -> list[tuple[datetime, datetime, float]]:
    """(first high reading, first in-range reading after it, peak) for each run above `max_c`. With a
    reading every interval and nothing missing, that is what an excursion is."""
    runs, start, peak = [], None, 0.0
    for ts, t in temps:
        if t > max_c:
            start, peak = (ts, t) if start is None else (start, max(peak, t))
        elif start is not None:
            runs.append((start, ts, peak))
            start = None
    assert start is None, "the series ends out of range"
    return runs


# --------------------------------------------------------------------------------------------------
# The test
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def service_env(tmp_path: Path, mqtt_url: str) -> Iterator[tuple[dict[str, str], str, str]]:
    port = free_port()
    instance = f"e2e-door-{uuid.uuid4().hex[:10]}"
    env = {**os.environ, "INVENTORY_DATA_DIR": str(tmp_path), "INVENTORY_BIND": f"127.0.0.1:{port}",
           "INVENTORY_MQTT_URL": mqtt_url, "INVENTORY_TIMEZONE": str(SITE_TZ), "INVENTORY_INSTANCE": instance,
           "INVENTORY_LOG_LEVEL": "DEBUG"}
    for name in ("INVENTORY_DATABASE_URL", "INVENTORY_SCANNERS", "INVENTORY_SMTP_URL", "INVENTORY_MQTT_SHARED"):
        env.pop(name, None)
    subprocess.run([*CLI, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=60)
    yield env, f"http://127.0.0.1:{port}", instance
    clean_broker(mqtt_url, f"inventory-ingest-{instance}",
                 [f"coldchain/{s}/status" for s in SEEDS] + [f"inventory/ingest/{instance}/status"])


def test_a_door_left_open_45_minutes_raises_one_alarm_and_holds_exactly_that_fridges_lots(service_env, mqtt_url):
    env, base, instance = service_env
    data_dir = Path(env["INVENTORY_DATA_DIR"])
    token = subprocess.run([*CLI, "token", "create", "--name", "e2e-admin", "--role", "admin"], env=env,
                           check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    api = Http(base, token)

    # The series: 36 readings every 5 minutes, the last one stamped now (the simulator's default start).
    start = default_start(COUNT, INTERVAL, 0)
    series = {SENSOR_A: generate(DOOR, start, DURATION, INTERVAL, SEEDS[SENSOR_A]),
              SENSOR_B: generate(NORMAL, start, DURATION, INTERVAL, SEEDS[SENSOR_B])}
    assert [len(r) for r in series.values()] == [COUNT, COUNT]
    [(ex_start, ex_end, peak)] = high_runs([(r.ts, r.temp_c) for r in series[SENSOR_A]])
    assert high_runs([(r.ts, r.temp_c) for r in series[SENSOR_B]]) == []
    assert all(r.temp_c >= 2.0 for rs in series.values() for r in rs), "nothing may read low"
    # What this seed gives: high from minute 65 (door open at 60) until the reading at minute 130, when
    # the compressor has pulled the air back below 8.0 °C, 25 minutes after the door closed at 105.
    assert (ex_start - start, ex_end - start, peak) == (timedelta(minutes=65), timedelta(minutes=130), 15.1)
    duration_min = (ex_end - ex_start).total_seconds() / 60  # 65.0

    # Installed three hours ago: the fridges and their stock, just before the first reading.
    installed = start - timedelta(minutes=2)
    db = Database(make_engine(f"sqlite:///{data_dir / 'inventory.db'}"))
    past = Context(actor="e2e-setup", source="cli", now=installed, tz=SITE_TZ)
    try:
        with db.unit_of_work() as uow:
            unit_a = storage_units.create_unit(uow, past, name="Fridge A", kind="refrigerator")
            unit_b = storage_units.create_unit(uow, past, name="Fridge B", kind="refrigerator")
            item = catalog.create_item(uow, past, name="MMR vaccine", storage="refrigerated")
            received: dict[str, tuple[int, int, int]] = {}
            for number, location_id, quantity in (("A-1", unit_a.location_id, 10), ("A-2", unit_a.location_id, 25),
                                                  ("B-1", unit_b.location_id, 15)):
                lot, _ = stock.receive(uow, past, item_id=item.id, location_id=location_id, lot_number=number,
                                       expiry=EXPIRY, quantity=quantity)
                received[number] = (lot.id, location_id, quantity)
            ids = {"A": unit_a.id, "B": unit_b.id, "item": item.id}
            uow.commit()

        launched = time.monotonic()
        log_path = data_dir / "service.log"
        with log_path.open("wb") as out:
            proc = subprocess.Popen([*CLI, "run"], env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: healthy(base) or proc.poll() is not None, 30, "the service to answer", 0.1)
            assert proc.poll() is None, f"the service exited: {log_path.read_text()}"
            wait_for_retained(mqtt_url, f"inventory/ingest/{instance}/status", b"online")
            # The start-up no-data sweep has run (with no sensor assigned yet); the next is a minute away.
            wait_for(lambda: "job no_data_check: " in log_path.read_text(errors="replace"), 30,
                     "the start-up no-data sweep", 0.1)

            # What the API says about the setup, and the stockroom lot received through it.
            units = {u["name"]: u for u in api.get("/api/v1/storage-units")["items"]}
            for name in ("Fridge A", "Fridge B"):
                assert (units[name]["min_c"], units[name]["max_c"], units[name]["no_data_min"]) == (2.0, 8.0, 60)
                assert [(r["kind"], r["mode"], r["delay_min"]) for r in units[name]["alarm_rules"]] == [
                    ("high", "consecutive", 30), ("low", "consecutive", 15)]
            stockroom = api.post("/api/v1/locations", {"code": "SR", "name": "Stockroom", "kind": "stockroom"})
            got = api.post("/api/v1/stock/receive", {"item_id": ids["item"], "location_id": stockroom["id"],
                                                     "lot_number": "S-1", "expiry": EXPIRY.isoformat(),
                                                     "quantity": 40})
            received["S-1"] = (got["lot"]["id"], stockroom["id"], 40)

            # The sensors, installed with the fridges; from here on a sweep would find them silent until
            # their readings are stored, a second later.
            with db.unit_of_work() as uow:
                for sensor_id, unit_id in ((SENSOR_A, ids["A"]), (SENSOR_B, ids["B"])):
                    storage_units.assign_sensor(uow, past, sensor_id=sensor_id, storage_unit_id=unit_id,
                                                interval_min=5)
                uow.commit()
            assert {s: (row.storage_unit_id, row.interval_min) for s, row in sensor_rows(db).items()} == {
                SENSOR_A: (ids["A"], 5), SENSOR_B: (ids["B"], 5)}

            # Each logger uploads the last three hours as one backfill array (oldest first) over the broker.
            address = BrokerAddress.parse(mqtt_url)
            for sensor_id, readings in series.items():
                with SimulatedFridge(sensor_id, address.host, address.port, address.username,
                                     address.password) as fridge:
                    fridge.publish(Batch(tuple(readings), backfill=True))
                assert (fridge.summary.published, fridge.summary.messages, fridge.summary.arrays,
                        fridge.summary.last_seq) == (COUNT, 1, 1, COUNT - 1)

            def ingested(after: datetime | None = None) -> bool:
                """Every reading stored and each logger's closing `offline` processed after them."""
                found = sensor_rows(db)
                return all(
                    api.get("/api/v1/readings", sensor_id=s, limit=1)["count"] == COUNT
                    and found[s].status == "offline"
                    and (after is None or found[s].status_at > after)
                    for s in SEEDS)

            wait_for(ingested, 60, "both series to be stored", 0.1)
            settled_s = time.monotonic() - launched

            # Exactly one alarm in all: high on fridge A, 30 minutes into the excursion, ended with it.
            alarms = api.get("/api/v1/alarms")["items"]
            assert len(alarms) == 1, (f"{alarms} (readings stored {settled_s:.0f}s after start; a sweep before "
                                      f"{FIRST_PERIODIC_SWEEP_S}s would find the sensors silent)")
            [alarm] = alarms
            assert (alarm["storage_unit_id"], alarm["kind"], alarm["mode"]) == (ids["A"], "high", "consecutive")
            assert datetime.fromisoformat(alarm["condition_start"]) == ex_start
            assert datetime.fromisoformat(alarm["triggered_at"]) == ex_start + timedelta(minutes=30)
            assert datetime.fromisoformat(alarm["ended_at"]) == ex_end
            assert api.get("/api/v1/alarms", active="true")["items"] == []

            # One excursion in A, as long as the series says, holding exactly A's two lots.
            days = {"from": start.astimezone(SITE_TZ).date().isoformat(),
                    "to": datetime.now(SITE_TZ).date().isoformat()}
            [ex] = api.get(f"/api/v1/storage-units/{ids['A']}/excursions", **days)["items"]
            assert (ex["kind"], ex["ongoing"], ex["peak_c"], ex["duration_min"]) == ("high", False, peak, duration_min)
            assert (datetime.fromisoformat(ex["start"]), datetime.fromisoformat(ex["end"])) == (ex_start, ex_end)
            assert ex["alarm_ids"] == [alarm["id"]] and alarm["excursion_id"] == ex["id"]
            assert sorted((lot["lot_number"], lot["quantity"], lot["lot_status"], lot["exposure_min"],
                           lot["disposition"]) for lot in ex["affected_lots"]) == [
                ("A-1", 10, "hold", duration_min, None), ("A-2", 25, "hold", duration_min, None)]
            assert api.get(f"/api/v1/storage-units/{ids['B']}/excursions", **days)["items"] == []

            # Stock: A's lots on hold, B's and the stockroom's still available.
            rows = api.get("/api/v1/stock", limit=500)["items"]
            assert sorted((r["lot_number"], r["lot_id"], r["location_id"], r["quantity"], r["status"])
                          for r in rows) == [
                ("A-1", *received["A-1"], "hold"), ("A-2", *received["A-2"], "hold"),
                ("B-1", *received["B-1"], "available"), ("S-1", *received["S-1"], "available")]

            # One excursion alert (resolved: the excursion was over when its readings arrived), no no-data.
            alerts = api.get("/api/v1/alerts", limit=500)["items"]
            [alert] = [a for a in alerts if a["kind"] == "excursion"]
            assert [a for a in alerts if a["kind"] == "no_data"] == []
            assert (alert["id"], alert["severity"], alert["status"]) == (alarm["alert_id"], "critical", "resolved")
            assert (alert["details"]["storage_unit_id"], alert["details"]["alarm_id"],
                    alert["details"]["excursion_id"]) == (ids["A"], alarm["id"], ex["id"])
            assert alert["details"]["held_lot_ids"] == sorted([received["A-1"][0], received["A-2"][0]])
            assert api.get("/api/v1/readings", storage_unit_id=ids["A"], limit=1)["count"] == COUNT
            assert api.get("/api/v1/readings", storage_unit_id=ids["B"], limit=1)["count"] == COUNT

            # Redelivery: the same two series again, reading by reading, through the simulator's command line.
            def snapshot() -> dict[str, Any]:
                rows_now = sensor_rows(db)
                return {
                    "alarms": api.get("/api/v1/alarms")["items"],
                    "excursions": [api.get(f"/api/v1/storage-units/{ids[u]}/excursions", **days)["items"]
                                   for u in "AB"],
                    "stock": api.get("/api/v1/stock", limit=500)["items"],
                    "alerts": api.get("/api/v1/alerts", limit=500)["items"],
                    "readings": [api.get("/api/v1/readings", sensor_id=s, limit=500)["items"] for s in SEEDS],
                    "max_seq": {s: rows_now[s].max_seq for s in SEEDS},
                }

            before = snapshot()
            assert before["max_seq"] == {SENSOR_A: COUNT - 1, SENSOR_B: COUNT - 1}
            resent_after = max(row.status_at for row in sensor_rows(db).values())
            for sensor_id, (scenario, timing) in {
                    SENSOR_A: ("door_open", ["--door-at", f"{DOOR_AT:g}", "--door-minutes", f"{DOOR_MINUTES:g}"]),
                    SENSOR_B: ("normal", [])}.items():
                sim = subprocess.run(
                    [*SIM, "--sensor", sensor_id, "--broker", mqtt_url, "--scenario", scenario, *timing,
                     "--duration-min", f"{DURATION.total_seconds() / 60:g}", "--speed", "0",
                     "--start", rfc3339(start), "--seed", str(SEEDS[sensor_id])],
                    env=env, capture_output=True, text=True, timeout=60)
                assert sim.returncode == 0, sim.stderr
                assert f"{COUNT} readings published in {COUNT} messages" in sim.stdout, sim.stdout
            wait_for(lambda: ingested(after=resent_after), 60, "the redelivered series to be processed", 0.1)
            assert snapshot() == before
            log = log_path.read_text(errors="replace")
            assert " ERROR " not in log and "Traceback" not in log, log
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
    finally:
        db.dispose()
