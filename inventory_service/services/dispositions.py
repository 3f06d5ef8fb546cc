"""People's decisions after an excursion: acknowledging alarms and deciding what happens to held lots.

CDC "Notify, Document, Contact, Correct": exposed vaccine stays on hold ("Do not use") until a
manager records a disposition: `release` (manufacturer or program says it is usable), `discard`
(disposed through the ledger), or `pending_manufacturer` (asked, waiting for the answer).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..db.models import Alarm, Balance, Lot, LotHold, StorageUnit
from ..db.uow import UnitOfWork
from ..domain.errors import Conflict, InvalidRequest, NotFound
from ..domain.lots import LotStatus
from . import alerts, reorder, stock
from .context import Context

DISPOSITIONS = ("release", "discard", "pending_manufacturer")


def acknowledge_alarm(uow: UnitOfWork, ctx: Context, alarm_id: int, reason: str) -> Alarm:
    """Who, when and why; the alarm's alert is acknowledged with it. Never a silent dismissal."""
    if not reason.strip():
        raise InvalidRequest("an acknowledgement needs a reason", code="reason_required")
    alarm = uow.session.get(Alarm, alarm_id)
    if alarm is None:
        raise NotFound(f"alarm {alarm_id} not found", code="alarm_not_found")
    alarm.acknowledged_at, alarm.acknowledged_by, alarm.ack_reason = ctx.now, ctx.actor, reason.strip()
    if alarm.alert_id is not None:
        alerts.acknowledge(uow, ctx, alarm.alert_id, reason)
    return alarm


def decide(uow: UnitOfWork, ctx: Context, excursion_id: int, lot_id: int, disposition: str,
           notes: str | None = None) -> dict[str, Any]:
    if disposition not in DISPOSITIONS:
        raise InvalidRequest(f"disposition must be one of {', '.join(DISPOSITIONS)}", code="bad_disposition")
    hold = uow.session.scalar(select(LotHold).where(LotHold.excursion_id == excursion_id, LotHold.lot_id == lot_id)
                              .with_for_update())
    if hold is None:
        raise NotFound(f"lot {lot_id} is not held for excursion {excursion_id}", code="hold_not_found")
    if hold.disposition in ("release", "discard"):
        raise Conflict(f"lot {lot_id} already has the final disposition {hold.disposition}", code="already_decided")
    lot = uow.session.get(Lot, lot_id)
    unit = uow.session.get(StorageUnit, hold.storage_unit_id)
    assert lot is not None and unit is not None
    movements: list[int] = []
    if disposition == "discard":
        on_hand = uow.session.scalar(select(Balance.quantity).where(
            Balance.lot_id == lot_id, Balance.location_id == unit.location_id)) or 0
        if on_hand:
            ms = stock.dispose(uow, ctx, item_id=lot.item_id, location_id=unit.location_id, lot_id=lot_id,
                               quantity=on_hand, reason=f"excursion {excursion_id}: discarded ({notes or 'no notes'})")
            movements = [m.id for m in ms]
    hold.disposition, hold.decided_by, hold.decided_at, hold.notes = disposition, ctx.actor, ctx.now, notes
    undecided = uow.session.scalar(select(LotHold.id).where(
        LotHold.lot_id == lot_id, LotHold.id != hold.id,
        (LotHold.disposition.is_(None)) | (LotHold.disposition == "pending_manufacturer")).limit(1))
    if lot.status == LotStatus.HOLD.value and undecided is None and disposition != "pending_manufacturer":
        remaining = uow.session.scalar(select(Balance.quantity).where(Balance.lot_id == lot_id, Balance.quantity > 0)
                                       .limit(1))
        if disposition == "release":
            lot.status, lot.status_reason = LotStatus.AVAILABLE.value, None
        elif remaining is None:
            lot.status, lot.status_reason = LotStatus.DISCARDED.value, f"excursion {excursion_id}"
    uow.session.flush()
    reorder.check_lot(uow, ctx, lot_id)
    return {"excursion_id": excursion_id, "lot_id": lot_id, "disposition": disposition, "notes": notes,
            "decided_by": ctx.actor, "decided_at": ctx.now, "lot_status": lot.status, "movement_ids": movements}


def exposure_minutes(uow: UnitOfWork, lot_id: int) -> float:
    """A lot's exposure, added up across every excursion (and unit) it was held for."""
    return float(sum(uow.session.scalars(select(LotHold.exposure_min).where(LotHold.lot_id == lot_id))))
