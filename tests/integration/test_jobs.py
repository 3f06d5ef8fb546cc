"""Scheduled jobs are idempotent, and with PostgreSQL only one scheduler leads."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from inventory_service.config import Settings
from inventory_service.db.models import Alert, Lot, Ticket
from inventory_service.db.uow import Database
from inventory_service.jobs import JOBS
from inventory_service.jobs.scheduler import Scheduler
from tests.conftest import Api
from tests.integration.conftest import World, receive, receive_then_age
from tests.support.clock import FrozenClock
from tests.support.wait import wait_for


def count(db: Database, model: type, *where: object) -> int:
    with db.unit_of_work(write=False) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_every_job_twice_opens_each_ticket_and_alert_once(api: Api, world: World, db: Database, settings: Settings,
                                                           clock: FrozenClock):
    receive_then_age(api, world, clock, "OLD", "2026-03-01", 5)  # expired on the shelf
    receive(api, world, "SOON", "2026-04-01", 5)  # within 30 days
    receive(api, world, "LATER", "2026-05-20", 5)  # within 90 days
    api.post("/api/v1/par-levels", {"item_id": world.item, "location_id": world.stockroom, "reorder_point": 50,
                                     "order_up_to": 100}, role="manager", expect=201)
    api.post("/api/v1/equipment", {"id": "ac-1", "kind": "autoclave", "name": "Autoclave"}, role="manager",
             expect=201)
    api.post("/api/v1/maintenance-plans", {"equipment_id": "ac-1", "name": "Weekly spore test", "every": 1,
                                           "unit": "weeks", "first_due": "2026-03-09"}, role="manager", expect=201)
    scheduler = Scheduler(settings, db, clock)
    for _ in range(2):
        for job in JOBS:
            scheduler.run_now(job.id)
    assert count(db, Ticket) == 1
    assert count(db, Alert, Alert.kind == "expiry") == 3  # OLD expired, SOON (30), LATER (90)
    assert count(db, Alert, Alert.kind == "reorder") == 1
    assert count(db, Alert, Alert.kind == "digest") == 1
    assert count(db, Lot, Lot.status == "expired") == 1


def test_the_expiry_sweep_follows_the_site_midnight(api: Api, world: World, db: Database, settings: Settings,
                                                     clock: FrozenClock):
    receive(api, world, "EDGE", "2026-03-10", 5)
    scheduler = Scheduler(settings, db, clock)
    clock.set(datetime(2026, 3, 11, 3, 59, tzinfo=UTC))  # 23:59 on 10 March in New York
    scheduler.run_now("expiry_sweep")
    assert count(db, Lot, Lot.status == "expired") == 0
    clock.set(datetime(2026, 3, 11, 4, 0, tzinfo=UTC))  # midnight in New York
    scheduler.run_now("expiry_sweep")
    assert count(db, Lot, Lot.status == "expired") == 1


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "inventory_service.cli", "scheduler"], env=env, stdout=out,
                                stderr=subprocess.STDOUT)


def _wait_for(path: Path, text: str, timeout: float = 30) -> None:
    """Until the log file `path` holds `text`."""
    wait_for(lambda: text in path.read_text(errors="replace"), timeout, f"{text!r} in {path}", 0.1,
             details=lambda: path.read_text(errors="replace")[-2000:])


@pytest.mark.postgres
@pytest.mark.timeout(120)
def test_one_scheduler_leads_and_a_standby_takes_over_when_it_dies(postgresql_url: str, tmp_path: Path):
    env = {**os.environ, "INVENTORY_DATABASE_URL": postgresql_url, "INVENTORY_LOG_LEVEL": "INFO",
           "INVENTORY_MQTT_URL": "mqtt://127.0.0.1:1"}
    first, second = tmp_path / "first.log", tmp_path / "second.log"
    a = _start(env, first)
    b = None
    try:
        _wait_for(first, "scheduler: leading")
        b = _start(env, second)
        _wait_for(second, "standing by")
        time.sleep(1)
        assert "scheduler: leading" not in second.read_text()
        a.send_signal(signal.SIGKILL)
        a.wait(timeout=10)
        _wait_for(second, "scheduler: leading", timeout=30)
    finally:
        for p in (a, b):
            if p is not None and p.poll() is None:
                p.terminate()
                p.wait(timeout=15)


def test_the_reorder_check_commits_in_chunks_and_covers_every_par_level(api: Api, world: World, db: Database, ctx):
    from inventory_service.jobs import reorder_check

    for item in (world.item, world.other_item):
        for loc in (world.stockroom, world.clinic):
            api.post("/api/v1/par-levels", {"item_id": item, "location_id": loc, "reorder_point": 1,
                                             "order_up_to": 5}, role="manager", expect=201)
    with db.engine.begin() as conn:  # as if the alerts had been lost: the job must find every pair again
        conn.execute(Alert.__table__.delete())
    assert reorder_check(db, ctx("job:reorder_check", "job"), chunk=1) == 4
    assert count(db, Alert, Alert.kind == "reorder") == 4
