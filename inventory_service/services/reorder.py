"""Par levels, reorder suggestions and the reorder alert that follows stock up and down."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, Text, and_, case, cast, func, literal, select
from sqlalchemy.exc import IntegrityError

from ..db.models import Balance, Item, Location, Lot, Movement, ParLevel
from ..db.uow import UnitOfWork
from ..domain import reorder as rules
from ..domain.errors import Conflict, InvalidRequest, NotFound
from ..domain.lots import LotStatus
from . import alerts
from .catalog import get_item, get_location
from .context import Context


def _key(item_id: int, location_id: int) -> str:
    return f"reorder:item:{item_id}:location:{location_id}"


def par_to_dict(p: ParLevel) -> dict[str, Any]:
    return {"id": p.id, "item_id": p.item_id, "location_id": p.location_id, "reorder_point": p.reorder_point,
            "order_up_to": p.order_up_to, "lead_time_days": p.lead_time_days}


def set_par_level(uow: UnitOfWork, ctx: Context, *, item_id: int, location_id: int, reorder_point: int,
                  order_up_to: int, lead_time_days: int = 0) -> ParLevel:
    """Create or replace the par level of (item, location), then evaluate it at once."""
    if reorder_point < 0 or lead_time_days < 0:
        raise InvalidRequest("reorder_point and lead_time_days cannot be negative", code="bad_par_level")
    if order_up_to < reorder_point:
        raise InvalidRequest("order_up_to must be at least reorder_point", code="bad_par_level")
    get_item(uow, item_id)
    get_location(uow, location_id)
    par = uow.session.scalar(select(ParLevel).where(ParLevel.item_id == item_id, ParLevel.location_id == location_id))
    if par is None:
        par = ParLevel(item_id=item_id, location_id=location_id, reorder_point=reorder_point,
                       order_up_to=order_up_to, lead_time_days=lead_time_days)
        uow.session.add(par)
    else:
        par.reorder_point, par.order_up_to, par.lead_time_days = reorder_point, order_up_to, lead_time_days
    try:
        uow.session.flush()
    except IntegrityError as exc:
        raise Conflict("par level changed concurrently; retry", code="conflict") from exc
    check(uow, ctx, item_id, location_id)
    return par


def delete_par_level(uow: UnitOfWork, ctx: Context, par_id: int) -> None:
    par = uow.session.get(ParLevel, par_id)
    if par is None:
        raise NotFound(f"par level {par_id} not found")
    alerts.resolve_alert(uow, ctx, _key(par.item_id, par.location_id))
    uow.session.delete(par)


def list_par_levels(uow: UnitOfWork, *, location_id: int | None, item_id: int | None) -> list[dict[str, Any]]:
    q = select(ParLevel).order_by(ParLevel.id)
    if location_id is not None:
        q = q.where(ParLevel.location_id == location_id)
    if item_id is not None:
        q = q.where(ParLevel.item_id == item_id)
    return [par_to_dict(p) for p in uow.session.scalars(q)]


def _usable_after(uow: UnitOfWork, today: date) -> ColumnElement[Any]:
    """SQL for `today + par_levels.lead_time_days`, per dialect."""
    if uow.dialect == "sqlite":  # dates are ISO text there; date() does the arithmetic
        modifier = literal("+", Text) + cast(ParLevel.lead_time_days, Text) + literal(" days", Text)
        return func.date(literal(today.isoformat(), Text), modifier)
    return literal(today, Date) + ParLevel.lead_time_days


def check(uow: UnitOfWork, ctx: Context, item_id: int, location_id: int) -> None:
    """Open the reorder alert when usable stock is at or below the reorder point; close it above."""
    par = uow.session.scalar(select(ParLevel).where(ParLevel.item_id == item_id, ParLevel.location_id == location_id))
    if par is None:
        return
    horizon = rules.usable_after(ctx.today, par.lead_time_days)
    usable = uow.session.scalar(
        select(func.coalesce(func.sum(Balance.quantity), 0))
        .join(Lot, Lot.id == Balance.lot_id)
        .where(Balance.item_id == item_id, Balance.location_id == location_id,
               Lot.status == LotStatus.AVAILABLE.value, Lot.expiry > horizon)
    ) or 0
    level = rules.ParLevel(par.reorder_point, par.order_up_to, par.lead_time_days)
    if rules.needs_reorder(level, usable):
        item, loc = get_item(uow, item_id), get_location(uow, location_id)
        alerts.raise_alert(
            uow, ctx, kind="reorder", severity="warning", key=_key(item_id, location_id),
            subject=f"Reorder {item.name} at {loc.code}",
            message=(f"Usable stock of {item.name} at {loc.name} is {usable} {item.unit}, at or below the "
                     f"reorder point {par.reorder_point}; order up to {par.order_up_to}."),
            details={"item_id": item_id, "location_id": location_id, "usable_quantity": usable,
                     "reorder_point": par.reorder_point, "suggested_quantity": max(0, par.order_up_to - usable)},
        )
    else:
        alerts.resolve_alert(uow, ctx, _key(item_id, location_id))


def suggestions(uow: UnitOfWork, ctx: Context, *, location_id: int | None = None) -> list[dict[str, Any]]:
    """Every par level at or below its reorder point, with the figures a buyer needs.

    Three set-based queries whatever the number of par levels: usable/hold per pair, 30-day
    consumption per pair, and the names.
    """
    today = ctx.today
    usable_after = _usable_after(uow, today)
    available = and_(Lot.status == LotStatus.AVAILABLE.value, Lot.expiry > usable_after)
    held = Lot.status.in_([LotStatus.HOLD.value, LotStatus.QUARANTINE.value, LotStatus.RECALLED.value])
    stock_q = (
        select(
            ParLevel.id,
            func.coalesce(func.sum(case((available, Balance.quantity), else_=0)), 0),
            func.coalesce(func.sum(case((held, Balance.quantity), else_=0)), 0),
        )
        .select_from(ParLevel)
        .outerjoin(Balance, and_(Balance.item_id == ParLevel.item_id, Balance.location_id == ParLevel.location_id))
        .outerjoin(Lot, Lot.id == Balance.lot_id)
        .group_by(ParLevel.id)
    )
    since = ctx.now - timedelta(days=rules.USAGE_WINDOW_DAYS)
    usage_q = (
        select(ParLevel.id, func.coalesce(-func.sum(Movement.quantity), 0))
        .select_from(ParLevel)
        .join(Movement, and_(Movement.item_id == ParLevel.item_id, Movement.location_id == ParLevel.location_id))
        .where(Movement.kind == "consume", Movement.occurred_at >= since)
        .group_by(ParLevel.id)
    )
    par_q = (
        select(ParLevel, Item.name, Item.unit, Location.code)
        .join(Item, Item.id == ParLevel.item_id)
        .join(Location, Location.id == ParLevel.location_id)
        .order_by(ParLevel.id)
    )
    if location_id is not None:
        stock_q = stock_q.where(ParLevel.location_id == location_id)
        usage_q = usage_q.where(ParLevel.location_id == location_id)
        par_q = par_q.where(ParLevel.location_id == location_id)
    stock = {pid: (int(u), int(h)) for pid, u, h in uow.session.execute(stock_q)}
    usage = {pid: int(c) for pid, c in uow.session.execute(usage_q)}
    out = []
    for par, item_name, unit, loc_code in uow.session.execute(par_q):
        usable, hold = stock.get(par.id, (0, 0))
        level = rules.ParLevel(par.reorder_point, par.order_up_to, par.lead_time_days)
        if not rules.needs_reorder(level, usable):
            continue
        s = rules.suggest(level, usable, hold, usage.get(par.id, 0))
        out.append({
            "par_level_id": par.id, "item_id": par.item_id, "item_name": item_name, "unit": unit,
            "location_id": par.location_id, "location_code": loc_code, "reorder_point": par.reorder_point,
            "order_up_to": par.order_up_to, "lead_time_days": par.lead_time_days,
            "usable_quantity": s.usable_quantity, "on_hold_quantity": s.on_hold_quantity,
            "average_daily_usage": s.average_daily_usage, "days_of_supply": s.days_of_supply,
            "suggested_quantity": s.suggested_quantity,
        })
    return out


def par_pairs(uow: UnitOfWork) -> list[tuple[int, int]]:
    return [(i, loc) for i, loc in uow.session.execute(select(ParLevel.item_id, ParLevel.location_id)
                                                         .order_by(ParLevel.id))]


def check_all(uow: UnitOfWork, ctx: Context, pairs: list[tuple[int, int]] | None = None) -> int:
    """Re-check par levels (all, or `pairs`): usable stock also shrinks as lots come within the lead
    time of expiry, without any movement to trigger a check."""
    pairs = par_pairs(uow) if pairs is None else pairs
    for item_id, location_id in pairs:
        check(uow, ctx, item_id, location_id)
    return len(pairs)
