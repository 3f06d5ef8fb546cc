"""Read side of the cold chain: daily log, excursions with affected lots, MKT, readings, alarms."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select

from ..db.models import Alarm, Balance, Excursion, Item, Location, Lot, LotHold, Reading
from ..db.uow import UnitOfWork
from ..domain.coldchain import excursions as runs
from ..domain.coldchain.alarms import day_bounds
from ..domain.coldchain.daily import summarise
from ..domain.coldchain.mkt import DEFAULT_DELTA_H_KJ_MOL, mkt_c
from ..domain.coldchain.ranges import Direction, Range
from ..domain.coldchain.timeline import Reading as Point
from ..domain.coldchain.timeline import clip, segments
from ..domain.errors import InvalidRequest
from ..domain.instants import as_text
from ..domain.lots import effective_status
from . import alerts, holds
from .cold_evaluation import cap_of
from .context import Context
from .pagination import Page, page_by_id
from .storage_units import get_unit

MAX_DAYS = 400


def _days(start: date, end: date) -> list[date]:
    if end < start:
        raise InvalidRequest("`to` is before `from`", code="bad_range")
    if (end - start).days > MAX_DAYS:
        raise InvalidRequest(f"at most {MAX_DAYS} days at once", code="bad_range")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _segments(uow: UnitOfWork, ctx: Context, unit_id: int, start: datetime, end: datetime) -> list[Any]:
    cap = cap_of(uow, unit_id)
    rows = uow.session.execute(select(Reading.ts, Reading.temp_c).where(
        Reading.storage_unit_id == unit_id, Reading.ts >= start - cap, Reading.ts < end).order_by(Reading.ts)).all()
    return clip(segments([Point(ts, t) for ts, t in rows], cap, min(end, ctx.now)), start, end)


def alarm_to_dict(a: Alarm, history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The alarm; `acknowledged_*` is its first acknowledgement, `acknowledgements` all of them."""
    return {"id": a.id, "storage_unit_id": a.storage_unit_id, "kind": a.kind, "mode": a.mode,
            "condition_start": a.condition_start, "triggered_at": a.triggered_at, "ended_at": a.ended_at,
            "excursion_id": a.excursion_id, "alert_id": a.alert_id, "acknowledged_at": a.acknowledged_at,
            "acknowledged_by": a.acknowledged_by, "ack_reason": a.ack_reason, "acknowledgements": history or []}


def alarms_to_dicts(uow: UnitOfWork, alarms: list[Alarm]) -> list[dict[str, Any]]:
    """Alarms with their acknowledgement histories (one query for all)."""
    history = alerts.acknowledgements(uow, alarm_ids=[a.id for a in alarms if a.acknowledged_at is not None])
    return [alarm_to_dict(a, history.get(a.id)) for a in alarms]


def daily_summary(uow: UnitOfWork, ctx: Context, unit_id: int, start: date, end: date) -> list[dict[str, Any]]:
    """One row per site-local day: the CDC min/max log, with every alarm active that day."""
    unit = get_unit(uow, unit_id)
    days = _days(start, end)
    window_start, _ = day_bounds(days[0], ctx.tz)
    _, window_end = day_bounds(days[-1], ctx.tz)
    segs = _segments(uow, ctx, unit_id, window_start, window_end)
    alarms = list(uow.session.scalars(select(Alarm).where(
        Alarm.storage_unit_id == unit_id, Alarm.triggered_at < window_end,
        (Alarm.ended_at.is_(None)) | (Alarm.ended_at >= window_start)).order_by(Alarm.triggered_at)))
    out = []
    rng = Range(unit.min_c, unit.max_c)
    for day in days:
        d0, d1 = day_bounds(day, ctx.tz)
        s = summarise(day, segs, rng, ctx.tz, ctx.now)
        active = [a for a in alarms if a.triggered_at < d1 and (a.ended_at is None or a.ended_at > d0)]
        out.append({"date": day, "min_c": s.min_c, "max_c": s.max_c, "mean_c": s.mean_c,
                    "minutes_high": s.minutes_high, "minutes_low": s.minutes_low,
                    "minutes_no_data": s.minutes_no_data,
                    "alarms": [{"id": a.id, "kind": a.kind, "mode": a.mode, "triggered_at": a.triggered_at,
                                "ended_at": a.ended_at} for a in active]})
    return out


