"""The excursion's duration and the daily summary's minutes high are one count (README, "Cold chain":
minutes out of range), through the service as ingest runs it: readings stored and evaluated one
message at a time, then both read back as an inspector would.

The series is the fridge simulator's door-open scenario (`firmware_sim.fridge.generate`) logging
every minute, with each timestamp moved by up to ±20 s, as a logger's clock and network do (the gaps
stay within the 2-minute cap, so the door opening is one excursion).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from devices.mqtt import TemperatureReading
from firmware_sim.fridge import generate, make_scenario
from inventory_service.db.models import Alarm, Excursion, LotHold, StorageUnit
from inventory_service.db.uow import Database
from inventory_service.services import catalog, cold_evaluation, coldchain_queries, readings, stock, storage_units
from inventory_service.services.context import Context
from tests.support.clock import FrozenClock

NY = ZoneInfo("America/New_York")  # the site zone of the test settings (tests/conftest.py)
SENSOR = "probe-1"


@pytest.fixture
def unit(db: Database, ctx: Callable[..., Context]) -> int:
    """A refrigerator (2.0-8.0 °C, default rules) with a 1-minute logger, set up at 15:00 UTC on 10 March."""
    with db.unit_of_work() as uow:
        c = ctx()
        row = storage_units.create_unit(uow, c, name="Vaccine fridge 1", kind="refrigerator")
        storage_units.assign_sensor(uow, c, sensor_id=SENSOR, storage_unit_id=row.id, interval_min=1)
        uow.commit()
        return row.id


def door_open_series(start: datetime, seed: int, minutes: int = 180,
                     jitter_s: float = 20.0) -> list[TemperatureReading]:
    """The simulator's readings (door open from minute 60 for 45 minutes), each moved by up to ±jitter_s."""
    rng = random.Random(seed)
    taken = generate(make_scenario("door_open", door_at=60, door_minutes=45), start, timedelta(minutes=minutes),
                     timedelta(minutes=1), seed=seed)
    return [TemperatureReading(SENSOR, r.seq, r.ts + timedelta(seconds=rng.uniform(-jitter_s, jitter_s)), r.temp_c)
            for r in taken]


def feed(db: Database, clock: FrozenClock, batch: list[TemperatureReading], *, late_s: float = 0.5) -> None:
    """Store and evaluate one message as the ingest does, `late_s` after its newest reading was taken."""
    clock.set(max(r.ts for r in batch) + timedelta(seconds=late_s))
    c = Context("ingest", "mqtt", clock(), NY)
    with db.unit_of_work() as uow:
        for unit_id, since in readings.store(uow, c, batch).items():
            cold_evaluation.evaluate(uow, c, unit_id, since)
        uow.commit()


def read_back(db: Database, unit_id: int, days: tuple[date, date], at: datetime) -> tuple[list[dict], list[dict]]:
    """(high excursions, daily summary rows) as the API gives them at `at`."""
    c = Context("inspector", "api", at, NY)
    with db.unit_of_work(write=False) as uow:
        found = coldchain_queries.excursions(uow, c, unit_id, *days)
        summary = coldchain_queries.daily_summary(uow, c, unit_id, *days)
    return [e for e in found if e["kind"] == "high"], summary


def stored(db: Database) -> list[Excursion]:
    with db.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(Excursion).order_by(Excursion.start)))


def test_the_excursion_and_the_day_agree_while_the_door_is_open_and_after(db, clock, unit):
    # The walkthrough: looked at between two readings, the excursion said 31.0 minutes, the day 31.7.
    series = door_open_series(datetime(2026, 3, 10, 16, 0, tzinfo=UTC), seed=7)
    first_high = next(i for i, r in enumerate(series) if r.temp_c > 8.0)
    for r in series[:first_high + 32]:
        feed(db, clock, [r])
    today = series[0].ts.astimezone(NY).date()
    asked = series[first_high + 31].ts + timedelta(seconds=42)
    [ex], [day] = read_back(db, unit, (today, today), asked)
    assert ex["ongoing"] and ex["end"] is None
    assert ex["duration_min"] == day["minutes_high"] > 31

    for r in series[first_high + 32:]:
        feed(db, clock, [r])
    [ex], [day] = read_back(db, unit, (today, today), clock() + timedelta(hours=1))
    [row] = [e for e in stored(db) if e.kind == "high"]
    assert not ex["ongoing"] and ex["end"] == row.end
    assert ex["duration_min"] == row.duration_min == day["minutes_high"] > 45


