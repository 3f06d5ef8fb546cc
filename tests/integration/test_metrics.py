"""Prometheus metrics: the text format parses, counters move with real work (a real broker, the scanner
consumer, alert delivery, jobs), the leader gauge follows the lock, and exposure follows INVENTORY_METRICS."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
from flask.testing import FlaskClient
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from devices.serial import ScanFrame, ScannerConfig
from inventory_service.app import create_app
from inventory_service.config import Settings
from inventory_service.db.uow import Database
from inventory_service.ingest.broker import BrokerAddress
from inventory_service.ingest.mqtt import MqttIngest
from inventory_service.ingest.scanners import ScannerIngest
from inventory_service.jobs import Job, deliver_alerts
from inventory_service.jobs.scheduler import LOCK_KEY, Scheduler
from inventory_service.observability.exposition import MetricsServer
from inventory_service.observability.metrics import Metrics
from inventory_service.services import alerts, delivery, storage_units
from inventory_service.services.context import Context
from tests.conftest import Api
from tests.integration.conftest import World
from tests.support.clock import FrozenClock
from tests.support.services import free_port

pytestmark = pytest.mark.timeout(90)
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
LABEL = "]d20109501101530003" "17270131" "10L1"


def parse(body: str) -> Samples:
    """Every sample of a scrape, by (sample name, sorted labels); parsing it is the format check."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body) for s in family.samples}


def scrape(metrics: Metrics) -> Samples:
    return parse(generate_latest(metrics.registry).decode())


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def wait_for(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def app_client(settings: Settings, db: Database, clock: FrozenClock, **kw: object) -> FlaskClient:
    app = create_app(replace(settings, **kw), db=db, clock=clock, mqtt_status=lambda: False)  # type: ignore[arg-type]
    app.testing = True
    return app.test_client()


def get(url: str, token: str | None = None, method: str = "GET") -> tuple[int, dict[str, str], str]:
    req = urllib.request.Request(url, method=method)
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


# --- exposure on the API port -------------------------------------------------------------------------


def test_the_api_port_serves_the_text_format_without_an_api_token(client: FlaskClient, api: Api):
    api.get("/api/v1/health", role="", expect=200)
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    samples = parse(response.get_data(as_text=True))
    assert value(samples, "inventory_build_info", version="0.1.0", role="api") == 1
    assert (value(samples, "inventory_http_requests_total", method="GET", status="200") or 0) >= 1
    assert value(samples, "inventory_http_request_duration_seconds_count") is not None
    assert any(name == "process_cpu_seconds_total" for name, _ in samples)  # prometheus-client's own collectors
    assert not any(name.startswith("inventory_readings_") for name, _ in samples)  # an API process ingests nothing
    openmetrics = client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert openmetrics.content_type.startswith("application/openmetrics-text")


def test_metrics_are_not_in_the_openapi_document_and_show_no_secret(settings: Settings, db: Database,
                                                                   clock: FrozenClock):
    client = app_client(settings, db, clock, webhook_secret="hook-secret-1x", smtp_url="smtp://u:mail-pw-1x@mx:25",
                        mqtt_url="mqtt://svc:mqtt-pw-1x@127.0.0.1:1", metrics_token="scrape-token-1x")
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/metrics" not in paths and not any("metrics" in p for p in paths)
    body = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-1x"}).get_data(as_text=True)
    assert "1x" not in body and "postgresql" not in body and "sqlite" not in body


def test_off_serves_nothing_and_a_separate_bind_moves_metrics_off_the_api_port(settings: Settings, db: Database,
                                                                               clock: FrozenClock):
    assert app_client(settings, db, clock, metrics="off").get("/metrics").status_code == 404
    assert app_client(settings, db, clock, metrics="127.0.0.1:9464").get("/metrics").status_code == 404


def test_the_token_is_required_when_set(settings: Settings, db: Database, clock: FrozenClock):
    client = app_client(settings, db, clock, metrics_token="scrape-token")
    missing = client.get("/metrics")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Basic scrape-token"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-token"}).status_code == 200


# --- a bind of its own (the ingest and scheduler roles) -----------------------------------------------


def test_a_separate_bind_serves_metrics_only_at_their_path_and_checks_the_token():
    metrics = Metrics(role="ingest", process=True)
    metrics.mqtt.readings_committed.inc(3)
    server = MetricsServer("127.0.0.1:0", metrics.registry, token="scrape-token")
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        status, headers, body = get(f"{base}/metrics", "scrape-token")
        assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
        samples = parse(body)
        assert value(samples, "inventory_readings_committed_total") == 3
        assert value(samples, "inventory_build_info", version="0.1.0", role="ingest") == 1
        assert get(f"{base}/metrics")[0] == 401
        assert get(f"{base}/metrics", "nope")[0] == 401
        assert get(f"{base}/", "scrape-token")[0] == 404
        assert get(f"{base}/metrics", "scrape-token", method="POST")[0] == 405
        status, _, body = get(f"{base}/metrics", "scrape-token", method="HEAD")
        assert (status, body) == (200, "")
    finally:
        server.stop()