def excursions(uow: UnitOfWork, ctx: Context, unit_id: int, start: date, end: date) -> list[dict[str, Any]]:
    """Excursions overlapping the site-local days [start, end], with alarms and affected lots. An
    ongoing one is measured as of now from the same timeline as the daily summary: its stored row
    holds what the last evaluation saw, and its newest reading has stood longer since."""
    unit = get_unit(uow, unit_id)
    days = _days(start, end)
    w0, _ = day_bounds(days[0], ctx.tz)
    _, w1 = day_bounds(days[-1], ctx.tz)
    rows_ex = list(uow.session.scalars(select(Excursion).where(
        Excursion.storage_unit_id == unit_id, Excursion.start < w1, Excursion.end >= w0).order_by(Excursion.start)))
    ids = [e.id for e in rows_ex]
    alarm_ids: dict[int, list[int]] = {i: [] for i in ids}
    for a_id, ex_id in uow.session.execute(select(Alarm.id, Alarm.excursion_id).where(Alarm.excursion_id.in_(ids))):
        alarm_ids[ex_id].append(a_id)
    now: dict[int, runs.Excursion] = {}
    for e in rows_ex:
        if e.ongoing and e.start < ctx.now:
            found = runs.as_of(Direction(e.kind), e.start, _segments(uow, ctx, unit_id, e.start, ctx.now),
                               Range(unit.min_c, unit.max_c), ctx.now)
            if found is not None:
                now[e.id] = found
    lots: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    rows = uow.session.execute(
        select(LotHold, Lot, Item.name, Location.code, Balance.held, Balance.quantity)
        .join(Lot, Lot.id == LotHold.lot_id).join(Item, Item.id == Lot.item_id)
        .join(Location, Location.id == LotHold.location_id)
        .outerjoin(Balance, and_(Balance.lot_id == LotHold.lot_id, Balance.location_id == LotHold.location_id))
        .where(LotHold.excursion_id.in_(ids)).order_by(LotHold.id)).all()
    decisions = holds.decisions_of(uow, [r[0].id for r in rows])
    for hold, lot, item_name, code, held, on_hand in rows:
        place = hold_to_dict(hold, lot, ctx, item_name=item_name, location_code=code, held=bool(held),
                             on_hand=on_hand or 0, decisions=decisions[hold.id])
        if hold.excursion_id in now and hold.location_id == unit.location_id:  # still in the unit: exposed now
            place["exposure_min"] = now[hold.excursion_id].duration_min
        lots[hold.excursion_id].append(place)
    out = []
    for e in rows_ex:
        ongoing, stop, duration = e.ongoing, e.end, e.duration_min
        if e.id in now:
            ongoing, stop, duration = now[e.id].ongoing, now[e.id].end, now[e.id].duration_min
        out.append({"id": e.id, "kind": e.kind, "start": e.start, "end": None if ongoing else stop,
                    "ongoing": ongoing, "peak_c": e.peak_c, "min_c": e.min_c, "max_c": e.max_c,
                    "duration_min": duration, "notes": e.notes, "alarm_ids": alarm_ids[e.id],
                    "affected_lots": lots[e.id]})
    return out


EXCURSION_CSV_COLUMNS = [
    "id", "kind", "start", "end", "ongoing", "peak_c", "min_c", "max_c", "duration_min", "alarm_ids",
    "item_name", "lot_number", "expiry", "location_code", "quantity", "on_hand", "exposure_min", "disposition",
    "decision", "decided_at", "decided_by", "exposure_at_decision_min", "ongoing_at_decision",
    "manufacturer_reference", "notes"]


def duration_now(uow: UnitOfWork, ctx: Context, excursion: Excursion) -> float:
    """The excursion's duration as of now: the stored one, or for an ongoing excursion the time its
    readings stand for up to now (as `excursions` and the daily summary show it)."""
    if not excursion.ongoing or excursion.start >= ctx.now:
        return excursion.duration_min
    unit = get_unit(uow, excursion.storage_unit_id)
    found = runs.as_of(Direction(excursion.kind), excursion.start,
                       _segments(uow, ctx, unit.id, excursion.start, ctx.now), Range(unit.min_c, unit.max_c), ctx.now)
    return found.duration_min if found is not None else excursion.duration_min


