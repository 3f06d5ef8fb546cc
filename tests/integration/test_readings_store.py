"""readings.store on both databases: duplicates (also within one batch) are stored once, instants
round-trip exactly and compare correctly with instants written through the ORM."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select

from devices.mqtt import TemperatureReading
from inventory_service.db.models import Reading, RejectedInput
from inventory_service.db.uow import Database
from inventory_service.services import readings
from inventory_service.services.context import Context

T0 = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)


def test_store_skips_duplicates_and_keeps_instants_exact(db: Database):
    ctx = Context(actor="test", source="mqtt", now=T0 + timedelta(hours=1), tz=UTC)
    plus_two = timezone(timedelta(hours=2))
    batch = [
        TemperatureReading("probe-1", 1, T0, 4.0),
        TemperatureReading("probe-1", 2, (T0 + timedelta(minutes=5)).astimezone(plus_two), 4.5, 88.0, True),
        TemperatureReading("probe-1", 2, T0 + timedelta(minutes=5), 9.9),  # same seq again in the batch
        TemperatureReading("probe-2", 7, T0 + timedelta(microseconds=1), 5.0),
    ]
    with db.unit_of_work() as uow:
        readings.store(uow, ctx, batch)
        uow.commit()
    with db.unit_of_work() as uow:  # a redelivered batch adds nothing
        readings.store(uow, ctx, batch[:2])
        uow.commit()
    with db.unit_of_work(write=False) as uow:
        rows = uow.session.execute(select(Reading.sensor_id, Reading.seq, Reading.ts, Reading.temp_c,
                                          Reading.battery_pct, Reading.door_open)
                                   .order_by(Reading.ts, Reading.id)).all()
        at_t0 = uow.session.scalars(select(Reading.seq).where(Reading.ts >= T0, Reading.ts <= T0)).all()
    assert [tuple(r) for r in rows] == [
        ("probe-1", 1, T0, 4.0, None, None),
        ("probe-2", 7, T0 + timedelta(microseconds=1), 5.0, None, None),
        ("probe-1", 2, T0 + timedelta(minutes=5), 4.5, 88.0, True),
    ]
    assert at_t0 == [1]  # a whole-second instant matches a bound parameter exactly


def test_a_rejection_whose_reason_quotes_a_lone_surrogate_or_a_nul_is_stored(db: Database):
    """A reason quotes what it refuses: an unknown field named "\\ud800" (a JSON escape) made the
    INSERT itself fail ("surrogates not allowed") on both databases (found by test_device_fuzz.py)."""
    ctx = Context(actor="test", source="mqtt", now=T0, tz=UTC)
    with db.unit_of_work() as uow:
        readings.reject(uow, ctx, source="mqtt", topic="coldchain/probe-1/reading",
                        payload=b'{"\\ud800": 1, "a\\u0000b": 2}', reason="unknown field(s) a\x00b, \ud800")
        uow.commit()
    with db.unit_of_work(write=False) as uow:
        assert uow.session.execute(select(RejectedInput.payload, RejectedInput.reason)).one() == (
            '{"\\ud800": 1, "a\\u0000b": 2}', "unknown field(s) a\\x00b, \\ud800")
