"""People's decisions after an excursion: acknowledging alarms and deciding what happens to held stock.

CDC "Notify, Document, Contact, Correct": exposed vaccine stays on hold ("Do not use") until a
manager records a disposition: `release` (manufacturer or program says it is usable), `discard`
(disposed through the ledger), or `pending_manufacturer` (asked, waiting for the answer; the request
may say `ask_manufacturer`). Every decision is kept with the exposure it was taken on.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from ..db.models import Alarm, Balance, Excursion, HoldDecision, Lot, LotHold, Movement, StorageUnit
from ..db.uow import UnitOfWork
from ..domain.errors import Conflict, InvalidRequest, NotFound
from ..domain.lots import LotStatus, effective_status
from . import alerts, coldchain_queries, holds, stock
from .context import Context

DISPOSITIONS = ("release", "discard", "pending_manufacturer", "ask_manufacturer")
ALIASES = {"ask_manufacturer": "pending_manufacturer"}
FINAL = ("release", "discard")


def acknowledge_alarm(uow: UnitOfWork, ctx: Context, alarm_id: int, reason: str) -> Alarm:
    """Who, when and why, appended to the alarm's acknowledgement history (and its alert's). The
    first acknowledgement is when the alarm was acknowledged; a later one never replaces it."""
    alarm = uow.session.get(Alarm, alarm_id)
    if alarm is None:
        raise NotFound(f"alarm {alarm_id} not found", code="alarm_not_found")
    row = alerts.record_acknowledgement(uow, ctx, reason, alarm_id=alarm.id)
    if alarm.acknowledged_at is None:
        alarm.acknowledged_at, alarm.acknowledged_by, alarm.ack_reason = row.acknowledged_at, ctx.actor, row.reason
    if alarm.alert_id is not None:
        alerts.acknowledge(uow, ctx, alarm.alert_id, reason)
    uow.session.flush()
    return alarm


def _on_hand(uow: UnitOfWork, lot_id: int, location_id: int) -> int:
    return int(uow.session.scalar(select(Balance.quantity).where(
        Balance.lot_id == lot_id, Balance.location_id == location_id)) or 0)


def _discard_quantity(uow: UnitOfWork, hold: LotHold, excursion: Excursion, unit: StorageUnit) -> int:
    """How much of the stock at the hold's place a discard disposes of: what was exposed. In the unit,
    everything there except what was received after the excursion ended (while it goes on, all of
    it); elsewhere, at most what arrived from the unit."""
    on_hand = _on_hand(uow, hold.lot_id, hold.location_id)
    if hold.location_id != unit.location_id:
        return min(on_hand, hold.quantity)
    if excursion.ongoing:
        return on_hand
    later = uow.session.scalar(select(func.coalesce(func.sum(Movement.quantity), 0)).where(
        Movement.lot_id == hold.lot_id, Movement.location_id == unit.location_id, Movement.quantity > 0,
        Movement.occurred_at >= excursion.end)) or 0
    return max(0, on_hand - int(later))


def decide(uow: UnitOfWork, ctx: Context, excursion_id: int, lot_id: int, disposition: str,
           notes: str | None = None, *, location_id: int | None = None,
           manufacturer_reference: str | None = None) -> dict[str, Any]:
    """Record a disposition for the lot's held stock of this excursion: at every place it is held, or
    only at `location_id`. A final one (release, discard) frees the stock there; discard disposes of
    the exposed stock through the ledger first.

    While the excursion goes on, stock still in the unit cannot be released (409 excursion_ongoing):
    it is still being exposed. Discarding and asking the manufacturer are allowed at any time."""
    disposition = ALIASES.get(disposition, disposition)
    if disposition not in DISPOSITIONS:
        raise InvalidRequest(f"disposition must be one of {', '.join(DISPOSITIONS)}", code="bad_disposition")
    q = select(LotHold).where(LotHold.excursion_id == excursion_id, LotHold.lot_id == lot_id)
    if location_id is not None:
        q = q.where(LotHold.location_id == location_id)
    rows = list(uow.session.scalars(q.order_by(LotHold.id).with_for_update()))
    if not rows:
        raise NotFound(f"lot {lot_id} is not held for excursion {excursion_id}"
                       + (f" at location {location_id}" if location_id is not None else ""), code="hold_not_found")
    undecided = [h for h in rows if h.disposition not in FINAL]
    if not undecided:
        raise Conflict(f"lot {lot_id} already has the final disposition {rows[0].disposition}",
                       code="already_decided")
    excursion = uow.session.get(Excursion, excursion_id)
    unit = uow.session.get(StorageUnit, rows[0].storage_unit_id)
    lot = uow.session.get(Lot, lot_id)
    assert excursion is not None and unit is not None and lot is not None
    so_far = coldchain_queries.duration_now(uow, ctx, excursion)
    if disposition == "release" and excursion.ongoing and any(
            h.location_id == unit.location_id and _on_hand(uow, lot_id, h.location_id) > 0 for h in undecided):
        raise Conflict(f"{unit.name} is still out of range (excursion {excursion_id}, {so_far:g} min so far): "
                       f"lot {lot.lot_number} in it cannot be released until the excursion ends",
                       code="excursion_ongoing", details={"excursion_id": excursion_id, "exposure_min": so_far})
    places = []
    for hold in undecided:
        if excursion.ongoing and hold.location_id == unit.location_id:  # still exposed: as of this decision
            hold.exposure_min = so_far
        movements: list[int] = []
        before = _on_hand(uow, lot_id, hold.location_id)
        if disposition == "discard":
            quantity = _discard_quantity(uow, hold, excursion, unit)
            if quantity:
                ms = stock.dispose(uow, ctx, item_id=lot.item_id, location_id=hold.location_id, lot_id=lot_id,
                                   quantity=quantity,
                                   reason=f"excursion {excursion_id}: discarded ({notes or 'no notes'})")
                movements = [m.id for m in ms]
        uow.session.add(HoldDecision(
            hold_id=hold.id, disposition=disposition, decided_by=ctx.actor, decided_at=ctx.now, notes=notes,
            manufacturer_reference=manufacturer_reference, exposure_min=hold.exposure_min,
            excursion_ongoing=excursion.ongoing, quantity=before, movement_ids=movements))
        hold.disposition, hold.decided_by, hold.decided_at, hold.notes = disposition, ctx.actor, ctx.now, notes
        uow.session.flush()
        held = holds.sync_held(uow, ctx, lot_id, hold.location_id)
        places.append({"location_id": hold.location_id, "exposure_min": hold.exposure_min, "held": held,
                       "movement_ids": movements})
    if disposition == "discard" and uow.session.scalar(
            select(Balance.id).where(Balance.lot_id == lot_id, Balance.quantity > 0).limit(1)) is None:
        lot.status, lot.status_reason = LotStatus.DISCARDED.value, f"excursion {excursion_id}"
    uow.session.flush()
    here = effective_status(lot.status, lot.expiry, ctx.today, holds.held_at(uow, lot_id, unit.location_id))
    return {"excursion_id": excursion_id, "lot_id": lot_id, "disposition": disposition, "notes": notes,
            "manufacturer_reference": manufacturer_reference, "decided_by": ctx.actor, "decided_at": ctx.now,
            "exposure_min": undecided[0].exposure_min, "excursion_ongoing": excursion.ongoing,
            "lot_status": here.value, "locations": places,
            "movement_ids": [m for p in places for m in p["movement_ids"]]}


def exposure_minutes(uow: UnitOfWork, lot_id: int) -> float:
    """A lot's exposure, added up across every excursion (and unit) it was held for: once per
    excursion, wherever its stock went since."""
    rows = uow.session.execute(select(LotHold.excursion_id, func.max(LotHold.exposure_min))
                               .where(LotHold.lot_id == lot_id).group_by(LotHold.excursion_id)).all()
    return float(sum(minutes for _, minutes in rows))

