"""Alert delivery to a real SMTP server (aiosmtpd), a local webhook receiver and Mosquitto."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from aiosmtpd.controller import Controller
from paho.mqtt.enums import CallbackAPIVersion

from inventory_service.config import Settings
from inventory_service.db.uow import Database
from inventory_service.ingest.broker import BrokerAddress
from inventory_service.jobs import deliver_alerts
from inventory_service.services import alerts
from inventory_service.services.context import Context
from tests.conftest import Api
from tests.support.clock import FrozenClock
from tests.support.services import free_port
from tests.support.wait import wait_for

SECRET = "test-webhook-secret"
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[str, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield f"smtp://127.0.0.1:{port}?from=alerts@clinic.test", inbox
    controller.stop()


class Hook:
    """A webhook receiver that can be taken down and brought back on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[tuple[dict, str]] = []
        self.server: HTTPServer | None = None

    def up(self) -> None:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.received.append((json.loads(body), self.headers.get("X-Inventory-Signature", "")))
                hook.bodies.append(body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.bodies: list[bytes] = getattr(self, "bodies", [])
        self.server = HTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/alerts"


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    yield h
    h.down()


def deliver(db: Database, ctx: Callable[..., Context], settings: Settings) -> int:
    return deliver_alerts(db, ctx("job:deliver_alerts", "job"), settings)


def raise_one(db: Database, ctx: Callable[..., Context], kind: str = "excursion", severity: str = "critical") -> int:
    with db.unit_of_work() as uow:
        a = alerts.raise_alert(uow, ctx(), kind=kind, severity=severity, key=f"{kind}:1",
                               subject="Fridge 1: temperature high", message="It is 10 °C.")
        uow.commit()
        return a.id


def rule(api: Api, **body: Any) -> dict:
    return api.post("/api/v1/routing-rules", {"name": "r", **body}, role="manager", expect=201).json


def test_an_alert_reaches_the_smtp_server_and_its_delivery_is_recorded(api: Api, db, ctx, settings, smtp):
    url, inbox = smtp
    rule(api, kinds=["excursion"], channel="email", recipients=["manager@clinic.test"])
    alert_id = raise_one(db, ctx)
    assert deliver(db, ctx, replace(settings, smtp_url=url)) == 1
    [mail] = inbox.messages
    assert mail.rcpt_tos == ["manager@clinic.test"] and mail.mail_from == "alerts@clinic.test"
    assert b"Subject: Fridge 1: temperature high" in mail.content
    assert b"opened 2026-03-10T15:00:00+00:00." in mail.content  # the machine part of the body: RFC 3339
    [d] = api.get(f"/api/v1/alerts/{alert_id}/deliveries", expect=200).json["items"]
    assert (d["state"], d["attempts"], d["channel"]) == ("sent", 1, "email")
    assert deliver(db, ctx, replace(settings, smtp_url=url)) == 0  # delivered once


def test_a_webhook_that_is_down_gets_the_alert_when_it_is_back(api: Api, db, ctx, settings, hook, clock: FrozenClock):
    rule(api, channel="webhook", recipients=[hook.url])
    raise_one(db, ctx)
    s = replace(settings, webhook_secret=SECRET)
    assert deliver(db, ctx, s) == 0
    clock.advance(seconds=30)
    assert deliver(db, ctx, s) == 0
    [d] = api.get("/api/v1/alerts/1/deliveries", expect=200).json["items"]
    assert d["state"] == "pending" and d["attempts"] == 2 and "webhook" in d["last_error"]
    hook.up()
    clock.advance(seconds=60)
    assert deliver(db, ctx, s) == 1
    [(payload, signature)] = hook.received
    assert payload["kind"] == "excursion" and payload["id"] == 1
    assert RFC3339.fullmatch(payload["opened_at"]), payload["opened_at"]
    expected = hmac.new(SECRET.encode(), hook.bodies[0], hashlib.sha256).hexdigest()
    assert signature == f"sha256={expected}"


def test_alerts_are_published_on_mqtt(api: Api, db, ctx, settings, mqtt_url: str):
    rule(api, kinds=["excursion"], channel="mqtt")
    got: list[tuple[str, dict]] = []
    a = BrokerAddress.parse(mqtt_url)
    sub = mqtt.Client(CallbackAPIVersion.VERSION2)
    sub.on_message = lambda c, u, m: got.append((m.topic, json.loads(m.payload)))
    sub.connect(a.host, a.port)
    sub.subscribe("alerts/#", qos=1)
    sub.loop_start()
    try:
        time.sleep(0.3)
        raise_one(db, ctx)
        assert deliver(db, ctx, replace(settings, mqtt_url=mqtt_url)) == 1
        wait_for(lambda: got, 5, "the alert on alerts/#")
    finally:
        sub.loop_stop()
        sub.disconnect()
    [(topic, payload)] = got
    assert topic == "alerts/excursion" and payload["severity"] == "critical"
    assert RFC3339.fullmatch(payload["opened_at"]), payload["opened_at"]


def test_unacknowledged_alerts_are_renotified_and_escalated(api: Api, db, ctx, settings, smtp, clock):
    url, inbox = smtp
    rule(api, channel="email", recipients=["nurse@clinic.test"], renotify_min=15, escalate_after_min=30,
         escalate_to=["doctor@clinic.test"])
    alert_id = raise_one(db, ctx)
    s = replace(settings, smtp_url=url)
    deliver(db, ctx, s)
    clock.advance(minutes=16)
    deliver(db, ctx, s)
    clock.advance(minutes=16)
    deliver(db, ctx, s)
    sent = [(m.rcpt_tos[0], m.content.split(b"Subject: ")[1].split(b"\r\n")[0].decode()) for m in inbox.messages]
    assert sent[:2] == [("nurse@clinic.test", "Fridge 1: temperature high"),
                        ("nurse@clinic.test", "[still open] Fridge 1: temperature high")]
    assert ("doctor@clinic.test", "[ESCALATED] Fridge 1: temperature high") in sent
    api.post(f"/api/v1/alerts/{alert_id}/ack", {"reason": "moved vaccine to backup fridge"}, role="manager",
             expect=200)
    before = len(inbox.messages)
    clock.advance(minutes=60)
    deliver(db, ctx, s)
    assert len(inbox.messages) == before  # acknowledged: no more reminders


def test_an_alert_no_rule_matches_stays_visibly_undelivered(api: Api, db, ctx, settings):
    raise_one(db, ctx, kind="reorder", severity="info")
    deliver(db, ctx, settings)
    [d] = api.get("/api/v1/alerts/1/deliveries", expect=200).json["items"]
    assert (d["state"], d["recipient"], d["last_error"]) == ("failed", "unrouted", "no routing rule matches this alert")
