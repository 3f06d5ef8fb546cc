"""Re-evaluating a storage unit after new readings: excursions, alarms, holds on exposed lots, alerts.

Late readings are placed at their timestamp: evaluation restarts from the earliest new reading,
reaching back far enough to see whole runs and the whole site day, so an excursion found in
backfilled data raises its alarm when the data arrives, stamped with the time it really started.
Everything is upserted, so evaluating the same data twice changes nothing.
"""

from __future__ import annotations

import bisect
import functools
import itertools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, bindparam, cast, func, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from ..db.base import sqlite_instant
from ..db.models import (
    Alarm,
    Excursion,
    HoldDecision,
    Item,
    Location,
    Lot,
    LotHold,
    Reading,
    Sensor,
    SensorAssignment,
    StorageUnit,
)
from ..db.sets import among
from ..db.uow import UnitOfWork
from ..domain.coldchain import alarms as alarm_rules
from ..domain.coldchain import excursions as runs
from ..domain.coldchain import messages
from ..domain.coldchain.alarms import AlarmEvent, day_bounds
from ..domain.coldchain.ranges import AlarmRule, Direction, Range, RuleMode, nothing_breached
from ..domain.coldchain.recent import RecentReadings, Remembered
from ..domain.coldchain.timeline import Segment, segments
from . import alerts, holds
from .context import Context

GRACE_FACTOR = 1.0
RECENTLY_HEARD = timedelta(minutes=2)  # a reading stands for its interval plus one more interval of grace


BUCKET = timedelta(hours=1)  # units whose windows start this close together are read in one query


def cap_of(uow: UnitOfWork, unit_id: int) -> timedelta:
    """How long one reading of the unit stands for at most: its slowest sensor's interval plus grace."""
    return _caps(uow, [unit_id])[unit_id]


def _caps(uow: UnitOfWork, unit_ids: Collection[int]) -> dict[int, timedelta]:
    """`cap_of` for several units in one query (5-minute interval for a unit with no sensor)."""
    slowest = dict(uow.session.execute(
        select(Sensor.storage_unit_id, func.max(Sensor.interval_min))
        .where(among(uow, Sensor.storage_unit_id, unit_ids)).group_by(Sensor.storage_unit_id)).all())
    return {u: timedelta(minutes=(slowest.get(u) or 5) * (1 + GRACE_FACTOR)) for u in unit_ids}


@dataclass(frozen=True)
class _Unit:
    """What evaluating a unit needs to know about it; the ORM row is loaded only to write."""

    id: int
    range: Range
    rules: list[AlarmRule]
    no_data_min: float


def _units(uow: UnitOfWork, unit_ids: Collection[int]) -> dict[int, _Unit]:
    rows = uow.session.execute(select(StorageUnit.id, StorageUnit.min_c, StorageUnit.max_c, StorageUnit.alarm_rules,
                                      StorageUnit.no_data_min).where(among(uow, StorageUnit.id, unit_ids)))
    return {u: _Unit(u, Range(lo, hi), _parsed_rules(rules), no_data) for u, lo, hi, rules, no_data in rows}


def _parsed_rules(stored: list[dict[str, Any]]) -> list[AlarmRule]:
    try:
        return list(_rules(tuple(tuple(sorted(r.items())) for r in stored)))
    except TypeError:  # a value that cannot be a cache key (not written by the API): parse it as it is
        return [AlarmRule.from_dict(r) for r in stored]


@functools.lru_cache(maxsize=256)
def _rules(stored: tuple[tuple[tuple[str, Any], ...], ...]) -> tuple[AlarmRule, ...]:
    """Rules parsed once per distinct stored value: every batch reads every unit's rules again, and
    most units share a preset (AlarmRule is frozen, so sharing the parsed objects is safe)."""
    return tuple(AlarmRule.from_dict(dict(r)) for r in stored)


def _nominal_start(ctx: Context, unit: _Unit, since: datetime, cap: timedelta) -> datetime:
    """Where evaluation from `since` must start to see whole runs: the longest rule delay (or the
    no-data limit) before `since`, and for cumulative rules the whole site day (they count per day)."""
    longest = max([r.delay_min for r in unit.rules] + [unit.no_data_min], default=60)
    start = since - timedelta(minutes=longest) - cap
    if any(r.mode is RuleMode.CUMULATIVE for r in unit.rules):
        day_start, _ = day_bounds(since.astimezone(ctx.tz).date(), ctx.tz)
        start = min(start, day_start - cap)
    return start


