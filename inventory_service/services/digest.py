"""The manager's daily digest: expiring lots, reorder suggestions, open alarms, maintenance due."""

from __future__ import annotations

from sqlalchemy import select

from ..db.models import Alarm, StorageUnit, Ticket
from ..db.uow import UnitOfWork
from . import alerts, reorder, stock_queries
from .context import Context


def build(uow: UnitOfWork, ctx: Context) -> str:
    lines = [f"Daily digest for {ctx.today.isoformat()}", ""]
    expiring = stock_queries.list_lots(uow, ctx, expiring_within_days=30, status=None, item_id=None, limit=100,
                                       cursor=None).items
    lines.append(f"Lots expiring within 30 days: {len(expiring)}")
    lines += [f"  - lot {lot['lot_number']} (item {lot['item_id']}) expires {lot['expiry']}" for lot in expiring]
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
