"""The real process: `db upgrade`, `token create` and `run` under waitress, over loopback HTTP."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.support.services import free_port
from tests.support.wait import wait_for

CLI = [sys.executable, "-m", "inventory_service.cli"]


def http(method: str, url: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def start_service(env: dict[str, str], base: str) -> subprocess.Popen[bytes]:
    log = Path(env["INVENTORY_DATA_DIR"]) / "service.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([*CLI, "run"], env=env, stdout=out, stderr=subprocess.STDOUT)

    def up() -> bool:
        try:
            status, _ = http("GET", f"{base}/api/v1/health")
        except OSError:
            return False
        return status == 200

    with contextlib.suppress(AssertionError):
        wait_for(up, 30, "the service to answer its health check", 0.1)
        return proc
    proc.kill()
    proc.wait(timeout=10)
    raise AssertionError(f"service did not start: {log.read_text()}")


@pytest.fixture
def service_env(tmp_path: Path, mqtt_url: str) -> tuple[dict[str, str], str]:
    port = free_port()
    env = {**os.environ, "INVENTORY_DATA_DIR": str(tmp_path), "INVENTORY_BIND": f"127.0.0.1:{port}",
           "INVENTORY_MQTT_URL": mqtt_url, "INVENTORY_TIMEZONE": "Europe/Berlin"}
    env.pop("INVENTORY_DATABASE_URL", None)
    subprocess.run([*CLI, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=60)
    return env, f"http://127.0.0.1:{port}"


def test_a_newcomer_can_run_the_service_and_record_stock(service_env):
    env, base = service_env
    token = subprocess.run([*CLI, "token", "create", "--name", "admin", "--role", "admin"], env=env, check=True,
                           capture_output=True, text=True, timeout=60).stdout.strip()
    proc = start_service(env, base)
    try:
        status, health = http("GET", f"{base}/api/v1/health")
        assert (status, health["status"], health["database"], health["mqtt"]) == (200, "ok", "ok", "ok")
        _, item = http("POST", f"{base}/api/v1/items", {"name": "Gloves", "gtins": ["4006381333931"]}, token)
        _, loc = http("POST", f"{base}/api/v1/locations", {"code": "SR", "name": "Stock", "kind": "stockroom"}, token)
        status, got = http("POST", f"{base}/api/v1/stock/receive", {
            "item_id": item["id"], "location_id": loc["id"], "lot_number": "G1", "expiry": "2030-01-31",
            "quantity": 100}, token)
        assert status == 201 and got["movements"][0]["balance_after"] == 100
        status, err = http("POST", f"{base}/api/v1/stock/consume", {
            "item_id": item["id"], "location_id": loc["id"], "quantity": 101}, token)
        assert (status, err["error"]["code"]) == (409, "insufficient_stock")
        assert (Path(env["INVENTORY_DATA_DIR"]) / "inventory.db").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_health_reports_an_unreachable_broker(service_env):
    env, base = service_env
    env = {**env, "INVENTORY_MQTT_URL": "mqtt://127.0.0.1:1"}
    proc = start_service(env, base)
    try:
        status, health = http("GET", f"{base}/api/v1/health")
        assert (status, health["database"], health["mqtt"]) == (200, "ok", "unavailable")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_body_over_the_limit_is_a_413_in_the_error_shape_under_waitress(service_env):
    env, base = service_env
    env = {**env, "INVENTORY_MAX_BODY_BYTES": "2048"}
    token = subprocess.run([*CLI, "token", "create", "--name", "admin", "--role", "admin"], env=env, check=True,
                           capture_output=True, text=True, timeout=60).stdout.strip()
    proc = start_service(env, base)
    try:
        status, err = http("POST", f"{base}/api/v1/items", {"name": "x" * 4000}, token)
        assert (status, err["error"]["code"]) == (413, "body_too_large")
        status, _ = http("POST", f"{base}/api/v1/items", {"name": "Gloves"}, token)
        assert status == 201
    finally:
        proc.terminate()
        proc.wait(timeout=10)
