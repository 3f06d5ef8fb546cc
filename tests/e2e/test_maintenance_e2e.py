"""End to end: 50 cycles with a plan of every 40 cycles open exactly one ticket; an injected failure takes
the autoclave out of service and an email reaches the SMTP server within seconds; a webhook receiver that
is down for a minute receives the alert after it comes back.

Everything is real and on loopback: `inventory-service db upgrade`, `token create` and `run` (API, MQTT
ingest, scheduler) as processes, a private Mosquitto (`mqtt_url`), an aiosmtpd server, an HTTP webhook
receiver that is down (nothing listening) until a minute after the failure, and the simulated autoclave
(`python -m firmware_sim autoclave`) publishing over MQTT.

Timing: `maintenance_due` only runs every 5 minutes, but `cycles.store` opens due tickets as cycles arrive.
`deliver_alerts` runs every 5 s and retries a failed delivery after 5, 10, 20, 40, 80 s (5 s doubling), so
a receiver that comes back 60 s after the failure gets the 5th attempt, 75-100 s after it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.publish as mqtt_publish
import pytest
from aiosmtpd.controller import Controller

from tests.support.services import free_port
from tests.support.wait import wait_for

pytestmark = [pytest.mark.timeout(240), pytest.mark.mqtt, pytest.mark.slow]

CLI = [sys.executable, "-m", "inventory_service.cli"]
SIM = [sys.executable, "-m", "firmware_sim", "autoclave"]
DEVICE = "ac-1"
SECRET = "e2e-webhook-secret"
MANAGER = "manager@clinic.test"
EMAIL_WITHIN_S = 15.0  # the failure's alert reaches the SMTP server within this (job every 5 s)
WEBHOOK_DOWN_S = 60.0  # the receiver stays down this long after the failure
WEBHOOK_WAIT_S = 90.0  # then the next retry (<= ~40 s later with 5 s doubling) must reach it within this


# --- the two receiving ends ----------------------------------------------------------------------------

class Inbox:
    """aiosmtpd handler: every message with the monotonic time it arrived."""

    def __init__(self) -> None:
        self.messages: list[tuple[float, Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((time.monotonic(), envelope))
        return "250 OK"


class WebhookReceiver:
    """An HTTP receiver on a fixed port that is down (nothing listens) until `up()`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[tuple[float, dict[str, str], bytes]] = []  # (monotonic time, headers, body)
        self._server: HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/inventory"

    def up(self) -> None:
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((time.monotonic(), dict(self.headers.items()), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = HTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True)
        self._thread.start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


# --- the service process, over loopback HTTP -----------------------------------------------------------

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
        with e:
            return e.code, json.loads(e.read())


class Api:
    def __init__(self, base: str, token: str, log: Path) -> None:
        self.base, self.token, self.log = base, token, log

    def get(self, path: str, **query: Any) -> Any:
        url = f"{self.base}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
        status, body = http("GET", url, token=self.token)
        assert status == 200, (url, status, body)
        return body

    def post(self, path: str, body: Any, expect: int = 201) -> Any:
        status, got = http("POST", f"{self.base}{path}", body, self.token)
        assert status == expect, (path, status, got)
        return got

    def tickets(self) -> list[dict[str, Any]]:
        return list(self.get("/api/v1/tickets", equipment_id=DEVICE)["items"])

    def equipment(self) -> dict[str, Any]:
        return dict(self.get(f"/api/v1/equipment/{DEVICE}"))

    def deliveries(self, alert_id: int) -> dict[str, dict[str, Any]]:
        """This alert's deliveries by channel (one rule per channel here)."""
        items = self.get(f"/api/v1/alerts/{alert_id}/deliveries")["items"]
        by_channel = {d["channel"]: d for d in items}
        assert len(by_channel) == len(items), items
        return by_channel

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, (command, done.returncode, done.stdout, done.stderr)
    return done.stdout


def start_service(env: dict[str, str], base: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        proc = subprocess.Popen([*CLI, "run"], env=env, stdout=out, stderr=subprocess.STDOUT)

    def state() -> str:
        """"up" once the health check answers with MQTT connected, "exited" if the process ended."""
        if proc.poll() is not None:
            return "exited"
        try:
            status, health = http("GET", f"{base}/api/v1/health")
        except OSError:
            return ""
        return "up" if status == 200 and health["mqtt"] == "ok" else ""

    with contextlib.suppress(AssertionError):
        if wait_for(state, 30, "the service to answer with MQTT connected", 0.1) == "up":
            return proc
    stop(proc)
    raise AssertionError(f"service did not start: {log.read_text(errors='replace')}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def service_log(api: Api) -> Callable[[], str]:
    """What a failed wait appends: the end of the service's log."""
    return lambda: f"service log:\n{api.log_tail()}"


def autoclave(mqtt_url: str, *args: str, env: dict[str, str]) -> str:
    """Run the simulator's CLI once; its summary line."""
    return run([*SIM, "--device", DEVICE, "--broker", mqtt_url, "--seed", "40", *args], env).strip()


# --- the test -------------------------------------------------------------------------------------------

def test_cycles_open_one_ticket_a_failure_takes_the_autoclave_out_and_the_alert_reaches_email_and_a_webhook(
        tmp_path: Path, mqtt_url: str) -> None:
    began = time.monotonic()
    inbox, hook = Inbox(), WebhookReceiver()
    smtp_port, api_port = free_port(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    base = f"http://127.0.0.1:{api_port}"
    env = {**os.environ, "INVENTORY_DATA_DIR": str(tmp_path), "INVENTORY_BIND": f"127.0.0.1:{api_port}",
           "INVENTORY_MQTT_URL": mqtt_url, "INVENTORY_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}?from=alerts@clinic.test",
           "INVENTORY_WEBHOOK_SECRET": SECRET, "INVENTORY_TIMEZONE": "UTC",
           # a persistent MQTT session of our own: nothing queued for another test's service reaches this one
           "INVENTORY_INSTANCE": f"e2e-maint-{uuid.uuid4().hex[:8]}"}
    for name in ("INVENTORY_DATABASE_URL", "INVENTORY_SCANNERS"):
        env.pop(name, None)
    smtp.start()
    proc = None
    try:
        run([*CLI, "db", "upgrade"], env)
        token = run([*CLI, "token", "create", "--name", "e2e-admin", "--role", "admin"], env).strip()
        log = tmp_path / "service.log"
        proc = start_service(env, base, log)
        api = Api(base, token, log)

        # -- the manager registers the autoclave, its 40-cycle service plan and where alerts go ----------
        eq = api.post("/api/v1/equipment", {"id": DEVICE, "kind": "autoclave", "name": "Autoclave 1",
                                            "make": "Melag", "model": "Vacuklav 40B+", "serial": "SN-4711"})
        assert (eq["status"], eq["cycles"] or 0) == ("in_service", 0)
        plan = api.post("/api/v1/maintenance-plans", {"equipment_id": DEVICE, "name": "Preventive service",
                                                      "every_cycles": 40})
        assert plan["next_due_cycle"] == 40
        api.post("/api/v1/routing-rules", {"name": "maintenance to the manager", "kinds": ["maintenance"],
                                           "channel": "email", "recipients": [MANAGER]})
        api.post("/api/v1/routing-rules", {"name": "maintenance to the CMMS", "kinds": ["maintenance"],
                                           "channel": "webhook", "recipients": [hook.url]})

        # -- 50 passing cycles: exactly one preventive ticket, due at cycle 40 ----------------------------
        end = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        first_50 = ["--cycles", "50", "--start-cycle", "0", "--end", end]
        summary = autoclave(mqtt_url, *first_50, env=env)
        assert "50 cycles published, 0 failed, cycle 1..50, seq 0..49, clean disconnect" in summary
        wait_for(lambda: api.equipment()["cycles"] == 50, 15, "50 cycles counted", 0.2, details=service_log(api))
        [ticket] = wait_for(api.tickets, 15, "the preventive ticket", 0.2, details=service_log(api))
        assert (ticket["kind"], ticket["status"], ticket["due_cycle"], ticket["plan_id"]) == (
            "preventive", "open", 40, plan["id"])

        # redelivery is harmless: the same 50 messages again change nothing (checked after cycle 51,
        # which the broker delivers after them)
        assert "50 cycles published" in autoclave(mqtt_url, *first_50, env=env)

        # -- cycle 51 fails: out of service, a corrective ticket, and an email within seconds ------------
        failed_at = time.monotonic()
        summary = autoclave(mqtt_url, "--cycles", "1", "--start-cycle", "50", "--fail-at", "51", env=env)
        assert "1 cycle published, 1 failed (51), cycle 51..51, seq 50..50" in summary
        eq = wait_for(lambda: (e := api.equipment())["status"] == "out_of_service" and e, EMAIL_WITHIN_S,
                      "out of service", 0.2, details=service_log(api))
        assert eq["cycles"] == 51
        last_change = eq["history"][-1]
        assert last_change["status"] == "out_of_service" and last_change["reason"].startswith("cycle 51 (")
        log_rows = api.get(f"/api/v1/equipment/{DEVICE}/cycles")["items"]
        assert [c["seq"] for c in log_rows] == list(range(51))  # no duplicates from the redelivery
        assert [c["cycle"] for c in log_rows if c["result"] == "fail"] == [51]
        tickets = {t["kind"]: t for t in api.tickets()}
        assert sorted(tickets) == ["corrective", "preventive"], api.tickets()  # still one preventive ticket
        assert (tickets["preventive"]["id"], tickets["preventive"]["due_cycle"]) == (ticket["id"], 40)
        assert tickets["corrective"]["status"] == "open" and "cycle 51" in tickets["corrective"]["title"]

        [(arrived, mail)] = wait_for(lambda: inbox.messages, EMAIL_WITHIN_S, "the email", 0.05,
                                     details=service_log(api))
        email_s = arrived - failed_at
        assert email_s < EMAIL_WITHIN_S
        assert mail.rcpt_tos == [MANAGER] and mail.mail_from == "alerts@clinic.test"
        content = mail.content.decode(errors="replace")
        assert "Subject: Autoclave 1 out of service: cycle 51" in content
        assert f"Ticket {tickets['corrective']['id']} is open for the repair" in content

        [alert] = api.get("/api/v1/alerts", kind="maintenance")["items"]
        assert (alert["severity"], alert["status"], alert["details"]["equipment_id"]) == ("critical", "open", DEVICE)

        # -- the webhook receiver is down: its delivery keeps failing visibly, and is retried -----------
        def retried() -> dict[str, Any] | None:
            d = api.deliveries(alert["id"])
            return d if d["webhook"]["attempts"] >= 2 else None

        deliveries = wait_for(retried, 30, "two failed webhook attempts", 0.5, details=service_log(api))
        assert (deliveries["email"]["state"], deliveries["email"]["attempts"]) == ("sent", 1)
        down = deliveries["webhook"]
        assert down["state"] == "pending" and down["recipient"] == hook.url, down
        assert "webhook" in down["last_error"] and "refused" in down["last_error"].lower(), down
        assert all(entry["result"] != "sent" for entry in down["log"]) and len(down["log"]) == down["attempts"]

        time.sleep(max(0.0, failed_at + WEBHOOK_DOWN_S - time.monotonic()))
        before_up = api.deliveries(alert["id"])["webhook"]
        assert before_up["state"] == "pending" and before_up["attempts"] >= 3, before_up
        hook.up()
        up_at = time.monotonic()

        # -- ... and gets the alert, signed, once it is back -------------------------------------------
        [(got_at, headers, body)] = wait_for(lambda: hook.received, WEBHOOK_WAIT_S, "the webhook POST", 0.1,
                                             details=service_log(api))
        expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Inventory-Signature"] == f"sha256={expected}"
        assert headers["Content-Type"] == "application/json"
        payload = json.loads(body)
        assert (payload["id"], payload["kind"], payload["severity"]) == (alert["id"], "maintenance", "critical")
        assert payload["details"]["equipment_id"] == DEVICE and payload["subject"] == alert["subject"]

        sent = wait_for(lambda: (d := api.deliveries(alert["id"])["webhook"])["state"] == "sent" and d, 10,
                        "the webhook delivery recorded as sent", 0.2, details=service_log(api))
        assert sent["attempts"] == before_up["attempts"] + 1 and sent["last_error"] is None
        assert [e["result"] == "sent" for e in sent["log"]] == [False] * before_up["attempts"] + [True]
        assert len(inbox.messages) == 1 and len(hook.received) == 1  # each channel got it exactly once

        total_s = time.monotonic() - began
        print(f"\nemail {email_s:.1f} s after the failure; webhook down {up_at - failed_at:.0f} s, received "
              f"{got_at - up_at:.1f} s after it came back (attempt {sent['attempts']}); test {total_s:.0f} s")
    finally:
        if proc is not None:
            stop(proc)
        hook.down()
        smtp.stop()
        broker = urlsplit(mqtt_url)
        # the simulator leaves `offline` retained on equipment/ac-1/status: clear it for later tests
        mqtt_publish.single(f"equipment/{DEVICE}/status", None, qos=1, retain=True,
                            hostname=broker.hostname or "127.0.0.1", port=broker.port or 1883)