def test_an_excursion_across_the_site_midnight_splits_into_days_that_sum_to_its_duration(db, clock, unit):
    # 22:40 in New York (EDT, UTC-4); the door opens at 23:40 and closes at 00:25 on 11 March.
    series = door_open_series(datetime(2026, 3, 11, 2, 40, tzinfo=UTC), seed=1)
    for r in series:
        feed(db, clock, [r])
    days = (date(2026, 3, 10), date(2026, 3, 11))
    [ex], summary = read_back(db, unit, days, clock() + timedelta(days=1))
    [row] = [e for e in stored(db) if e.kind == "high"]
    assert row.start.astimezone(NY).date() == days[0] and row.end.astimezone(NY).date() == days[1]
    parts = [d["minutes_high"] for d in summary]
    assert all(p > 0 for p in parts)
    assert round(sum(parts), 1) == ex["duration_min"] == row.duration_min


def test_late_readings_that_join_two_stored_runs_leave_one_excursion(db, clock, ctx, unit):
    # A long excursion (the door open for 3 hours) with a 100-minute outage in it. Readings from after
    # the outage are stored before the logger's backfill of it (another ingest instance took them):
    # until the backfill they are a run of their own, long enough to raise its alarm and hold the lot
    # in the fridge; after it, the two runs are one excursion, with that alarm and hold.
    with db.unit_of_work() as uow:
        c = ctx()
        item = catalog.create_item(uow, c, name="MMR vaccine", storage="refrigerated")
        location = uow.session.get(StorageUnit, unit).location_id
        lot, _ = stock.receive(uow, c, item_id=item.id, location_id=location, lot_number="MMR1",
                               expiry=date(2027, 1, 31), quantity=20)
        uow.commit()
    rng = random.Random(3)
    taken = generate(make_scenario("door_open", door_at=30, door_minutes=180), datetime(2026, 3, 10, 16, 0, tzinfo=UTC),
                     timedelta(minutes=300), timedelta(minutes=1), seed=3)
    series = [TemperatureReading(SENSOR, r.seq, r.ts + timedelta(seconds=rng.uniform(-20, 20)), r.temp_c)
              for r in taken]
    first_high = next(i for i, r in enumerate(series) if r.temp_c > 8.0)
    cut, back, late = first_high + 20, first_high + 120, first_high + 160
    assert all(r.temp_c > 8.0 for r in series[cut - 1:late])
    for r in series[:cut]:
        feed(db, clock, [r])
    for r in series[back:late]:
        feed(db, clock, [r], late_s=30)
    assert len([e for e in stored(db) if e.kind == "high"]) == 2  # before the backfill: two runs
    feed(db, clock, series[cut:back], late_s=60)
    for r in series[late:]:
        feed(db, clock, [r])
    today = series[0].ts.astimezone(NY).date()
    high, [day] = read_back(db, unit, (today, today), clock() + timedelta(hours=1))
    rows = [e for e in stored(db) if e.kind == "high"]
    assert all(a.end < b.start for a, b in itertools.pairwise(rows))  # each stretch counted once
    assert round(sum(e["duration_min"] for e in high), 1) == day["minutes_high"]
    [long] = [e for e in high if e["duration_min"] > 150]
    with db.unit_of_work(write=False) as uow:
        assert {a.excursion_id for a in uow.session.scalars(select(Alarm).where(Alarm.kind == "high"))} == {long["id"]}
        assert [(h.excursion_id, h.lot_id) for h in uow.session.scalars(select(LotHold))] == [(long["id"], lot.id)]