# --- counters that move with the work -----------------------------------------------------------------


@pytest.fixture
def publisher(mqtt_url: str) -> Iterator[mqtt.Client]:
    a = BrokerAddress.parse(mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-pub-{time.monotonic_ns()}")
    client.connect(a.host, a.port)
    client.loop_start()
    yield client
    client.loop_stop()
    client.disconnect()


def reading(seq: int, minutes_ago: float) -> dict:
    return {"seq": seq, "ts": (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat(), "temp_c": 5.0}


def test_readings_statuses_and_cycles_through_a_real_broker(mqtt_url: str, db: Database, clock: FrozenClock,
                                                             ctx: Callable[..., Context], publisher: mqtt.Client):
    with db.unit_of_work() as uow:
        unit = storage_units.create_unit(uow, ctx(), name="Fridge A", kind="refrigerator")
        storage_units.assign_sensor(uow, ctx(), sensor_id="probe-1", storage_unit_id=unit.id)
        uow.commit()
    clock.set(datetime.now(UTC))
    metrics = Metrics()
    ingest = MqttIngest(mqtt_url, db, clock, "America/New_York", instance=f"m{time.monotonic_ns()}",
                        metrics=metrics)
    ingest.start()
    try:
        wait_for(ingest.connected)
        cycle = {"seq": 1, "ts": datetime.now(UTC).isoformat(), "cycle": 120, "program": "134C-4min",
                 "result": "fail", "max_temp_c": 131.0, "hold_min": 4.0}
        for topic, payload in (
                ("coldchain/probe-1/reading", json.dumps(reading(1, 10))),
                ("coldchain/probe-1/reading", json.dumps([reading(s, 10 - s) for s in (2, 3, 4)])),
                ("coldchain/probe-1/reading", "not json"),
                ("coldchain/probe-1/status", "online"),
                ("equipment/autoclave-1/cycle", json.dumps(cycle)),
                ("equipment/autoclave-1/cycle", json.dumps({**cycle, "result": "maybe"}))):
            publisher.publish(topic, payload, qos=1)

        def done() -> bool:
            s = scrape(metrics)
            return value(s, "inventory_readings_committed_total") == 4 and \
                value(s, "inventory_cycles_rejected_total", reason="invalid_payload") == 1
        wait_for(done)
        s = scrape(metrics)
    finally:
        ingest.stop()
    assert value(s, "inventory_readings_received_total") == 3
    assert value(s, "inventory_readings_rejected_total", reason="invalid_payload") == 1
    assert value(s, "inventory_readings_rejected_total", reason="not_storable") == 0
    assert value(s, "inventory_sensor_status_received_total") == 1
    assert value(s, "inventory_cycles_received_total") == 2
    assert value(s, "inventory_cycles_committed_total", result="fail") == 1
    assert (value(s, "inventory_readings_batch_commit_seconds_count") or 0) >= 1
    assert value(s, "inventory_mqtt_batch_failures_total") == 0
    assert value(s, "inventory_mqtt_inbox_messages") == 0 and value(s, "inventory_mqtt_inbox_bytes") == 0
    assert value(s, "inventory_mqtt_connected") == 1


def test_scans_by_scanner_outcome_and_reason(db: Database, clock: FrozenClock, api: Api, world: World):
    metrics = Metrics()
    recorded: list[int] = []
    ingest = ScannerIngest((ScannerConfig(id="sr-1", url="loop://", location="SR"),), db, clock, "America/New_York",
                           on_recorded=lambda scan_id, frame: recorded.append(scan_id), metrics=metrics,
                           reader_factory=lambda *a, **kw: type("NoReader", (), {"start": lambda self: None,
                                                                                  "stop": lambda self: None})())
    texts = ["#QTY:2", LABEL, "garbage!", LABEL.replace("10L1", "10L2"), "#MODE:CONSUME", LABEL, LABEL, LABEL]
    for t in texts:
        ingest.submit(ScanFrame("sr-1", t, datetime.now(UTC), time.monotonic()))
    assert value(scrape(metrics), "inventory_scans_queue_frames") == len(texts)
    ingest.start()
    wait_for(lambda: len(recorded) == len(texts))
    ingest.stop()
    s = scrape(metrics)
    outcomes = {o: value(s, "inventory_scans_committed_total", scanner="sr-1", outcome=o) or 0
                for o in ("applied", "command", "rejected", "pending")}
    # Received 2 of L1 and 1 of L2; consuming three of L1 takes the two there, the third is refused.
    assert outcomes == {"applied": 4, "command": 2, "rejected": 2, "pending": 0}
    assert value(s, "inventory_scans_received_total", scanner="sr-1") == len(texts)
    reasons = {dict(labels)["reason"]: v for (name, labels), v in s.items() if name == "inventory_scans_rejected_total"}
    assert sum(reasons.values()) == 2 and reasons.get("insufficient_stock") == 1
    assert value(s, "inventory_scans_queue_frames") == 0
    assert (value(s, "inventory_scans_batch_commit_seconds_count") or 0) >= 1


def test_a_scanner_port_reports_open(db: Database, clock: FrozenClock, world: World):
    metrics = Metrics()
    ingest = ScannerIngest((ScannerConfig(id="sr-1", url="loop://", location="SR"),), db, clock, "America/New_York",
                           metrics=metrics)
    ingest.start()
    try:
        wait_for(lambda: value(scrape(metrics), "inventory_scanner_port_open", scanner="sr-1") == 1)
        assert value(scrape(metrics), "inventory_scanner_reopens_total", scanner="sr-1") == 0
    finally:
        ingest.stop()


def test_deliveries_by_channel_and_result(api: Api, db: Database, ctx: Callable[..., Context], settings: Settings,
                                          mqtt_url: str, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch):
    api.post("/api/v1/routing-rules", {"name": "display", "kinds": ["excursion"], "channel": "mqtt"},
             role="manager", expect=201)
    api.post("/api/v1/routing-rules", {"name": "hook", "kinds": ["excursion"], "channel": "webhook",
                                       "recipients": [f"http://127.0.0.1:{free_port()}/down"]},
             role="manager", expect=201)
    with db.unit_of_work() as uow:
        alerts.raise_alert(uow, ctx(), kind="excursion", severity="critical", key="excursion:1",
                           subject="Fridge 1: temperature high", message="It is 10 °C.")
        uow.commit()
    metrics, live = Metrics(), replace(settings, mqtt_url=mqtt_url)
    assert deliver_alerts(db, ctx("job:deliver_alerts", "job"), live, metrics) == 1
    s = scrape(metrics)
    assert value(s, "inventory_alert_deliveries_total", channel="mqtt", result="sent") == 1
    assert value(s, "inventory_alert_deliveries_total", channel="webhook", result="retry") == 1
    monkeypatch.setattr(delivery, "MAX_ATTEMPTS", 2)
    clock.advance(minutes=1)
    deliver_alerts(db, ctx("job:deliver_alerts", "job"), live, metrics)
    assert value(scrape(metrics), "inventory_alert_deliveries_total", channel="webhook", result="failed") == 1


def test_job_runs_failures_and_durations(db: Database, settings: Settings, clock: FrozenClock):
    def broken(*_: object) -> None:
        raise RuntimeError("boom")

    jobs = (Job("ok", lambda s: None, lambda *_: 1, "works"), Job("broken", lambda s: None, broken, "fails"))
    metrics = Metrics()
    scheduler = Scheduler(settings, db, clock, jobs=jobs, metrics=metrics)
    s = scrape(metrics)
    assert value(s, "inventory_job_runs_total", job="ok") == 0 and value(s, "inventory_job_failures_total",
                                                                          job="broken") == 0
    before = time.time()
    for job_id in ("ok", "ok", "broken"):
        scheduler.run_now(job_id)
    s = scrape(metrics)
    assert value(s, "inventory_job_runs_total", job="ok") == 2
    assert value(s, "inventory_job_failures_total", job="ok") == 0
    assert value(s, "inventory_job_runs_total", job="broken") == 1
    assert value(s, "inventory_job_failures_total", job="broken") == 1
    assert value(s, "inventory_job_duration_seconds_count", job="ok") == 2
    assert (value(s, "inventory_job_last_success_timestamp_seconds", job="ok") or 0) >= before
    assert value(s, "inventory_job_last_success_timestamp_seconds", job="broken") is None


def test_a_real_job_run_is_counted(db: Database, settings: Settings, clock: FrozenClock):
    metrics = Metrics()
    Scheduler(settings, db, clock, metrics=metrics).run_now("expiry_sweep")
    s = scrape(metrics)
    assert value(s, "inventory_job_runs_total", job="expiry_sweep") == 1
    assert value(s, "inventory_job_failures_total", job="expiry_sweep") == 0
    assert value(s, "inventory_job_runs_total", job="deliver_alerts") == 0  # every job listed from the start


def test_the_leader_gauge_is_one_for_the_leader_only(db: Database, settings: Settings, clock: FrozenClock):
    """On PostgreSQL a scheduler whose lock someone else holds stands by (0) and leads (1) once it is
    released; on SQLite the only scheduler leads."""
    metrics = Metrics()
    leader = lambda: value(scrape(metrics), "inventory_scheduler_leader")  # noqa: E731
    holder = db.engine.connect() if db.dialect == "postgresql" else None
    if holder is not None:
        assert holder.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar()
        holder.commit()
    scheduler = Scheduler(settings, db, clock, jobs=(), standby_poll_s=0.1, metrics=metrics)
    assert leader() == 0
    scheduler.start()
    try:
        if holder is not None:
            time.sleep(0.5)
            assert leader() == 0 and not scheduler.is_leader.is_set()
            holder.close()  # the lock goes with the connection
        wait_for(scheduler.is_leader.is_set)
        assert leader() == 1
    finally:
        scheduler.stop()
        if holder is not None:
            holder.close()
    assert leader() == 0
