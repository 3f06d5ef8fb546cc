"""Excursion holds on the stock that was exposed, where it is: never on a lot everywhere.

When an alarm fires, the stock of every lot in the unit during the excursion goes on hold at the
unit's location (CDC Vaccine Storage and Handling Toolkit: label exposed vaccine "Do Not Use" and
keep it apart until the manufacturer or the program says otherwise). Exposed stock moved out of the
unit since goes on hold where it went: the hold follows the stock, through later transfers too. The
same lot at a location that never held exposed stock stays usable.

`lot_holds` rows are the record (one per excursion, lot and location); `balances.held` mirrors
"some hold on this lot here awaits a final decision", so the stock paths (consume, FEFO, reorder
figures) read it with the balance instead of asking for holds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select, update

from ..db.models import Balance, Excursion, HoldDecision, Lot, LotHold, Movement, StorageUnit
from ..db.uow import UnitOfWork
from . import reorder
from .context import Context

#: A hold is open until a final disposition (release or discard); asking the manufacturer is not final.
OPEN_DISPOSITIONS = (None, "pending_manufacturer")
MAX_TRANSFER_HOPS = 5  # how far exposed stock is followed through transfers, one location to the next


def is_open() -> ColumnElement[bool]:
    """SQL: the hold awaits a final decision."""
    return or_(LotHold.disposition.is_(None), LotHold.disposition == "pending_manufacturer")


def sync_held(uow: UnitOfWork, ctx: Context, lot_id: int, location_id: int) -> bool:
    """Set `balances.held` of (lot, location) from its holds, re-check the par level there, and
    return whether the stock there is held now."""
    held = bool(uow.session.scalar(select(exists().where(
        LotHold.lot_id == lot_id, LotHold.location_id == location_id, is_open()))))
    changed = uow.session.execute(update(Balance).where(
        Balance.lot_id == lot_id, Balance.location_id == location_id, Balance.held.is_not(held))
        .values(held=held)).rowcount
    if changed:
        item_id = uow.session.scalar(select(Lot.item_id).where(Lot.id == lot_id))
        if item_id is not None:
            reorder.check(uow, ctx, item_id, location_id)
    return held


def hold_exposed(uow: UnitOfWork, ctx: Context, unit: StorageUnit, excursion: Excursion) -> list[int]:
    """Hold every lot with stock in the unit at any time during the excursion; return their ids.

    Balances are rolled back through the ledger to the excursion's start and end, so a lot received
    after the excursion (its readings may arrive late) is not held, and one moved out since still is,
    where it went."""
    exposed = _exposed_in_unit(uow, unit.location_id, excursion)
    for lot_id in sorted(exposed):
        _add_hold(uow, ctx, excursion, unit, lot_id, unit.location_id, exposed[lot_id], excursion.duration_min)
        for location_id, quantity, at in _moved_out(uow, lot_id, unit.location_id, excursion.start):
            minutes = max(0.0, min(excursion.duration_min, (at - excursion.start).total_seconds() / 60))
            _add_hold(uow, ctx, excursion, unit, lot_id, location_id, min(quantity, exposed[lot_id]),
                      round(minutes, 1))
    uow.session.flush()
    return sorted(exposed)


def _exposed_in_unit(uow: UnitOfWork, location_id: int, excursion: Excursion) -> dict[int, int]:
    """Per lot, the most that stood in the unit during the excursion (lots with any stock there)."""
    now = dict(uow.session.execute(select(Balance.lot_id, Balance.quantity).where(
        Balance.location_id == location_id)).all())
    after_end: dict[int, int] = {}
    during: dict[int, int] = {}
    received_during: set[int] = set()
    for lot_id, qty, at in uow.session.execute(select(Movement.lot_id, Movement.quantity, Movement.occurred_at).where(
            Movement.location_id == location_id, Movement.occurred_at >= excursion.start)):
        if at >= excursion.end:
            after_end[lot_id] = after_end.get(lot_id, 0) + qty
        else:
            during[lot_id] = during.get(lot_id, 0) + qty
            if qty > 0:
                received_during.add(lot_id)
    exposed: dict[int, int] = {}
    for lot_id in set(now) | set(after_end) | set(during):
        at_end = now.get(lot_id, 0) - after_end.get(lot_id, 0)
        at_start = at_end - during.get(lot_id, 0)
        if at_start > 0 or at_end > 0 or lot_id in received_during:
            exposed[lot_id] = max(at_start, at_end, 0)
    return exposed


def _moved_out(uow: UnitOfWork, lot_id: int, location_id: int, since: datetime) -> list[tuple[int, int, datetime]]:
    """Where transfers took the lot from `location_id` since `since`, following the stock on through
    later transfers: (location, quantity that arrived, when it left the unit) per destination.

    A transfer appends its out and in movements one after the other (services.stock.transfer), so a
    transfer out's destination is the next movement: same lot, kind transfer, the opposite quantity."""
    found: dict[int, tuple[int, datetime]] = {}
    frontier = [(location_id, since, since)]
    seen = {location_id}
    for _ in range(MAX_TRANSFER_HOPS):
        nxt = []
        for source, after, left_unit in frontier:
            outs = uow.session.execute(select(Movement.id, Movement.quantity, Movement.occurred_at).where(
                Movement.lot_id == lot_id, Movement.location_id == source, Movement.kind == "transfer",
                Movement.quantity < 0, Movement.occurred_at >= after).order_by(Movement.id)).all()
            for out_id, qty, at in outs:
                dest = uow.session.scalar(select(Movement.location_id).where(
                    Movement.id == out_id + 1, Movement.lot_id == lot_id, Movement.kind == "transfer",
                    Movement.quantity == -qty))
                if dest is None or dest == location_id:
                    continue
                when = at if source == location_id else left_unit
                moved, first = found.get(dest, (0, when))
                found[dest] = (moved - qty, min(first, when))
                if dest not in seen:
                    seen.add(dest)
                    nxt.append((dest, at, when))
        frontier = nxt
        if not frontier:
            break
    return [(loc, qty, at) for loc, (qty, at) in sorted(found.items())]


