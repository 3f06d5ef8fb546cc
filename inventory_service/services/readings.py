"""Storing temperature readings: idempotent on (sensor_id, seq), attributed to the unit the sensor
was assigned to at the reading's time, with sequence gaps recorded."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from devices.mqtt import TemperatureReading

from ..db.models import Reading, RejectedInput, Sensor, SensorAssignment, SeqGap
from ..db.uow import UnitOfWork
from .context import Context

PAYLOAD_KEEP = 2000  # characters of a rejected payload kept for the record


def _insert(uow: UnitOfWork) -> Any:
    dialect = postgresql if uow.dialect == "postgresql" else sqlite
    return dialect.insert(Reading).on_conflict_do_nothing(index_elements=["sensor_id", "seq"])


def _sensors(uow: UnitOfWork, ctx: Context, ids: set[str]) -> dict[str, Sensor]:
    found = {s.id: s for s in uow.session.scalars(select(Sensor).where(Sensor.id.in_(ids)))}
    for missing in ids - set(found):
        # A sensor nobody registered yet: keep its readings (unattributed) rather than lose them.
        sensor = Sensor(id=missing, storage_unit_id=None, interval_min=5, status="unknown", created_at=ctx.now)
        uow.session.add(sensor)
        found[missing] = sensor
    uow.session.flush()
    return found


def _unit_at(history: list[SensorAssignment], ts: datetime) -> int | None:
    for a in history:
        if a.assigned_at <= ts and (a.unassigned_at is None or ts < a.unassigned_at):
            return a.storage_unit_id
    return None


def store(uow: UnitOfWork, ctx: Context, readings: Sequence[TemperatureReading]) -> dict[int, datetime]:
    """Insert readings, ignoring (sensor_id, seq) already stored. Returns, per storage unit that got
    new readings, the earliest new timestamp: where evaluation must start again."""
    if not readings:
        return {}
    sensors = _sensors(uow, ctx, {r.sensor_id for r in readings})
    history: dict[str, list[SensorAssignment]] = defaultdict(list)
    for a in uow.session.scalars(select(SensorAssignment).where(SensorAssignment.sensor_id.in_(sensors))):
        history[a.sensor_id].append(a)
    rows = [{"sensor_id": r.sensor_id, "seq": r.seq, "ts": r.ts, "temp_c": r.temp_c, "battery_pct": r.battery_pct,
             "door_open": r.door_open, "storage_unit_id": _unit_at(history[r.sensor_id], r.ts), "received_at": ctx.now}
            for r in readings]
    inserted = uow.session.execute(
        _insert(uow).returning(Reading.sensor_id, Reading.seq, Reading.ts, Reading.storage_unit_id), rows
    ).all()
    affected: dict[int, datetime] = {}
    new_seqs: dict[str, list[int]] = defaultdict(list)
    for sensor_id, seq, ts, unit_id in inserted:
        new_seqs[sensor_id].append(seq)
        if unit_id is not None and (unit_id not in affected or ts < affected[unit_id]):
            affected[unit_id] = ts
    for r in readings:
        s = sensors[r.sensor_id]
        s.last_seen_at = ctx.now
        if r.battery_pct is not None and (s.last_reading_at is None or r.ts >= s.last_reading_at):
            s.battery_pct = r.battery_pct
        if s.last_reading_at is None or r.ts > s.last_reading_at:
            s.last_reading_at = r.ts
    for sensor_id, seqs in new_seqs.items():
        _record_gaps(uow, ctx, sensors[sensor_id], sorted(seqs))
    return affected


def _record_gaps(uow: UnitOfWork, ctx: Context, sensor: Sensor, seqs: list[int]) -> None:
    """Make skipped sequence numbers visible, and mark a gap filled when backfill closes it."""
    previous = sensor.max_seq
    for seq in seqs:
        if previous is not None and seq > previous + 1:
            uow.session.add(SeqGap(sensor_id=sensor.id, first_missing=previous + 1, last_missing=seq - 1,
                                   detected_at=ctx.now, filled=False))
        previous = seq if previous is None else max(previous, seq)
    if sensor.max_seq is not None and seqs[0] < sensor.max_seq:
        for gap in uow.session.scalars(select(SeqGap).where(SeqGap.sensor_id == sensor.id, SeqGap.filled.is_(False),
                                                            SeqGap.first_missing <= seqs[-1])):
            have = uow.session.scalar(select(func.count()).select_from(Reading).where(
                Reading.sensor_id == sensor.id, Reading.seq.between(gap.first_missing, gap.last_missing)))
            gap.filled = have == gap.last_missing - gap.first_missing + 1
    sensor.max_seq = previous


def set_status(uow: UnitOfWork, ctx: Context, sensor_id: str, status: str) -> None:
    sensor = _sensors(uow, ctx, {sensor_id})[sensor_id]
    sensor.status, sensor.status_at = status, ctx.now


def reject(uow: UnitOfWork, ctx: Context, *, source: str, topic: str, payload: bytes, reason: str) -> RejectedInput:
    """Keep a payload that failed validation, truncated and escaped, with its reason."""
    text = payload[:PAYLOAD_KEEP].decode("utf-8", errors="backslashreplace").replace("\x00", "\\x00")
    reason = reason[:2000].replace("\x00", "\\x00")  # PostgreSQL text cannot hold NUL
    row = RejectedInput(source=source, topic=topic[:300], payload=text, reason=reason, received_at=ctx.now)
    uow.session.add(row)
    uow.session.flush()
    return row
