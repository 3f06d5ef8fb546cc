"""Storing temperature readings: idempotent on (sensor_id, seq), attributed to the unit the sensor
was assigned to at the reading's time, with sequence gaps recorded."""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, bindparam, cast, func, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY

from devices.mqtt import TemperatureReading

from ..db.base import sqlite_instant
from ..db.models import Reading, RejectedInput, Sensor, SensorAssignment, SeqGap
from ..db.sets import among
from ..db.uow import UnitOfWork
from .context import Context

PAYLOAD_KEEP = 2000  # characters of a rejected payload kept for the record


COLUMNS = ("sensor_id", "seq", "ts", "temp_c", "battery_pct", "door_open", "storage_unit_id", "received_at")
_SENSOR_SEQ = operator.itemgetter(0, 1)
_SQLITE_INSERT = (f"INSERT INTO readings ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)}) "  # noqa: S608
                  "ON CONFLICT (sensor_id, seq) DO NOTHING")  # constant column names, values bound


def _insert_new(uow: UnitOfWork, rows: list[tuple[Any, ...]]) -> list[int]:
    """Insert `rows` (values in COLUMNS order), skipping (sensor_id, seq) already stored, the first of
    a pair repeated within `rows` winning; return the positions in `rows` of those inserted, in the
    order they were stored. PostgreSQL gets one short statement over arrays (`INSERT ... SELECT FROM
    unnest(...)`), whose text psycopg parses once, instead of a multi-row VALUES list it would parse
    on every batch; it returns only the keys, which map back to the rows the caller already holds."""
    if uow.dialect != "postgresql":
        return _insert_new_sqlite(uow, rows)
    table = Reading.__table__
    # received_at is one instant for the whole batch: one parameter, not an array of copies. The ts
    # array is typed as plain timestamptz: the values are zone-aware (the payload contract), so
    # PostgreSQL places them exactly, and UTCDateTime's per-element conversion would only cost time.
    if any(r[2].tzinfo is None for r in rows):
        raise ValueError("naive datetime given for a UTCDateTime column")  # as UTCDateTime would
    per_row = COLUMNS[:-1]
    types = {c: DateTime(timezone=True) if c == "ts" else table.c[c].type for c in per_row}
    arrays = [cast(bindparam(f"a_{c}", list(values), type_=ARRAY(types[c])), ARRAY(types[c]))
              for c, values in zip(per_row, list(zip(*rows, strict=True))[:-1], strict=True)]
    source = func.unnest(*arrays).table_valued(*per_row).render_derived()
    received_at = cast(bindparam("received_at", rows[0][-1], type_=table.c.received_at.type),
                       table.c.received_at.type)
    stmt: Any = postgresql.insert(table).from_select(COLUMNS, select(*source.c, received_at))
    position: dict[tuple[str, int], int] = {}
    for i, r in enumerate(rows):
        position.setdefault((r[0], r[1]), i)
    # Through the connection (Core): plain rows, without the ORM's per-row loading machinery.
    stored = uow.session.connection().execute(stmt.on_conflict_do_nothing(index_elements=["sensor_id", "seq"])
                                              .returning(table.c.sensor_id, table.c.seq)).all()
    return sorted(position[(sensor_id, seq)] for sensor_id, seq in stored)


def _insert_new_sqlite(uow: UnitOfWork, rows: list[tuple[Any, ...]]) -> list[int]:
    """SQLite: a writer holds the database's only write lock from its first statement (BEGIN
    IMMEDIATE, db.engine), so the (sensor_id, seq) pairs already stored can be looked up first and
    the rest handed to the driver's executemany, which binds each row in C. (SQLAlchemy's per-row
    type processing with RETURNING was about a quarter of the ingest's CPU.)"""
    ranges: dict[str, tuple[int, int]] = {}
    for r in rows:
        lo, hi = ranges.get(r[0], (r[1], r[1]))
        ranges[r[0]] = (min(lo, r[1]), max(hi, r[1]))
    conn = uow.session.connection()
    values = ", ".join("(?, ?, ?)" for _ in ranges)
    stored = set(conn.exec_driver_sql(
        f"WITH batch(sensor_id, lo, hi) AS (VALUES {values}) "  # noqa: S608 - placeholders only
        "SELECT r.sensor_id, r.seq FROM readings AS r JOIN batch AS b "
        "ON r.sensor_id = b.sensor_id AND r.seq BETWEEN b.lo AND b.hi",
        tuple(v for sensor_id, (lo, hi) in ranges.items() for v in (sensor_id, lo, hi))).all())
    new, params = [], []
    received_at = sqlite_instant(rows[0][7])  # one instant for the whole batch (ctx.now)
    for i, (sensor_id, seq, ts, temp_c, battery_pct, door_open, unit_id, _) in enumerate(rows):
        key = (sensor_id, seq)
        if key in stored:
            continue
        stored.add(key)  # the same reading twice in one batch is stored once
        new.append(i)
        # A UTC stamp (what the payload parser gives for "Z" and "+00:00") is sqlite_instant's text
        # with its "+00:00" cut off: one C call instead of replace() and isoformat(), per row.
        text = ts.isoformat(" ", "microseconds")[:-6] if ts.tzinfo is UTC else sqlite_instant(ts)
        params.append((sensor_id, seq, text, temp_c, battery_pct, door_open, unit_id, received_at))
    if params:
        conn.exec_driver_sql(_SQLITE_INSERT, params)
    return new


