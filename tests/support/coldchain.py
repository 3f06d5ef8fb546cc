"""Readings into the cold chain as the MQTT ingest puts them: stored, then every touched unit evaluated."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from devices.mqtt import TemperatureReading
from inventory_service.db.models import Alarm
from inventory_service.db.uow import Database
from inventory_service.services import cold_evaluation, readings
from inventory_service.services.context import Context
from tests.support.clock import FrozenClock

SITE = ZoneInfo("America/New_York")  # the test settings' site zone (tests/conftest.py SITE_TZ)


def feed(db: Database, clock: FrozenClock, temps: list[float], *, start: datetime, seq0: int = 0,
         sensor: str = "probe-1", every_min: float = 5, then_min: float = 5) -> list[Alarm]:
    """Readings `every_min` apart from `start` (seq from `seq0`), stored and evaluated in one transaction
    as one message would be; the clock is set `then_min` after the newest. Returns the alarms that fired."""
    batch = [TemperatureReading(sensor, seq0 + i, start + timedelta(minutes=every_min * i), t)
             for i, t in enumerate(temps)]
    clock.set(batch[-1].ts + timedelta(minutes=then_min))
    c = Context("ingest", "mqtt", clock(), SITE)
    fired: list[Alarm] = []
    with db.unit_of_work() as uow:
        for unit_id, since in readings.store(uow, c, batch).items():
            fired += cold_evaluation.evaluate(uow, c, unit_id, since)
        uow.commit()
    return fired
