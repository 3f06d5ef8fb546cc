"""One bad scanner definition no longer stops the service: the real `inventory-service run` process with
two scanner definitions, one naming a location that does not exist.

The walkthrough behind it: `"location": "NOPE"` in INVENTORY_SCANNERS made `make run` exit, and the
cold-chain ingest with it. Now the process serves, the health check is `degraded` and says why, the
scanners list shows the bad station with its error, the good station applies a scan written to its pty,
`#LOC:NOPE` is refused as it is scanned, and a fridge reading published to the broker is stored.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from firmware_sim.scanner import PtyLink, ScannerProfile, SimulatedScanner
from inventory_service.db.engine import make_engine
from inventory_service.db.uow import Database
from inventory_service.ingest.broker import BrokerAddress
from inventory_service.services import catalog
from inventory_service.services.context import Context
from tests.e2e.test_service_process import CLI, http, start_service
from tests.support.services import free_port
from tests.support.wait import wait_for

pytestmark = [pytest.mark.mqtt, pytest.mark.slow, pytest.mark.timeout(120)]

GTIN = "09501101530003"
SENSOR = "walkthrough-probe"


def log_end(log: Path) -> Callable[[], str]:
    """What a failed wait appends: the end of the service's log."""
    return lambda: log.read_text(errors="replace")[-4000:]


@pytest.fixture
def walkthrough(tmp_path: Path, mqtt_url: str) -> Iterator[dict[str, Any]]:
    """The stockroom of the walkthrough: location SR and one item (seeded before start, as the stations
    need their locations), a pty for the good scanner, and the service running."""
    port = free_port()
    link = PtyLink(tmp_path / "usb-stockroom-scanner")
    sim = SimulatedScanner(link, ScannerProfile(terminator="cr"))
    sim.open()
    definitions = [
        {"id": "stockroom-1", "url": str(link.path), "location": "SR", "mode": "receive"},
        {"id": "front-desk", "url": str(tmp_path / "usb-front-desk"), "location": "NOPE", "mode": "consume"},
    ]
    env = {**os.environ, "INVENTORY_DATA_DIR": str(tmp_path), "INVENTORY_BIND": f"127.0.0.1:{port}",
           "INVENTORY_MQTT_URL": mqtt_url, "INVENTORY_TIMEZONE": "Europe/Berlin",
           "INVENTORY_SCANNERS": json.dumps(definitions), "INVENTORY_INSTANCE": f"walk-{uuid.uuid4().hex[:8]}"}
    env.pop("INVENTORY_DATABASE_URL", None)
    subprocess.run([*CLI, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=60)
    token = subprocess.run([*CLI, "token", "create", "--name", "admin", "--role", "admin"], env=env, check=True,
                           capture_output=True, text=True, timeout=60).stdout.strip()
    db = Database(make_engine(f"sqlite:///{tmp_path / 'inventory.db'}"))
    ctx = Context(actor="setup", source="cli", now=datetime.now(UTC), tz=ZoneInfo("Europe/Berlin"))
    with db.unit_of_work() as uow:
        catalog.create_location(uow, ctx, code="SR", name="Stockroom", kind="stockroom")
        catalog.create_item(uow, ctx, name="Nitrile gloves M", gtins=[GTIN])
        uow.commit()
    db.dispose()
    base = f"http://127.0.0.1:{port}"
    proc = start_service(env, base)
    try:
        yield {"base": base, "token": token, "sim": sim, "env": env, "log": tmp_path / "service.log"}
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        sim.close()


def publish_until(mqtt_url: str, topic: str, payload: bytes, done: Callable[[], bool], log: Path) -> None:
    """Publish `payload` (QoS 1) every half second until `done()`: the service may still be subscribing,
    and a repeat of the same (sensor, seq) is stored once."""
    address = BrokerAddress.parse(mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"walkthrough-{uuid.uuid4().hex[:8]}")
    if address.username:
        client.username_pw_set(address.username, address.password)
    client.connect(address.host, address.port)
    client.loop_start()
    try:
        def step() -> bool:
            client.publish(topic, payload, qos=1)
            time.sleep(0.5)
            return done()
        wait_for(step, 30, f"a reading stored from {topic}", 0.1, details=log_end(log))
    finally:
        client.loop_stop()
        client.disconnect()


def test_one_bad_scanner_definition_leaves_the_rest_of_the_service_running(walkthrough, mqtt_url: str):
    base, token, log = walkthrough["base"], walkthrough["token"], walkthrough["log"]

    def get(path: str, **query: Any) -> Any:
        url = f"{base}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
        status, body = http("GET", url, token=token)
        assert status == 200, (url, status, body)
        return body

    health = get("/api/v1/health")
    assert (health["status"], health["database"]) == ("degraded", "ok")
    assert [(p["component"], p["id"], p["reason"]) for p in health["problems"]] == [
        ("scanner", "front-desk", "no location with code 'NOPE'")]

    listed = {s["id"]: s for s in get("/api/v1/scanners")["items"]}
    assert (listed["front-desk"]["port_state"], listed["front-desk"]["config_error"]) == (
        "misconfigured", "no location with code 'NOPE'")
    assert listed["stockroom-1"]["config_error"] is None
    wait_for(lambda: get("/api/v1/scanners/stockroom-1")["port_state"] == "open", 20, "the good scanner's port",
             0.1, details=log_end(log))

    sim = walkthrough["sim"]
    sim.scan(f"]d201{GTIN}17270131" "10WALK-1")
    sim.scan("#LOC:NOPE")
    rows = wait_for(lambda: (r := get("/api/v1/scans", scanner_id="stockroom-1", after_id=0)["items"])
                    and len(r) == 2 and r, 20, "two scans from the good station", 0.1, details=log_end(log))
    assert (rows[0]["outcome"], rows[0]["lot_number"], rows[0]["quantity"]) == ("applied", "WALK-1", 1)
    assert (rows[1]["outcome"], rows[1]["reason"]) == ("rejected", "unknown_location")
    assert get("/api/v1/scanners/stockroom-1")["target_location"] is None
    stock = get("/api/v1/stock")["items"]
    assert [(s["lot_number"], s["quantity"]) for s in stock] == [("WALK-1", 1)]

    reading = {"seq": 1, "ts": datetime.now(UTC).isoformat(timespec="seconds"), "temp_c": 4.5}
    publish_until(mqtt_url, f"coldchain/{SENSOR}/reading", json.dumps(reading).encode(),
                  lambda: get("/api/v1/readings", sensor_id=SENSOR)["count"] == 1, log)
    assert get("/api/v1/health")["mqtt"] == "ok"

    text = log.read_text(errors="replace")
    errors = [line for line in text.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and "front-desk" in errors[0] and "'NOPE'" in errors[0], errors