def _buckets(starts: Mapping[int, datetime]) -> list[tuple[datetime, datetime, list[int]]]:
    """Units grouped by start so that every start of a group lies within BUCKET of the group's
    earliest: one query per group, reading at most BUCKET more than a unit needs. Yields
    (earliest, latest, unit ids); a steady stream makes one group, a backfill a few more."""
    out: list[tuple[datetime, datetime, list[int]]] = []
    for unit_id, start in sorted(starts.items(), key=lambda kv: kv[1]):
        if out and start - out[-1][0] <= BUCKET:
            out[-1] = (out[-1][0], start, [*out[-1][2], unit_id])
        else:
            out.append((start, start, [unit_id]))
    return out


def _window_starts(uow: UnitOfWork, nominal: dict[int, datetime]) -> dict[int, datetime]:
    """Never cut a stored excursion in two: each unit's window begins where the excursion spanning
    its nominal start began."""
    spanning: dict[int, datetime] = {}
    for low, high, ids in _buckets(nominal):
        for unit_id, start, end in uow.session.execute(
                select(Excursion.storage_unit_id, Excursion.start, Excursion.end)
                .where(among(uow, Excursion.storage_unit_id, ids), Excursion.start < high, Excursion.end >= low)):
            s = nominal[unit_id]
            if start < s <= end and (unit_id not in spanning or start < spanning[unit_id]):
                spanning[unit_id] = start
    return {u: min(s, spanning[u]) if u in spanning else s for u, s in nominal.items()}


@dataclass
class _Window:
    """One unit's readings from `start` to now, and its newest reading before `start` when known."""

    start: datetime
    rows: list[tuple[datetime, float]] = field(default_factory=list)
    before: datetime | None = None
    before_known: bool = False


def _windows(uow: UnitOfWork, ctx: Context, starts: dict[int, datetime], caps: dict[int, timedelta],
             recent: RecentReadings | None = None,
             added: Mapping[int, Sequence[tuple[datetime, float]]] | None = None) -> dict[int, _Window]:
    """Every unit's window readings, ordered by time.

    Each unit is wanted from one cap before its window (its `reach`), which finds the reading just
    before the window (`before`) whenever the sensors kept their interval; otherwise `before` is
    looked up alone (that only happens around a silence, or for a unit's first readings). With
    `recent`, a unit's remembered window that reaches back far enough is used once one count
    confirms it (see domain.coldchain.recent), plus `added` (this transaction's new rows per unit);
    the others are read in one query per bucket of units, and every unit's window from its reach is
    staged in `recent` for the next batch."""
    reach = {u: s - caps[u] for u, s in starts.items()}
    known = _confirmed(uow, recent, reach, added or {}) if recent is not None else {}
    for low, _, ids in _buckets({u: r for u, r in reach.items() if u not in known}):
        found: dict[int, list[tuple[datetime, float]]] = {u: [] for u in ids}
        # Through the connection (Core): plain rows, without the ORM's per-row loading machinery.
        # No upper bound on ts: a remembered window must hold every row from its start, and the few
        # readings stamped ahead of now are left out of the window below instead.
        for unit_id, ts, temp_c in uow.session.connection().execute(
                select(Reading.storage_unit_id, Reading.ts, Reading.temp_c)
                .where(among(uow, Reading.storage_unit_id, ids), Reading.ts >= low)
                .order_by(Reading.storage_unit_id, Reading.ts, Reading.id)).all():  # fetchall: one call
            found[unit_id].append((ts, temp_c))
        known.update({u: Remembered(low, tuple(rows)) for u, rows in found.items()})
    out = {}
    for unit_id, start in starts.items():
        rows = known[unit_id].rows
        first = bisect.bisect_left(rows, start, key=_ts)
        w = out[unit_id] = _Window(start, list(rows[first:bisect.bisect_right(rows, ctx.now, key=_ts)]))
        if first > 0:  # ordered by time: the one just before the window is the newest before it
            w.before, w.before_known = rows[first - 1][0], True
        if recent is not None:
            recent.stage(unit_id, known[unit_id].trimmed(reach[unit_id]))
    for unit_id, w in out.items():
        if w.rows and not w.before_known:
            w.before = uow.session.scalar(select(func.max(Reading.ts)).where(
                Reading.storage_unit_id == unit_id, Reading.ts < w.start))
            w.before_known = True
    return out


