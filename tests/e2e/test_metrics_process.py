"""Metrics of real processes: `run` on its API port (with a scrape token), `ingest` and `scheduler` on binds
of their own (INVENTORY_METRICS=host:port), scraped over loopback HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client.parser import text_string_to_metric_families

from inventory_service.ingest.broker import BrokerAddress
from tests.support.services import free_port

pytestmark = [pytest.mark.timeout(120), pytest.mark.mqtt]
CLI = [sys.executable, "-m", "inventory_service.cli"]
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str, token: str | None = None) -> tuple[int, Samples]:
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, {}
    return 200, {(s.name, tuple(sorted(s.labels.items()))): s.value
                 for family in text_string_to_metric_families(body) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def wait_for(check: Callable[[], bool], what: str, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{what} not seen in time: {log.read_text(errors='replace')[-3000:]}")


@pytest.fixture
def env(tmp_path: Path, mqtt_url: str) -> dict[str, str]:
    environment = {**os.environ, "INVENTORY_DATA_DIR": str(tmp_path), "INVENTORY_MQTT_URL": mqtt_url,
                   "INVENTORY_BIND": f"127.0.0.1:{free_port()}", "INVENTORY_INSTANCE": f"m{time.monotonic_ns()}"}
    for name in ("INVENTORY_DATABASE_URL", "INVENTORY_METRICS", "INVENTORY_METRICS_TOKEN", "INVENTORY_SCANNERS"):
        environment.pop(name, None)
    subprocess.run([*CLI, "db", "upgrade"], env=environment, check=True, capture_output=True, timeout=60)
    return environment


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[[str, dict[str, str]], Path]]:
    """Start `inventory-service ROLE` with an environment; returns its log. Stopped with SIGTERM afterwards."""
    procs: list[subprocess.Popen[bytes]] = []

    def run(role: str, environment: dict[str, str]) -> Path:
        log = tmp_path / f"{role}.log"
        with log.open("wb") as out:
            procs.append(subprocess.Popen([*CLI, role], env=environment, stdout=out, stderr=subprocess.STDOUT))
        return log

    yield run
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def test_run_serves_everything_on_the_api_port_behind_the_scrape_token(env, start):
    log = start("run", {**env, "INVENTORY_METRICS_TOKEN": "scrape-token"})
    url = f"http://{env['INVENTORY_BIND']}/metrics"
    wait_for(lambda: scrape(url, "scrape-token")[0] == 200, "/metrics", log)
    assert scrape(url)[0] == 401

    def ready() -> bool:
        s = scrape(url, "scrape-token")[1]
        return value(s, "inventory_scheduler_leader") == 1 and value(s, "inventory_mqtt_connected") == 1 and \
            value(s, "inventory_job_runs_total", job="expiry_sweep") == 1
    wait_for(ready, "the leader running its start-up jobs, connected to the broker", log)
    s = scrape(url, "scrape-token")[1]
    assert value(s, "inventory_build_info", version="0.1.0", role="run") == 1
    assert value(s, "inventory_scans_queue_frames") == 0  # one registry for the API, the ingest and the jobs
    assert not any(name.endswith("_created") for name, _ in s)


def test_ingest_serves_its_own_bind_and_counts_readings_from_the_broker(env, start, mqtt_url: str):
    bind = f"127.0.0.1:{free_port()}"
    log = start("ingest", {**env, "INVENTORY_METRICS": bind})
    url = f"http://{bind}/metrics"
    wait_for(lambda: value(scrape(url)[1], "inventory_mqtt_connected") == 1, "the ingest connected", log)
    a = BrokerAddress.parse(mqtt_url)
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-pub-{time.monotonic_ns()}")
    pub.connect(a.host, a.port)
    pub.loop_start()
    try:
        reading = {"seq": 1, "ts": datetime.now(UTC).isoformat(), "temp_c": 4.5}
        pub.publish("coldchain/probe-9/reading", json.dumps(reading), qos=1).wait_for_publish(5)
    finally:
        pub.loop_stop()
        pub.disconnect()
    wait_for(lambda: value(scrape(url)[1], "inventory_readings_committed_total") == 1, "the reading committed", log)
    s = scrape(url)[1]
    assert value(s, "inventory_readings_received_total") == 1
    assert value(s, "inventory_build_info", version="0.1.0", role="ingest") == 1
    assert not any(name.startswith(("inventory_http_", "inventory_job_")) for name, _ in s)


def test_the_scheduler_serves_its_own_bind_and_leads_on_sqlite(env, start):
    bind = f"127.0.0.1:{free_port()}"
    log = start("scheduler", {**env, "INVENTORY_METRICS": bind})
    url = f"http://{bind}/metrics"
    wait_for(lambda: value(scrape(url)[1], "inventory_scheduler_leader") == 1, "the scheduler leading", log)
    s = scrape(url)[1]
    assert value(s, "inventory_build_info", version="0.1.0", role="scheduler") == 1
    assert value(s, "inventory_job_runs_total", job="deliver_alerts") is not None