def _add_hold(uow: UnitOfWork, ctx: Context, excursion: Excursion, unit: StorageUnit, lot_id: int,
              location_id: int, quantity: int, exposure_min: float) -> LotHold:
    """The hold of (excursion, lot, location), created on first sight, and the stock there held."""
    hold = uow.session.scalar(select(LotHold).where(
        LotHold.excursion_id == excursion.id, LotHold.lot_id == lot_id, LotHold.location_id == location_id))
    if hold is None:
        hold = LotHold(excursion_id=excursion.id, lot_id=lot_id, storage_unit_id=unit.id, location_id=location_id,
                       quantity=quantity, exposure_min=exposure_min, created_at=ctx.now)
        uow.session.add(hold)
        uow.session.flush()
        _ensure_balance(uow, ctx, lot_id, location_id)
        sync_held(uow, ctx, lot_id, location_id)
    return hold


def _ensure_balance(uow: UnitOfWork, ctx: Context, lot_id: int, location_id: int) -> None:
    """A held place always has its balance row (which carries `held`), also when it is empty now."""
    if uow.session.scalar(select(Balance.id).where(Balance.lot_id == lot_id,
                                                   Balance.location_id == location_id)) is None:
        item_id = uow.session.scalar(select(Lot.item_id).where(Lot.id == lot_id))
        uow.session.add(Balance(lot_id=lot_id, location_id=location_id, item_id=item_id, quantity=0,
                                updated_at=ctx.now))
        uow.session.flush()


def follow_transfer(uow: UnitOfWork, ctx: Context, lot_id: int, from_location: int, to_location: int,
                    quantity: int) -> None:
    """Held stock moved to another location stays held there, under the same excursions: each open
    hold at the source gets one at the destination (its quantity grows with every such transfer)."""
    holds = list(uow.session.scalars(select(LotHold).where(
        LotHold.lot_id == lot_id, LotHold.location_id == from_location, is_open()).order_by(LotHold.id)))
    for source in holds:
        dest = uow.session.scalar(select(LotHold).where(
            LotHold.excursion_id == source.excursion_id, LotHold.lot_id == lot_id, LotHold.location_id == to_location))
        if dest is None:
            uow.session.add(LotHold(excursion_id=source.excursion_id, lot_id=lot_id,
                                    storage_unit_id=source.storage_unit_id, location_id=to_location,
                                    quantity=quantity, exposure_min=source.exposure_min, created_at=ctx.now))
        elif dest.disposition in OPEN_DISPOSITIONS:
            dest.quantity += quantity
        else:  # decided there before: the newly arrived exposed stock needs a decision of its own
            dest.quantity, dest.disposition, dest.decided_by, dest.decided_at = quantity, None, None, None
    if holds:
        uow.session.flush()
        sync_held(uow, ctx, lot_id, to_location)


def held_at(uow: UnitOfWork, lot_id: int, location_id: int) -> bool:
    """Whether the stock of the lot at the location is on hold (the balance's mirror of its holds)."""
    return bool(uow.session.scalar(select(Balance.held).where(Balance.lot_id == lot_id,
                                                              Balance.location_id == location_id)))


def decisions_of(uow: UnitOfWork, hold_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Every decision on these holds, oldest first, by hold id (one query)."""
    out: dict[int, list[dict[str, Any]]] = {h: [] for h in hold_ids}
    if not hold_ids:
        return out
    for d in uow.session.scalars(select(HoldDecision).where(HoldDecision.hold_id.in_(hold_ids))
                                 .order_by(HoldDecision.id)):
        out[d.hold_id].append({
            "disposition": d.disposition, "decided_by": d.decided_by, "decided_at": d.decided_at, "notes": d.notes,
            "manufacturer_reference": d.manufacturer_reference, "exposure_min": d.exposure_min,
            "excursion_ongoing": d.excursion_ongoing, "quantity": d.quantity, "movement_ids": d.movement_ids})
    return out