def _ts(row: tuple[datetime, float]) -> datetime:
    return row[0]


def _confirmed(uow: UnitOfWork, recent: RecentReadings, reach: Mapping[int, datetime],
               added: Mapping[int, Sequence[tuple[datetime, float]]]) -> dict[int, Remembered]:
    """The remembered windows (with this transaction's rows added) that reach back to `reach` and
    hold as many rows as the database has for the unit from the window's start: the same rows,
    since readings are only ever added (domain.coldchain.recent)."""
    tries = {}
    for unit_id, r in reach.items():
        w = recent.get(unit_id)
        if w is not None and w.covers(r):
            tries[unit_id] = w.plus(added.get(unit_id, ()))
    if not tries:
        return {}
    counts = _stored_counts(uow, {u: w.since for u, w in tries.items()})
    return {u: w for u, w in tries.items() if counts.get(u) == len(w.rows)}


def _stored_counts(uow: UnitOfWork, since: Mapping[int, datetime]) -> dict[int, int]:
    """Per unit, how many readings are stored with ts >= its `since`, in one statement (an index
    range count on (storage_unit_id, ts) per unit: no row is fetched)."""
    if uow.dialect == "postgresql":
        units = cast(bindparam("c_units", list(since), type_=ARRAY(Integer)), ARRAY(Integer))
        los = cast(bindparam("c_since", list(since.values()), type_=ARRAY(Reading.ts.type)), ARRAY(Reading.ts.type))
        w = func.unnest(units, los).table_valued("unit_id", "lo").render_derived()
        stmt = select(w.c.unit_id, select(func.count()).select_from(Reading).where(
            Reading.storage_unit_id == w.c.unit_id, Reading.ts >= w.c.lo).scalar_subquery())
        return dict(uow.session.connection().execute(stmt).all())
    values = ", ".join("(?, ?)" for _ in since)
    return dict(uow.session.connection().exec_driver_sql(
        f"WITH w(unit_id, lo) AS (VALUES {values}) "  # noqa: S608 - placeholders only
        "SELECT w.unit_id, (SELECT count(*) FROM readings AS r WHERE r.storage_unit_id = w.unit_id AND r.ts >= w.lo) "
        "FROM w", tuple(v for u, lo in since.items() for v in (u, sqlite_instant(lo)))).all())


def evaluate(uow: UnitOfWork, ctx: Context, unit_id: int, since: datetime) -> list[Alarm]:
    """Evaluate `unit_id` from `since` to now; return the alarms that fired in this evaluation."""
    return evaluate_many(uow, ctx, {unit_id: since})


def evaluate_many(uow: UnitOfWork, ctx: Context, affected: Mapping[int, datetime], *,
                  recent: RecentReadings | None = None,
                  added: Mapping[int, Sequence[tuple[datetime, float]]] | None = None) -> list[Alarm]:
    """Evaluate each unit in `affected` from its `since` to now, as `evaluate` would one by one, and
    return the alarms that fired, unit after unit in `affected`'s order.

    A long-running caller (the MQTT ingest) passes `recent`, which remembers the units' windows
    between batches, and `added`, the rows `readings.store` inserted in this transaction; it must
    call `recent.commit()` after the transaction commits and `recent.discard()` when it does not.

    What every unit needs is read in a handful of set-based queries (units, caps, spanning
    excursions, window readings, open no-data alarms); the rules then run in memory, and the
    database is written only for units where an excursion, an alarm or a silence was found or an
    open no-data alarm may end. A steady in-range stream therefore costs no writes. Each unit's
    writes touch only its own rows, so reading everything first gives the same result as evaluating
    the units in turn."""
    if not affected:
        return []
    units = _units(uow, affected)
    if not units:
        return []
    caps = _caps(uow, units)
    starts = _window_starts(uow, {u: _nominal_start(ctx, units[u], since, caps[u])
                                  for u, since in affected.items() if u in units})
    windows = _windows(uow, ctx, starts, caps, recent, added)
    open_no_data = set(uow.session.scalars(select(Alarm.storage_unit_id).where(
        among(uow, Alarm.storage_unit_id, units), Alarm.kind == "no_data", Alarm.ended_at.is_(None))).all())
    fired: list[Alarm] = []
    for unit_id in affected:
        if unit_id in units and windows[unit_id].rows:
            fired += _evaluate_window(uow, ctx, units[unit_id], caps[unit_id], windows[unit_id],
                                      unit_id in open_no_data)
    return fired


