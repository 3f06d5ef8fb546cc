"""Recalls: mark the named lots recalled, quarantine their stock everywhere, raise an alert,
and report where the stock is and where it already went (FDA 21 CFR 7 recall follow-up)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..db.models import Balance, Location, Lot, Movement, Recall, RecallLot
from ..db.uow import UnitOfWork
from ..domain.errors import InvalidRequest, NotFound
from ..domain.lots import LotStatus
from . import alerts, reorder
from .catalog import get_item, item_by_gtin
from .context import Context


def create_recall(uow: UnitOfWork, ctx: Context, *, item_id: int | None, gtin: str | None,
                  lot_numbers: list[str], reason: str, reference: str | None) -> Recall:
    """Record the recall. Every lot of the item with a listed lot number (any expiry) becomes
    `recalled`; lots received later with such a number start recalled (see stock.find_or_create_lot)."""
    if (item_id is None) == (gtin is None):
        raise InvalidRequest("give exactly one of item_id or gtin", code="bad_recall")
    numbers = sorted({n.strip() for n in lot_numbers if n.strip()})
    if not numbers:
        raise InvalidRequest("lot_numbers must name at least one lot", code="bad_recall")
    if not reason.strip():
        raise InvalidRequest("a reason is required", code="reason_required")
    item = get_item(uow, item_id) if item_id is not None else item_by_gtin(uow, gtin or "")
    recall = Recall(item_id=item.id, reason=reason.strip(), reference=reference, created_by=ctx.actor,
                    created_at=ctx.now)
    uow.session.add(recall)
    uow.session.flush()
    uow.session.add_all(RecallLot(recall_id=recall.id, item_id=item.id, lot_number=n) for n in numbers)
    lots = uow.session.scalars(select(Lot).where(Lot.item_id == item.id, Lot.lot_number.in_(numbers))).all()
    for lot in lots:
        if lot.status != LotStatus.DISCARDED.value:
            lot.status = LotStatus.RECALLED.value
            lot.status_reason = f"recall {recall.id}: {recall.reason}"
    uow.session.flush()
    for lot in lots:
        reorder.check_lot(uow, ctx, lot.id)
    alerts.raise_alert(
        uow, ctx, kind="recall", severity="critical", key=f"recall:{recall.id}",
        subject=f"Recall of {item.name} lots {', '.join(numbers)}",
        message=(f"{item.name}: lots {', '.join(numbers)} are recalled ({recall.reason}"
                 f"{'; ' + reference if reference else ''}). Their stock is quarantined at every location."),
        details={"recall_id": recall.id, "item_id": item.id, "lot_numbers": numbers},
    )
    return recall


def recall_report(uow: UnitOfWork, recall_id: int) -> dict[str, Any]:
    """The recall with, per affected lot, stock on hand per location and past consumption."""
    recall = uow.session.get(Recall, recall_id)
    if recall is None:
        raise NotFound(f"recall {recall_id} not found", code="recall_not_found")
    numbers = list(uow.session.scalars(select(RecallLot.lot_number).where(RecallLot.recall_id == recall_id)
                                       .order_by(RecallLot.lot_number)))
    lots = list(uow.session.scalars(select(Lot).where(Lot.item_id == recall.item_id, Lot.lot_number.in_(numbers))
                                    .order_by(Lot.id)))
    lot_ids = [lot.id for lot in lots]
    on_hand: dict[int, list[dict[str, Any]]] = {i: [] for i in lot_ids}
    for lot_id, loc_id, code, qty in uow.session.execute(
        select(Balance.lot_id, Balance.location_id, Location.code, Balance.quantity)
        .join(Location, Location.id == Balance.location_id)
        .where(Balance.lot_id.in_(lot_ids), Balance.quantity > 0).order_by(Balance.id)
    ):
        on_hand[lot_id].append({"location_id": loc_id, "location_code": code, "quantity": qty})
    consumed: dict[int, list[dict[str, Any]]] = {i: [] for i in lot_ids}
    for m, code in uow.session.execute(
        select(Movement, Location.code).join(Location, Location.id == Movement.location_id)
        .where(Movement.lot_id.in_(lot_ids), Movement.kind == "consume").order_by(Movement.id)
    ):
        consumed[m.lot_id].append({"movement_id": m.id, "quantity": -m.quantity, "occurred_at": m.occurred_at,
                                   "location_id": m.location_id, "location_code": code, "actor": m.actor,
                                   "source": m.source})
    return {
        "id": recall.id, "item_id": recall.item_id, "reason": recall.reason, "reference": recall.reference,
        "created_by": recall.created_by, "created_at": recall.created_at, "lot_numbers": numbers,
        "unmatched_lot_numbers": sorted(set(numbers) - {lot.lot_number for lot in lots}),
        "lots": [
            {"lot_id": lot.id, "lot_number": lot.lot_number, "expiry": lot.expiry, "status": lot.status,
             "on_hand": on_hand[lot.id], "quantity_on_hand": sum(r["quantity"] for r in on_hand[lot.id]),
             "consumed": consumed[lot.id], "quantity_consumed": sum(r["quantity"] for r in consumed[lot.id])}
            for lot in lots
        ],
    }
