"""Expiry: lots past their date become `expired` (at the site's midnight, by the scheduler), and
alerts are raised at configurable horizons before expiry (default 90/60/30 days) and on expiry.

Reads never depend on this job: an available lot past its date already reads as expired
(domain.lots.effective_status). The job makes the status explicit and tells the manager.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from ..db.models import Balance, Item, Lot
from ..db.uow import UnitOfWork
from ..domain.lots import LotStatus
from . import alerts
from .context import Context


def _on_hand(uow: UnitOfWork, lot_ids: list[int]) -> dict[int, int]:
    if not lot_ids:
        return {}
    return dict(uow.session.execute(select(Balance.lot_id, func.sum(Balance.quantity)).where(
        Balance.lot_id.in_(lot_ids)).group_by(Balance.lot_id)).all())


def sweep_expired(uow: UnitOfWork, ctx: Context) -> int:
    """Mark available lots whose expiry has passed as expired; one `expiry` alert per lot with stock."""
    lots = list(uow.session.scalars(select(Lot).where(Lot.status == LotStatus.AVAILABLE.value,
                                                      Lot.expiry < ctx.today)))
    stock = _on_hand(uow, [lot.id for lot in lots])
    for lot in lots:
        lot.status, lot.status_reason = LotStatus.EXPIRED.value, f"expired on {lot.expiry.isoformat()}"
        if stock.get(lot.id, 0) > 0:
            item = uow.session.get(Item, lot.item_id)
            alerts.raise_alert(uow, ctx, kind="expiry", severity="warning", key=f"expired:lot:{lot.id}",
                               subject=f"Expired: {item.name if item else lot.item_id} lot {lot.lot_number}",
                               message=(f"Lot {lot.lot_number} expired on {lot.expiry.isoformat()} with "
                                        f"{stock[lot.id]} on hand: remove it from use and dispose of it."),
                               details={"lot_id": lot.id, "item_id": lot.item_id, "on_hand": stock[lot.id]})
    return len(lots)


def horizon_alerts(uow: UnitOfWork, ctx: Context, horizons: tuple[int, ...]) -> int:
    """For each lot with stock, one alert per horizon it has crossed (the nearest first to matter)."""
    if not horizons:
        return 0
    furthest = max(horizons)
    lots = list(uow.session.scalars(select(Lot).where(
        Lot.status.in_([LotStatus.AVAILABLE.value, LotStatus.HOLD.value]), Lot.expiry >= ctx.today,
        Lot.expiry <= ctx.today + timedelta(days=furthest))))
    stock = _on_hand(uow, [lot.id for lot in lots])
    raised = 0
    for lot in lots:
        if stock.get(lot.id, 0) <= 0:
            continue
        days_left = (lot.expiry - ctx.today).days
        horizon = min(h for h in horizons if days_left <= h)
        item = uow.session.get(Item, lot.item_id)
        name = item.name if item else lot.item_id
        key = f"expiring:lot:{lot.id}:{horizon}"
        if uow.session.scalar(select(func.count()).select_from(alerts.Alert).where(alerts.Alert.dedupe_key == key)):
            continue  # raised once per horizon, even after it was resolved or acknowledged
        alerts.raise_alert(uow, ctx, kind="expiry", severity="info" if horizon > 30 else "warning", key=key,
                           subject=f"{name} lot {lot.lot_number} expires in {days_left} days",
                           message=(f"Lot {lot.lot_number} expires on {lot.expiry.isoformat()} ({days_left} days, "
                                    f"within the {horizon}-day horizon) with {stock[lot.id]} on hand: use it first."),
                           details={"lot_id": lot.id, "item_id": lot.item_id, "horizon_days": horizon,
                                    "on_hand": stock[lot.id]})
        raised += 1
    return raised