def _evaluate_window(uow: UnitOfWork, ctx: Context, unit: _Unit, cap: timedelta, window: _Window,
                     open_no_data: bool) -> list[Alarm]:
    """The rules over one unit's window (pure), then the upserts for what they found. A window whose
    every reading is in range and breaches no rule has no excursion and no alarm to find (the rules
    look only at such readings), so its timeline is not built."""
    temps = [t for _, t in window.rows]
    fired: list[Alarm] = []
    segs: list[Segment] = []
    found: list[runs.Excursion] = []
    events: list[AlarmEvent] = []
    if not nothing_breached(unit.range, unit.rules, min(temps), max(temps)):
        segs = segments(window.rows, cap, ctx.now)  # (ts, temp_c) pairs, as read
        found = runs.find(segs, unit.range, data_end=ctx.now)
        events = alarm_rules.evaluate(unit.rules, unit.range, segs, ctx.tz, ctx.now)
    if found or events:
        row = _unit_row(uow, unit.id)
        stored = {(e.kind, e.start): e for e in _upsert_excursions(uow, ctx, row, found, segs)}
        fired = [a for a in (_upsert_alarm(uow, ctx, row, ev, stored) for ev in events) if a is not None]
    # No-data work only when these readings show a long enough silence or an open no-data alarm may
    # now be closed: on a steady stream it is skipped, which keeps ingest fast.
    limit = timedelta(minutes=unit.no_data_min)
    times = ([window.before] if window.before is not None else []) + [ts for ts, _ in window.rows]
    gap = any(b - a >= limit for a, b in itertools.pairwise(times))
    if gap or open_no_data:
        start = min(window.start, window.before) if window.before else window.start
        fired += _no_data(uow, ctx, _unit_row(uow, unit.id), start, until=window.rows[-1][0])
    return fired


def _unit_row(uow: UnitOfWork, unit_id: int) -> StorageUnit:
    row = uow.session.get(StorageUnit, unit_id)
    assert row is not None  # read in this transaction a moment ago
    return row


def _upsert_excursions(uow: UnitOfWork, ctx: Context, unit: StorageUnit, found: list[runs.Excursion],
                       segs: list[Any]) -> list[Excursion]:
    out = []
    changed = []
    for ex in found:
        temps = [s.temp_c for s in segs if s.temp_c is not None and ex.start <= s.start < ex.end]
        overlapping = list(uow.session.scalars(select(Excursion).where(
            Excursion.storage_unit_id == unit.id, Excursion.kind == ex.kind.value,
            Excursion.start <= ex.end, Excursion.end >= ex.start).order_by(Excursion.start)))
        row = overlapping[0] if overlapping else None
        if row is None:
            row = Excursion(storage_unit_id=unit.id, kind=ex.kind.value)
            uow.session.add(row)
        for stale in overlapping[1:]:  # late readings joined runs stored apart: one run, one excursion
            _fold_excursion(uow, ctx, stale, into=row)
        before = (row.start, row.end, row.ongoing, row.peak_c)
        row.start, row.end, row.ongoing = ex.start, ex.end, ex.ongoing
        row.peak_c, row.min_c, row.max_c = ex.peak_c, min(temps), max(temps)
        row.duration_min, row.updated_at = round(ex.duration_min, 1), ctx.now
        out.append(row)
        if row.id is not None and before != (row.start, row.end, row.ongoing, row.peak_c):
            changed.append(row)
    uow.session.flush()
    for row in out:
        # Stock still in the unit is exposed as long as the excursion lasts; stock moved out since keeps
        # the exposure it had when it left (services.holds).
        for hold in uow.session.scalars(select(LotHold).where(LotHold.excursion_id == row.id,
                                                              LotHold.location_id == unit.location_id)):
            hold.exposure_min = row.duration_min
    for row in changed:
        _refresh_alarm_alerts(uow, ctx, unit, row)
    return out