def _sensors(uow: UnitOfWork, ctx: Context, ids: set[str]) -> dict[str, Sensor]:
    found = {s.id: s for s in uow.session.scalars(select(Sensor).where(Sensor.id.in_(ids)))}
    for missing in ids - set(found):
        # A sensor nobody registered yet: keep its readings (unattributed) rather than lose them.
        sensor = Sensor(id=missing, storage_unit_id=None, interval_min=5, status="unknown", created_at=ctx.now)
        uow.session.add(sensor)
        found[missing] = sensor
    uow.session.flush()
    return found


@dataclass
class _SensorState:
    """The sensor columns a batch of readings moves forward, written once per sensor per batch."""

    id: str
    max_seq: int | None
    last_reading_at: datetime | None
    battery_pct: float | None
    history: list[tuple[int, datetime, datetime | None]] = field(default_factory=list)  # unit, from, until

    def unit_at(self, ts: datetime) -> int | None:
        for unit_id, assigned_at, unassigned_at in self.history:
            if assigned_at <= ts and (unassigned_at is None or ts < unassigned_at):
                return unit_id
        return None

    def saw(self, r: TemperatureReading) -> None:
        """The newest reading's battery level, and the newest reading time."""
        if r.battery_pct is not None and (self.last_reading_at is None or r.ts >= self.last_reading_at):
            self.battery_pct = r.battery_pct
        if self.last_reading_at is None or r.ts > self.last_reading_at:
            self.last_reading_at = r.ts


def _sensor_states(uow: UnitOfWork, ctx: Context, ids: set[str]) -> dict[str, _SensorState]:
    """Current state and assignment history of the sensors in `ids`, creating unknown ones.

    A sensor nobody registered yet is created unassigned: its readings are kept (unattributed)
    rather than lost."""
    current = uow.session.execute(select(Sensor.id, Sensor.max_seq, Sensor.last_reading_at, Sensor.battery_pct)
                                  .where(among(uow, Sensor.id, ids)))
    states = {sid: _SensorState(sid, max_seq, last, battery) for sid, max_seq, last, battery in current}
    missing = ids - set(states)
    if missing:
        _sensors(uow, ctx, missing)
        states.update({sid: _SensorState(sid, None, None, None) for sid in missing})
    for sid, unit_id, assigned_at, unassigned_at in uow.session.execute(
            select(SensorAssignment.sensor_id, SensorAssignment.storage_unit_id, SensorAssignment.assigned_at,
                   SensorAssignment.unassigned_at).where(among(uow, SensorAssignment.sensor_id, ids))
            .order_by(SensorAssignment.id)):
        states[sid].history.append((unit_id, assigned_at, unassigned_at))
    return states


def store(uow: UnitOfWork, ctx: Context, readings: Sequence[TemperatureReading],
          added: dict[int, list[tuple[datetime, float]]] | None = None) -> dict[int, datetime]:
    """Insert readings, ignoring (sensor_id, seq) already stored. Returns, per storage unit that got
    new readings, the earliest new timestamp: where evaluation must start again. When `added` is
    given, it receives per unit the (ts in UTC, temp_c) of the rows inserted, in the order stored
    (what cold_evaluation's remembered windows need)."""
    if not readings:
        return {}
    sensors = _sensor_states(uow, ctx, {r.sensor_id for r in readings})
    # Stored in (sensor_id, seq) order, not arrival order: a batch interleaves a few readings of each of
    # hundreds of sensors, and inserting them sensor by sensor touches each leaf page of the three
    # sensor- and unit-keyed indexes once per batch instead of once per reading (on SQLite, whose page
    # cache is small, this cut the consumer thread's CPU by about a fifth at 100,000 stored readings).
    # The sort is stable: of a reading repeated in the batch, the first given is still the one stored.
    rows = sorted(((r.sensor_id, r.seq, r.ts, r.temp_c, r.battery_pct, r.door_open,
                    sensors[r.sensor_id].unit_at(r.ts), ctx.now) for r in readings), key=_SENSOR_SEQ)
    affected: dict[int, datetime] = {}
    new_seqs: dict[str, list[int]] = defaultdict(list)
    for i in _insert_new(uow, rows):
        sensor_id, seq, ts, temp_c, _, _, unit_id, _ = rows[i]
        new_seqs[sensor_id].append(seq)
        if unit_id is None:
            continue
        if unit_id not in affected or ts < affected[unit_id]:
            affected[unit_id] = ts
        if added is not None:
            added.setdefault(unit_id, []).append((ts if ts.tzinfo is UTC else ts.astimezone(UTC), temp_c))
    for r in readings:
        sensors[r.sensor_id].saw(r)
    for sensor_id, seqs in new_seqs.items():
        state = sensors[sensor_id]
        state.max_seq = _record_gaps(uow, ctx, sensor_id, state.max_seq, sorted(seqs))
    _write_sensors(uow, ctx, sensors.values())
    return affected


