"""Readings in, excursions, alarms, holds and alerts out (services, both databases)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from devices.mqtt import TemperatureReading
from inventory_service.db.models import Alarm, Balance, Excursion, Lot, LotHold, Reading, SeqGap
from inventory_service.db.uow import Database
from inventory_service.domain.coldchain.recent import RecentReadings
from inventory_service.services import cold_evaluation, readings, stock, storage_units
from inventory_service.services.context import Context
from tests.support.clock import FrozenClock

T0 = datetime(2026, 3, 10, 15, 10, tzinfo=UTC)  # 10 minutes after the fixture assigned the sensor


@pytest.fixture
def fridge(db: Database, ctx: Callable[..., Context]) -> dict[str, int]:
    with db.unit_of_work() as uow:
        c = ctx()
        unit = storage_units.create_unit(uow, c, name="Vaccine fridge 1", kind="refrigerator")
        storage_units.assign_sensor(uow, c, sensor_id="probe-1", storage_unit_id=unit.id, interval_min=5)
        from inventory_service.services import catalog

        item = catalog.create_item(uow, c, name="MMR vaccine", storage="refrigerated")
        lot, _ = stock.receive(uow, c, item_id=item.id, location_id=unit.location_id, lot_number="MMR1",
                               expiry=date(2027, 1, 31), quantity=20)
        uow.commit()
        return {"unit": unit.id, "lot": lot.id, "location": unit.location_id}


def feed(db: Database, clock: FrozenClock, temps: list[float], start: datetime = T0, seq0: int = 0,
         sensor: str = "probe-1", recent: RecentReadings | None = None) -> list:
    """Publish-equivalent: store readings 5 minutes apart and evaluate, as ingest does (with
    `recent`: remembering windows between batches, as the MQTT ingest does)."""
    batch = [TemperatureReading(sensor, seq0 + i, start + timedelta(minutes=5 * i), t) for i, t in enumerate(temps)]
    clock.set(batch[-1].ts + timedelta(minutes=1))
    c = Context("ingest", "mqtt", clock(), __import__("zoneinfo").ZoneInfo("America/New_York"))
    fired = []
    with db.unit_of_work() as uow:
        if recent is None:
            for unit_id, since in readings.store(uow, c, batch).items():
                fired += cold_evaluation.evaluate(uow, c, unit_id, since)
        else:
            added: dict = {}
            fired += cold_evaluation.evaluate_many(uow, c, readings.store(uow, c, batch, added), recent=recent,
                                                   added=added)
        uow.commit()
    if recent is not None:
        recent.commit()
    return fired


def rows(db: Database, model: type) -> list:
    from sqlalchemy import select

    with db.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(model)))


def test_a_door_left_open_45_minutes_raises_one_alarm_and_holds_the_lots_in_that_fridge(db, clock, fridge):
    temps = [5.0] * 3 + [9.5] * 9 + [5.0] * 3  # 45 minutes above 8 °C
    fired = feed(db, clock, temps)
    assert len(fired) == 1
    [alarm] = rows(db, Alarm)
    assert (alarm.kind, alarm.mode) == ("high", "consecutive")
    assert alarm.triggered_at == T0 + timedelta(minutes=15 + 30)
    assert alarm.ended_at == T0 + timedelta(minutes=60)
    [ex] = rows(db, Excursion)
    assert (ex.duration_min, ex.peak_c, ex.ongoing) == (45, 9.5, False)
    [hold] = rows(db, LotHold)
    assert (hold.lot_id, hold.location_id, hold.quantity, hold.exposure_min) == (
        fridge["lot"], fridge["location"], 20, 45)
    [lot] = rows(db, Lot)
    assert lot.status == "available"  # lot-wide: the hold is on the stock in the fridge
    [balance] = rows(db, Balance)
    assert (balance.location_id, balance.held) == (fridge["location"], True)


def test_the_same_readings_twice_store_nothing_new_and_raise_no_second_alarm(db, clock, fridge):
    temps = [5.0] * 3 + [9.5] * 9 + [5.0] * 3
    feed(db, clock, temps)
    assert feed(db, clock, temps) == []
    assert len(rows(db, Reading)) == 15
    assert len(rows(db, Alarm)) == 1


def test_backfilled_readings_raise_the_alarm_stamped_when_it_really_started(db, clock, fridge):
    feed(db, clock, [5.0] * 3)
    feed(db, clock, [5.0] * 2, start=T0 + timedelta(minutes=120), seq0=100)
    fired = feed(db, clock, [3.0] + [1.0] * 6 + [4.0] * 3, start=T0 + timedelta(minutes=15), seq0=3)
    [alarm] = fired
    assert (alarm.kind, alarm.condition_start) == ("low", T0 + timedelta(minutes=20))
    assert alarm.triggered_at == T0 + timedelta(minutes=35)


def test_seq_gaps_are_recorded_and_marked_filled_by_backfill(db, clock, fridge):
    feed(db, clock, [5.0] * 2)
    feed(db, clock, [5.0], start=T0 + timedelta(minutes=20), seq0=4)
    [gap] = rows(db, SeqGap)
    assert (gap.first_missing, gap.last_missing, gap.filled) == (2, 3, False)
    feed(db, clock, [5.0] * 2, start=T0 + timedelta(minutes=10), seq0=2)
    [gap] = rows(db, SeqGap)
    assert gap.filled


def test_silence_past_the_limit_raises_a_no_data_alarm(db, clock, fridge):
    feed(db, clock, [5.0] * 2)
    fired = feed(db, clock, [5.0], start=T0 + timedelta(minutes=90), seq0=2)
    assert [(a.kind, a.triggered_at) for a in fired] == [("no_data", T0 + timedelta(minutes=65))]


def test_the_sweep_raises_no_data_for_a_sensor_that_went_silent(db, clock, fridge):
    feed(db, clock, [5.0] * 3)
    clock.advance(minutes=70)
    c = Context("job", "job", clock(), __import__("zoneinfo").ZoneInfo("America/New_York"))
    with db.unit_of_work() as uow:
        fired = cold_evaluation.sweep_no_data(uow, c)
        again = cold_evaluation.sweep_no_data(uow, c)
        uow.commit()
    assert [(a.kind, a.ended_at) for a in fired] == [("no_data", None)]
    assert again == []


def test_a_no_data_alarm_ends_when_backfill_fills_the_silence(db, clock, fridge):
    feed(db, clock, [5.0] * 3)
    clock.advance(minutes=70)
    c = Context("job", "job", clock(), __import__("zoneinfo").ZoneInfo("America/New_York"))
    with db.unit_of_work() as uow:
        assert len(cold_evaluation.sweep_no_data(uow, c)) == 1
        uow.commit()
    feed(db, clock, [5.0] * 16, start=T0 + timedelta(minutes=15), seq0=3)  # the logger's buffer arrives
    [stored] = rows(db, Alarm)
    assert stored.ended_at == stored.triggered_at  # the data resumed before the alarm time: closed there
    from inventory_service.db.models import Alert

    assert [a.status for a in rows(db, Alert)] == ["resolved"]


def test_new_readings_never_raise_no_data_for_the_silence_after_them(db, clock, fridge):
    feed(db, clock, [5.0] * 3)
    clock.advance(hours=3)
    fired = feed(db, clock, [5.0] * 3, start=T0 + timedelta(minutes=15), seq0=3)
    assert fired == []  # silence after the newest reading is the sweep's business


def test_a_lot_received_after_the_excursion_is_not_held(db, clock, fridge, ctx):
    from inventory_service.services import catalog

    temps = [5.0] * 3 + [9.5] * 9 + [5.0] * 3
    clock.set(T0 + timedelta(hours=2))
    with db.unit_of_work() as uow:
        c = ctx()
        item = catalog.create_item(uow, c, name="Hep B")
        unit = storage_units.get_unit(uow, fridge["unit"])
        stock.receive(uow, c, item_id=item.id, location_id=unit.location_id, lot_number="LATE",
                      expiry=date(2027, 1, 31), quantity=5)
        uow.commit()
    feed(db, clock, temps)  # the readings of the morning arrive late
    holds = rows(db, LotHold)
    assert [h.lot_id for h in holds] == [fridge["lot"]]


def test_a_moved_sensor_keeps_its_past_readings_with_the_old_unit(db, clock, fridge, ctx):
    feed(db, clock, [5.0] * 3)
    with db.unit_of_work() as uow:
        c = ctx()
        other = storage_units.create_unit(uow, c, name="Freezer 2", kind="freezer")
        storage_units.assign_sensor(uow, c, sensor_id="probe-1", storage_unit_id=other.id)
        uow.commit()
        other_id = other.id
    feed(db, clock, [-20.0] * 2, start=clock() + timedelta(minutes=1), seq0=3)
    units = [(r.seq, r.storage_unit_id) for r in sorted(rows(db, Reading), key=lambda r: r.seq)]
    assert units == [(0, fridge["unit"]), (1, fridge["unit"]), (2, fridge["unit"]), (3, other_id), (4, other_id)]


# --- several units in one batch (as MQTT ingest evaluates them) ----------------------------------

NY = __import__("zoneinfo").ZoneInfo("America/New_York")
NOW = T0 + timedelta(minutes=130)


def setup_three_units(db: Database, ctx: Callable[..., Context]) -> dict[str, int]:
    """Fridges A and B (2..8 °C) with a lot each, freezer C (-50..-15 °C), one probe each."""
    from inventory_service.services import catalog

    with db.unit_of_work() as uow:
        c = ctx()
        item = catalog.create_item(uow, c, name="MMR vaccine", storage="refrigerated")
        ids = {}
        for name, kind, probe in [("A", "refrigerator", "probe-a"), ("B", "refrigerator", "probe-b"),
                                  ("C", "freezer", "probe-c")]:
            unit = storage_units.create_unit(uow, c, name=name, kind=kind)
            storage_units.assign_sensor(uow, c, sensor_id=probe, storage_unit_id=unit.id, interval_min=5)
            stock.receive(uow, c, item_id=item.id, location_id=unit.location_id, lot_number=f"LOT-{name}",
                          expiry=date(2027, 1, 31), quantity=10)
            ids[name] = unit.id
        uow.commit()
    return ids


def readings_of(sensor: str, temps: list[float], start: datetime, seq0: int) -> list[TemperatureReading]:
    return [TemperatureReading(sensor, seq0 + i, start + timedelta(minutes=5 * i), t) for i, t in enumerate(temps)]


def three_unit_history() -> list[TemperatureReading]:
    """Before the batch: A and C in range; B in range, then silent for 110 minutes (a no-data alarm,
    ended by B's next reading), which the batch's backfill fills."""
    return (readings_of("probe-a", [5.0] * 3, T0, 0) + readings_of("probe-c", [-20.0] * 2, T0, 0)
            + readings_of("probe-b", [5.0] * 3, T0, 0)
            + readings_of("probe-b", [5.0] * 2, T0 + timedelta(minutes=120), 100))


def three_unit_batch() -> list[TemperatureReading]:
    """One batch: A's door left open 45 minutes; B's backfill with a 30-minute low excursion in the
    past; C's first reading after 85 minutes of silence (a no-data gap)."""
    return (readings_of("probe-a", [9.5] * 9 + [5.0] * 3, T0 + timedelta(minutes=15), 3)
            + readings_of("probe-b", [3.0] + [1.0] * 6 + [4.0] * 5, T0 + timedelta(minutes=15), 3)
            + readings_of("probe-c", [-20.0], T0 + timedelta(minutes=90), 2))


def ingest(db: Database, batch: list[TemperatureReading], *, together: bool) -> list[tuple[str, str, datetime]]:
    """Store `batch` and evaluate its units in one evaluate_many call, or unit by unit with evaluate."""
    c = Context("ingest", "mqtt", NOW, NY)
    with db.unit_of_work() as uow:
        affected = readings.store(uow, c, batch)
        if together:
            fired = cold_evaluation.evaluate_many(uow, c, affected)
        else:
            fired = [a for unit_id, since in affected.items() for a in cold_evaluation.evaluate(uow, c, unit_id, since)]
        result = [(a.kind, a.mode, a.triggered_at) for a in fired]
        uow.commit()
    return result


def snapshot(db: Database) -> dict[str, list]:
    """Excursions, alarms, alerts, holds and lot statuses with row ids replaced by unit and lot names."""
    from sqlalchemy import select

    from inventory_service.db.models import Alert, StorageUnit

    with db.unit_of_work(write=False) as uow:
        s = uow.session
        unit = {u.id: u.name for u in s.scalars(select(StorageUnit))}
        lot = {x.id: x.lot_number for x in s.scalars(select(Lot))}
        excursion = {e.id: (unit[e.storage_unit_id], e.kind, e.start) for e in s.scalars(select(Excursion))}
        alarm = {a.id: (unit[a.storage_unit_id], a.kind, a.condition_start) for a in s.scalars(select(Alarm))}
        return {
            "excursions": sorted((*excursion[e.id], e.end, e.ongoing, e.peak_c, e.min_c, e.max_c, e.duration_min,
                                  e.updated_at) for e in s.scalars(select(Excursion))),
            "alarms": sorted((*alarm[a.id], a.rule_index, a.mode, a.sensor_id, a.triggered_at, a.ended_at,
                              excursion.get(a.excursion_id)) for a in s.scalars(select(Alarm))),
            "alerts": sorted((a.kind, a.severity, a.subject, a.message, a.status, a.opened_at, a.resolved_at,
                              unit[a.details["storage_unit_id"]], alarm[a.details["alarm_id"]],
                              excursion.get(a.details.get("excursion_id")),
                              sorted(lot[i] for i in a.details.get("held_lot_ids", [])))
                             for a in s.scalars(select(Alert))),
            "holds": sorted((excursion[h.excursion_id], lot[h.lot_id], unit[h.storage_unit_id], h.quantity,
                             h.exposure_min) for h in s.scalars(select(LotHold))),
            "lots": sorted((x.lot_number, x.status, any(b.held for b in s.scalars(select(Balance).where(
                Balance.lot_id == x.id)))) for x in s.scalars(select(Lot))),
        }


def test_evaluating_units_together_gives_what_evaluating_them_one_by_one_gives(db, clock, ctx):
    outcomes = []
    for together in (True, False):
        from tests.support.database import reset

        reset(db)
        clock.set(T0 - timedelta(minutes=10))
        setup_three_units(db, ctx)
        ingest(db, three_unit_history(), together=together)
        fired = ingest(db, three_unit_batch(), together=together)
        outcomes.append((sorted(fired), snapshot(db)))
    (fired, state), one_by_one = outcomes
    assert (fired, state) == one_by_one
    # And what both found is right, unit by unit (a mix-up of units would break these):
    assert fired == sorted([("high", "consecutive", T0 + timedelta(minutes=45)),
                            ("low", "consecutive", T0 + timedelta(minutes=35)),
                            ("no_data", "no_data", T0 + timedelta(minutes=65))])
    assert [(name, kind, start) for name, kind, start, *_ in state["excursions"]] == [
        ("A", "high", T0 + timedelta(minutes=15)), ("B", "low", T0 + timedelta(minutes=20))]
    assert [(a[0], a[1], a[5]) for a in state["alarms"]] == [
        ("A", "high", None), ("B", "low", None), ("B", "no_data", "probe-b"), ("C", "no_data", "probe-c")]
    assert [(h[1], h[2]) for h in state["holds"]] == [("LOT-A", "A"), ("LOT-B", "B")]
    assert state["lots"] == [("LOT-A", "available", True), ("LOT-B", "available", True),
                             ("LOT-C", "available", False)]


def test_a_remembered_window_is_not_trusted_once_another_writer_added_readings(db, clock, fridge):
    recent = RecentReadings()
    feed(db, clock, [5.0] * 6, recent=recent)
    feed(db, clock, [9.5] * 3, start=T0 + timedelta(minutes=30), seq0=6)  # another ingest instance
    fired = feed(db, clock, [9.5] * 4, start=T0 + timedelta(minutes=45), seq0=9, recent=recent)
    # Only with the other instance's readings does the run start at +30 and reach 30 minutes at +60.
    assert [(a.kind, a.condition_start, a.triggered_at) for a in fired] == [
        ("high", T0 + timedelta(minutes=30), T0 + timedelta(minutes=60))]


def test_remembered_windows_give_what_reading_the_database_gives(db, clock, fridge):
    """Batches in order, a run spanning batches, then late data inside the remembered span."""
    outcomes = []
    for recent in (RecentReadings(), None):
        from tests.support.database import reset

        reset(db)
        clock.set(T0 - timedelta(minutes=10))
        with db.unit_of_work() as uow:  # the fixture's unit, sensor and lot, again after the reset
            from inventory_service.services import catalog

            c = Context("tester", "api", clock(), __import__("zoneinfo").ZoneInfo("America/New_York"))
            unit = storage_units.create_unit(uow, c, name="Vaccine fridge 1", kind="refrigerator")
            storage_units.assign_sensor(uow, c, sensor_id="probe-1", storage_unit_id=unit.id, interval_min=5)
            item = catalog.create_item(uow, c, name="MMR vaccine", storage="refrigerated")
            stock.receive(uow, c, item_id=item.id, location_id=unit.location_id, lot_number="MMR1",
                          expiry=date(2027, 1, 31), quantity=20)
            uow.commit()
        fired = feed(db, clock, [5.0] * 4, recent=recent)
        fired += feed(db, clock, [5.0] * 2 + [9.5] * 4, start=T0 + timedelta(minutes=30), seq0=6, recent=recent)
        fired += feed(db, clock, [9.5] * 4 + [5.0] * 2, start=T0 + timedelta(minutes=60), seq0=12, recent=recent)
        fired += feed(db, clock, [1.0] * 2, start=T0 + timedelta(minutes=20), seq0=4, recent=recent)  # late
        fired += feed(db, clock, [5.0] * 3, start=T0 + timedelta(minutes=90), seq0=18, recent=recent)
        outcomes.append(([(a.kind, a.condition_start, a.triggered_at, a.ended_at) for a in fired],
                         sorted((e.kind, e.start, e.end, e.peak_c, e.ongoing) for e in rows(db, Excursion)),
                         sorted((a.kind, a.condition_start, a.triggered_at, a.ended_at) for a in rows(db, Alarm))))
    remembered, read_back = outcomes
    assert remembered == read_back
    assert [(kind, start) for kind, start, *_ in remembered[1]] == [
        ("high", T0 + timedelta(minutes=40)), ("low", T0 + timedelta(minutes=20))]