def _fold_excursion(uow: UnitOfWork, ctx: Context, stale: Excursion, *, into: Excursion) -> None:
    """`stale` was stored as a run of its own before late readings showed it to be part of `into`'s
    run: its alarms and holds move to `into` (a lot held at one place by both keeps one hold, with
    every decision taken on either), its notes are kept, and the row goes, so the run counts once.
    An alarm of the stale run is rebased onto the joined run by `_upsert_alarm`."""
    for alarm in uow.session.scalars(select(Alarm).where(Alarm.excursion_id == stale.id)):
        alarm.excursion_id = into.id
    kept = {(h.lot_id, h.location_id): h
            for h in uow.session.scalars(select(LotHold).where(LotHold.excursion_id == into.id))}
    places = set()
    for hold in list(uow.session.scalars(select(LotHold).where(LotHold.excursion_id == stale.id))):
        other = kept.get((hold.lot_id, hold.location_id))
        places.add((hold.lot_id, hold.location_id))
        if other is None:
            hold.excursion_id = into.id
            continue
        uow.session.execute(update(HoldDecision).where(HoldDecision.hold_id == hold.id).values(hold_id=other.id))
        other.quantity = max(other.quantity, hold.quantity)
        if other.disposition is None and hold.disposition is not None:
            other.disposition, other.decided_by, other.decided_at = hold.disposition, hold.decided_by, hold.decided_at
            other.notes = hold.notes
        uow.session.delete(hold)
    if stale.notes:
        into.notes = f"{into.notes}\n{stale.notes}" if into.notes else stale.notes
    uow.session.flush()  # the moves first: then the row can go, and `into` may take its start
    uow.session.delete(stale)
    uow.session.flush()
    for lot_id, location_id in sorted(places):
        holds.sync_held(uow, ctx, lot_id, location_id)


def _refresh_alarm_alerts(uow: UnitOfWork, ctx: Context, unit: StorageUnit, excursion: Excursion) -> None:
    """An excursion grew, peaked higher or ended: the open alerts of its alarms say so (a reminder or
    an escalation then carries the excursion as it is, not as it was when the alarm fired)."""
    for alarm in uow.session.scalars(select(Alarm).where(Alarm.excursion_id == excursion.id,
                                                         Alarm.alert_id.is_not(None))):
        rule = _rule_of(unit, alarm)
        if rule is not None:
            alerts.refresh_alert(uow, f"alarm:{alarm.id}", message=messages.message(
                _facts(uow, unit, rule, alarm, excursion), ctx.tz))


def _rule_of(unit: StorageUnit, alarm: Alarm) -> AlarmRule | None:
    rules = _parsed_rules(unit.alarm_rules)
    return rules[alarm.rule_index] if 0 <= alarm.rule_index < len(rules) else None


def _facts(uow: UnitOfWork, unit: StorageUnit, rule: AlarmRule, alarm: Alarm,
           excursion: Excursion | None) -> messages.AlarmFacts:
    held = tuple(messages.HeldStock(item, lot, qty, where) for item, lot, qty, where in uow.session.execute(
        select(Item.name, Lot.lot_number, LotHold.quantity, Location.name)
        .join(Lot, Lot.id == LotHold.lot_id).join(Item, Item.id == Lot.item_id)
        .join(Location, Location.id == LotHold.location_id)
        .where(LotHold.excursion_id == excursion.id).order_by(LotHold.id))) if excursion is not None else ()
    return messages.AlarmFacts(
        unit_name=unit.name, unit_range=Range(unit.min_c, unit.max_c), rule=rule,
        start=excursion.start if excursion is not None else alarm.condition_start, triggered_at=alarm.triggered_at,
        end=None if excursion is None or excursion.ongoing else excursion.end,
        peak_c=excursion.peak_c if excursion is not None else None,
        duration_min=excursion.duration_min if excursion is not None else None, held=held,
        link=f"/excursions/{excursion.id}" if excursion is not None else f"/storage-units/{unit.id}")