def _write_sensors(uow: UnitOfWork, ctx: Context, states: Iterable[_SensorState]) -> None:
    """One UPDATE per sensor of the batch, not one per reading: on PostgreSQL a single statement over
    arrays, on SQLite one statement executed with a list of parameters. Sensor objects the session
    holds are expired, so nothing reads or writes their old values afterwards."""
    table = Sensor.__table__
    states = list(states)
    uow.session.flush()
    if uow.dialect == "postgresql":
        columns = {"id": [s.id for s in states], "last_reading_at": [s.last_reading_at for s in states],
                   "battery_pct": [s.battery_pct for s in states], "max_seq": [s.max_seq for s in states]}
        source = func.unnest(*(cast(bindparam(f"a_{c}", v, type_=ARRAY(table.c[c].type)), ARRAY(table.c[c].type))
                               for c, v in columns.items())).table_valued(*columns).render_derived()
        uow.session.execute(update(table).where(table.c.id == source.c.id).values(
            last_seen_at=ctx.now, last_reading_at=source.c.last_reading_at, battery_pct=source.c.battery_pct,
            max_seq=source.c.max_seq))
    else:
        uow.session.execute(
            update(table).where(table.c.id == bindparam("b_id")).values(
                last_seen_at=bindparam("b_seen"), last_reading_at=bindparam("b_last"),
                battery_pct=bindparam("b_battery"), max_seq=bindparam("b_max_seq")),
            [{"b_id": s.id, "b_seen": ctx.now, "b_last": s.last_reading_at, "b_battery": s.battery_pct,
              "b_max_seq": s.max_seq} for s in states])
    ids = {s.id for s in states}
    for obj in list(uow.session.identity_map.values()):
        if isinstance(obj, Sensor) and obj.id in ids:
            uow.session.expire(obj)


def _record_gaps(uow: UnitOfWork, ctx: Context, sensor_id: str, max_seq: int | None, seqs: list[int]) -> int:
    """Make skipped sequence numbers visible, and mark a gap filled when backfill closes it. `seqs`
    are the sensor's newly stored numbers, sorted; returns the sensor's new highest number."""
    if max_seq is not None and seqs[0] == max_seq + 1 and seqs[-1] - seqs[0] == len(seqs) - 1:
        return seqs[-1]  # the usual case: the numbers simply continue
    previous = max_seq
    for seq in seqs:
        if previous is not None and seq > previous + 1:
            uow.session.add(SeqGap(sensor_id=sensor_id, first_missing=previous + 1, last_missing=seq - 1,
                                   detected_at=ctx.now, filled=False))
        previous = seq if previous is None else max(previous, seq)
    if max_seq is not None and seqs[0] < max_seq:
        for gap in uow.session.scalars(select(SeqGap).where(SeqGap.sensor_id == sensor_id, SeqGap.filled.is_(False),
                                                            SeqGap.first_missing <= seqs[-1])):
            have = uow.session.scalar(select(func.count()).select_from(Reading).where(
                Reading.sensor_id == sensor_id, Reading.seq.between(gap.first_missing, gap.last_missing)))
            gap.filled = have == gap.last_missing - gap.first_missing + 1
    assert previous is not None  # seqs is not empty
    return previous


def set_status(uow: UnitOfWork, ctx: Context, sensor_id: str, status: str) -> None:
    sensor = _sensors(uow, ctx, {sensor_id})[sensor_id]
    sensor.status, sensor.status_at = status, ctx.now


def _storable(text: str) -> str:
    """`text` as every database takes it: NUL (PostgreSQL text cannot hold it) and lone surrogates
    (a reason may quote a JSON field name such as "\\ud800", which is not UTF-8) as escapes."""
    return text.encode("utf-8", errors="backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def reject(uow: UnitOfWork, ctx: Context, *, source: str, topic: str, payload: bytes, reason: str) -> RejectedInput:
    """Keep a payload that failed validation, truncated and escaped, with its reason."""
    text = payload[:PAYLOAD_KEEP].decode("utf-8", errors="backslashreplace").replace("\x00", "\\x00")
    row = RejectedInput(source=source, topic=topic[:300], payload=text, reason=_storable(reason[:2000]),
                        received_at=ctx.now)
    uow.session.add(row)
    uow.session.flush()
    return row