def excursion_csv_rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The excursions flattened for the inspector's CSV: one row per decision on each held place (with
    the exposure that decision was taken on), one row for a place still undecided, one row for an
    excursion that held nothing."""
    out = []
    for e in items:
        base = {k: e[k] for k in ("id", "kind", "ongoing", "peak_c", "min_c", "max_c", "duration_min")}
        base.update(start=_instant(e["start"]), end=_instant(e["end"]), alarm_ids=";".join(map(str, e["alarm_ids"])))
        if not e["affected_lots"]:
            out.append(base)
        for lot in e["affected_lots"]:
            place = {**base, **{k: lot[k] for k in ("item_name", "lot_number", "expiry", "location_code", "quantity",
                                                    "on_hand", "exposure_min", "disposition")}}
            if not lot["decisions"]:
                out.append(place)
            for d in lot["decisions"]:
                out.append({**place, "decision": d["disposition"], "decided_at": _instant(d["decided_at"]),
                            "decided_by": d["decided_by"], "exposure_at_decision_min": d["exposure_min"],
                            "ongoing_at_decision": d["excursion_ongoing"],
                            "manufacturer_reference": d["manufacturer_reference"], "notes": d["notes"]})
    return out


def _instant(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def hold_to_dict(hold: LotHold, lot: Lot, ctx: Context, *, item_name: str, location_code: str, held: bool,
                 on_hand: int, decisions: list[dict[str, Any]]) -> dict[str, Any]:
    """One held place of a lot: `lot_status` is the lot's status there; `decisions` every decision
    taken on it, each with the exposure it was taken on."""
    return {"lot_id": lot.id, "lot_number": lot.lot_number, "item_id": lot.item_id, "item_name": item_name,
            "expiry": lot.expiry, "location_id": hold.location_id, "location_code": location_code,
            "quantity": hold.quantity, "on_hand": on_hand, "exposure_min": hold.exposure_min,
            "disposition": hold.disposition, "decided_by": hold.decided_by, "decided_at": hold.decided_at,
            "notes": hold.notes, "lot_status": effective_status(lot.status, lot.expiry, ctx.today, held).value,
            "decisions": decisions}


def mkt(uow: UnitOfWork, ctx: Context, unit_id: int, start: datetime, end: datetime,
        delta_h_kj_mol: float | None) -> dict[str, Any]:
    get_unit(uow, unit_id)
    if end <= start:
        raise InvalidRequest("`to` must be after `from`", code="bad_range")
    segs = _segments(uow, ctx, unit_id, start, end)
    value = mkt_c(segs, delta_h_kj_mol or DEFAULT_DELTA_H_KJ_MOL)
    count = uow.session.scalar(select(func.count()).select_from(Reading).where(
        Reading.storage_unit_id == unit_id, Reading.ts >= start, Reading.ts < end))
    return {"mkt_c": None if value is None else round(value, 2), "readings": count, "from": start, "to": end,
            "delta_h_kj_mol": delta_h_kj_mol or DEFAULT_DELTA_H_KJ_MOL}


def reading_to_dict(r: Reading) -> dict[str, Any]:
    return {"id": r.id, "sensor_id": r.sensor_id, "seq": r.seq, "ts": r.ts, "temp_c": r.temp_c,
            "battery_pct": r.battery_pct, "door_open": r.door_open, "storage_unit_id": r.storage_unit_id,
            "received_at": r.received_at}


def list_readings(uow: UnitOfWork, *, sensor_id: str | None, storage_unit_id: int | None, start: datetime | None,
                  end: datetime | None, limit: int | None, cursor: str | None) -> tuple[Page, int]:
    q = select(Reading)
    if sensor_id:
        q = q.where(Reading.sensor_id == sensor_id)
    if storage_unit_id is not None:
        q = q.where(Reading.storage_unit_id == storage_unit_id)
    if start is not None:
        q = q.where(Reading.ts >= start)
    if end is not None:
        q = q.where(Reading.ts < end)
    total = uow.session.scalar(select(func.count()).select_from(q.subquery())) or 0
    return page_by_id(uow.session, q, Reading.id, limit=limit, cursor=cursor, to_dict=reading_to_dict), int(total)


def to_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """`rows` as CSV with a header of `columns`; times in RFC 3339, dates as YYYY-MM-DD, None empty."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([as_text(row.get(c)) for c in columns])
    return out.getvalue()