def _upsert_alarm(uow: UnitOfWork, ctx: Context, unit: StorageUnit, ev: AlarmEvent,
                  excursions: dict[tuple[str, datetime], Excursion]) -> Alarm | None:
    """Store the alarm; return it only when it is new (it fires once)."""
    alarm = uow.session.scalar(select(Alarm).where(
        Alarm.storage_unit_id == unit.id, Alarm.rule_index == ev.rule_index,
        Alarm.condition_start == ev.condition_start))
    if alarm is None and ev.mode == RuleMode.CONSECUTIVE.value:
        alarm = _rebase_joined(uow, ctx, unit, ev)
    if alarm is not None:
        if alarm.ended_at != ev.ended_at:
            alarm.ended_at = ev.ended_at
            if ev.ended_at is not None and alarm.alert_id is not None:
                alerts.resolve_alert(uow, ctx, f"alarm:{alarm.id}")
        return None
    excursion = next((e for (kind, _), e in excursions.items()
                      if kind == ev.kind and e.start <= ev.triggered_at <= e.end), None)
    alarm = Alarm(storage_unit_id=unit.id, rule_index=ev.rule_index, kind=ev.kind, mode=ev.mode,
                  condition_start=ev.condition_start, triggered_at=ev.triggered_at, ended_at=ev.ended_at,
                  excursion_id=excursion.id if excursion else None)
    uow.session.add(alarm)
    uow.session.flush()
    held = holds.hold_exposed(uow, ctx, unit, excursion) if excursion is not None else []
    rule = _rule_of(unit, alarm) or AlarmRule(Direction(ev.kind), RuleMode(ev.mode), 0)
    facts = _facts(uow, unit, rule, alarm, excursion)
    alert = alerts.raise_alert(
        uow, ctx, kind="excursion", severity="critical", key=f"alarm:{alarm.id}",
        subject=messages.subject(facts), message=messages.message(facts, ctx.tz),
        details={"storage_unit_id": unit.id, "location_id": unit.location_id,
                 "alarm_id": alarm.id, "excursion_id": alarm.excursion_id,
                 "held_lot_ids": held, "triggered_at": ev.triggered_at.isoformat(), "link": facts.link},
    )
    alarm.alert_id = alert.id
    if ev.ended_at is not None:
        alerts.resolve_alert(uow, ctx, f"alarm:{alarm.id}")
    return alarm


def _rebase_joined(uow: UnitOfWork, ctx: Context, unit: StorageUnit, ev: AlarmEvent) -> Alarm | None:
    """Late readings joined a run that had fired this rule alone to an earlier one: the alarm it raised
    is the joined run's alarm (rebased: its condition started earlier, so it fired earlier), not a
    second one for the same event. Any further alarm of the rule inside the joined run is ended, its
    alert resolved, so no alarm stays open for a run that no longer exists on its own."""
    inside = list(uow.session.scalars(select(Alarm).where(
        Alarm.storage_unit_id == unit.id, Alarm.rule_index == ev.rule_index,
        Alarm.condition_start > ev.condition_start,
        Alarm.condition_start <= (ev.ended_at or ctx.now)).order_by(Alarm.condition_start)))
    if not inside:
        return None
    alarm, *superseded = inside
    alarm.condition_start, alarm.triggered_at = ev.condition_start, min(alarm.triggered_at, ev.triggered_at)
    for other in superseded:
        other.ended_at = max(other.triggered_at, ev.ended_at or ctx.now)
        alerts.resolve_alert(uow, ctx, f"alarm:{other.id}")
    uow.session.flush()
    return alarm


