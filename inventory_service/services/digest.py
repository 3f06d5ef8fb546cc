"""The manager's daily digest: expired stock still on hand, stock expiring soon, reorder suggestions,
open alarms, maintenance due."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ..db.models import Alarm, Balance, Item, Location, Lot, StorageUnit, Ticket
from ..db.uow import UnitOfWork
from ..domain.lots import LotStatus
from . import alerts, reorder
from .context import Context

EXPIRING_DAYS = 30
MAX_LINES = 100


def _stock_by_expiry(uow: UnitOfWork, ctx: Context, *, expired: bool) -> list[tuple[str, str, object, str, int, str]]:
    """(item, lot, expiry, location code, quantity, status) of stock on hand that is past its expiry
    (also quarantined for return: still on the shelf), or that expires within EXPIRING_DAYS."""
    q = (select(Item.name, Lot.lot_number, Lot.expiry, Location.code, Balance.quantity, Lot.status)
         .join(Lot, Lot.id == Balance.lot_id).join(Item, Item.id == Balance.item_id)
         .join(Location, Location.id == Balance.location_id)
         .where(Balance.quantity > 0, Lot.status != LotStatus.DISCARDED.value)
         .order_by(Lot.expiry, Item.name, Location.code).limit(MAX_LINES + 1))
    if expired:
        q = q.where(Lot.expiry < ctx.today)
    else:
        q = q.where(Lot.expiry >= ctx.today, Lot.expiry <= ctx.today + timedelta(days=EXPIRING_DAYS),
                    Lot.status.not_in([LotStatus.RECALLED.value, LotStatus.EXPIRED.value]))
    return [tuple(r) for r in uow.session.execute(q)]  # type: ignore[misc]


def _lines(rows: list[tuple[str, str, object, str, int, str]], word: str) -> list[str]:
    out = [f"  - {item} lot {lot}: {qty} at {loc}, {word} {expiry}"
           + (" (quarantined)" if status == LotStatus.QUARANTINE.value else "")
           for item, lot, expiry, loc, qty, status in rows[:MAX_LINES]]
    return out + (["  - ... and more (see the stock list)"] if len(rows) > MAX_LINES else [])


def build(uow: UnitOfWork, ctx: Context) -> str:
    lines = [f"Daily digest for {ctx.today.isoformat()}", ""]
    expired = _stock_by_expiry(uow, ctx, expired=True)
    lines.append(f"Expired stock still on hand: {sum(r[4] for r in expired[:MAX_LINES])} units in "
                 f"{len(expired[:MAX_LINES])} place(s){' (remove it from use and dispose of it)' if expired else ''}")
    lines += _lines(expired, "expired")
    expiring = _stock_by_expiry(uow, ctx, expired=False)
    lines += ["", f"Stock expiring within {EXPIRING_DAYS} days: {sum(r[4] for r in expiring[:MAX_LINES])} units in "
              f"{len(expiring[:MAX_LINES])} place(s)"]
    lines += _lines(expiring, "expires")
    suggestions = reorder.suggestions(uow, ctx)
    lines += ["", f"Reorder suggestions: {len(suggestions)}"]
    lines += [f"  - {s['item_name']} at {s['location_code']}: usable {s['usable_quantity']}, "
              f"order {s['suggested_quantity']}" for s in suggestions]
    alarms = uow.session.execute(select(Alarm, StorageUnit.name)
                                 .join(StorageUnit, StorageUnit.id == Alarm.storage_unit_id)
                                 .where(Alarm.ended_at.is_(None))).all()
    lines += ["", f"Open temperature alarms: {len(alarms)}"]
    lines += [f"  - {name}: {a.kind} since {a.condition_start:%Y-%m-%d %H:%M} UTC"
              f"{' (acknowledged)' if a.acknowledged_at else ''}" for a, name in alarms]
    tickets = list(uow.session.scalars(select(Ticket).where(Ticket.status.in_(["open", "in_progress"]))
                                       .order_by(Ticket.due_date)))
    lines += ["", f"Maintenance open or due: {len(tickets)}"]
    lines += [f"  - {t.title} (due {t.due_date or t.due_cycle}, {t.status})" for t in tickets]
    return "\n".join(lines)


def send(uow: UnitOfWork, ctx: Context) -> int:
    """Write the digest as a `digest` alert (routed like any alert, e.g. by email); once per site day."""
    key = f"digest:{ctx.today.isoformat()}"
    if uow.session.scalar(select(alerts.Alert.id).where(alerts.Alert.dedupe_key == key)) is not None:
        return 0
    alert = alerts.raise_alert(uow, ctx, kind="digest", severity="info", key=key,
                               subject=f"Daily digest {ctx.today.isoformat()}", message=build(uow, ctx))
    alerts.resolve_alert(uow, ctx, key)
    return alert.id