def _no_data(uow: UnitOfWork, ctx: Context, unit: StorageUnit, start: datetime,
             until: datetime | None = None) -> list[Alarm]:
    """No-data alarms of the unit's sensors between `start` and `until` (default now). Evaluating new
    readings passes `until` = the newest reading, so silence after it is left to the sweep; an open
    alarm whose silence late data has since filled is ended at the first reading after it began."""
    fired = []
    end = until or ctx.now
    assigned = uow.session.execute(select(SensorAssignment.sensor_id, SensorAssignment.assigned_at).where(
        SensorAssignment.storage_unit_id == unit.id,
        or_(SensorAssignment.unassigned_at.is_(None), SensorAssignment.unassigned_at > start))).all()
    for sensor_id, assigned_at in assigned:
        since = max(start, assigned_at)
        times = uow.session.scalars(select(Reading.ts).where(
            Reading.sensor_id == sensor_id, Reading.ts >= since, Reading.ts <= end)).all()
        for ev in alarm_rules.no_data(times, unit.no_data_min, since, end):
            alarm = _upsert_no_data(uow, ctx, unit, sensor_id, ev)
            if alarm is not None:
                fired.append(alarm)
        for alarm in uow.session.scalars(select(Alarm).where(
                Alarm.storage_unit_id == unit.id, Alarm.sensor_id == sensor_id, Alarm.kind == "no_data",
                Alarm.ended_at.is_(None))):
            resumed = uow.session.scalar(select(func.min(Reading.ts)).where(
                Reading.sensor_id == sensor_id, Reading.ts > alarm.condition_start))
            if resumed is not None:
                alarm.ended_at = max(resumed, alarm.triggered_at)
                alerts.resolve_alert(uow, ctx, f"alarm:{alarm.id}")
    return fired


def _upsert_no_data(uow: UnitOfWork, ctx: Context, unit: StorageUnit, sensor_id: str, ev: AlarmEvent) -> Alarm | None:
    alarm = uow.session.scalar(select(Alarm).where(and_(
        Alarm.storage_unit_id == unit.id, Alarm.rule_index == -1, Alarm.condition_start == ev.condition_start)))
    if alarm is not None:
        if alarm.ended_at != ev.ended_at:
            alarm.ended_at = ev.ended_at
            if ev.ended_at is not None:
                alerts.resolve_alert(uow, ctx, f"alarm:{alarm.id}")
        return None
    alarm = Alarm(storage_unit_id=unit.id, rule_index=-1, kind="no_data", mode="no_data", sensor_id=sensor_id,
                  condition_start=ev.condition_start, triggered_at=ev.triggered_at, ended_at=ev.ended_at)
    uow.session.add(alarm)
    uow.session.flush()
    alert = alerts.raise_alert(
        uow, ctx, kind="no_data", severity="warning", key=f"alarm:{alarm.id}",
        subject=f"{unit.name}: no data from sensor {sensor_id}",
        message=(f"Sensor {sensor_id} in {unit.name} has sent nothing since "
                 f"{ev.condition_start.astimezone(ctx.tz):%Y-%m-%d %H:%M}: check the logger, its battery and network."),
        details={"storage_unit_id": unit.id, "location_id": unit.location_id,
                 "alarm_id": alarm.id, "sensor_id": sensor_id})
    alarm.alert_id = alert.id
    if ev.ended_at is not None:
        alerts.resolve_alert(uow, ctx, f"alarm:{alarm.id}")
    return alarm


def sweep_no_data(uow: UnitOfWork, ctx: Context) -> list[Alarm]:
    """Raise no-data alarms for silent sensors. Needed because silence sends no message to react to:
    the MQTT Last Will only fires when a connection dies, and a stuck probe keeps its connection alive
    (cold-chain reference, "No-data")."""
    fired: list[Alarm] = []
    # Candidates only: assigned sensors whose newest reading is older than their unit's limit, and that
    # have not been heard from lately either (one that is sending is only catching up on late data).
    candidates = set()
    for unit_id, limit, last_reading, last_seen in uow.session.execute(
            select(Sensor.storage_unit_id, StorageUnit.no_data_min, Sensor.last_reading_at, Sensor.last_seen_at)
            .join(StorageUnit, StorageUnit.id == Sensor.storage_unit_id)):
        silent = last_reading is None or ctx.now - last_reading >= timedelta(minutes=limit)
        if silent and (last_seen is None or ctx.now - last_seen >= RECENTLY_HEARD):
            candidates.add(unit_id)
    for unit in uow.session.scalars(select(StorageUnit).where(StorageUnit.id.in_(candidates))):
        lookback = timedelta(minutes=max(unit.no_data_min * 3, 24 * 60))
        fired += _no_data(uow, ctx, unit, ctx.now - lookback)
    return fired
