"""Par levels, reorder suggestions and the reorder alert that follows stock up and down."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.exc import IntegrityError

from ..db.direct import Direct
from ..db.models import Alert, Balance, Item, Location, Lot, Movement, ParLevel
from ..db.uow import UnitOfWork
from ..domain import reorder as rules
from ..domain.errors import Conflict, InvalidRequest, NotFound
from ..domain.lots import LotStatus
from . import alerts, ledger
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


def _figures_q(uow: UnitOfWork, today: date) -> Select[tuple[int, int, int]]:
    """(par level id, usable quantity, quantity on hold) per par level, as of `today`.

    Usable: available lots that expire strictly after today + lead time, because a lot that
    expires before an order placed today could arrive cannot cover the gap (ARCHITECTURE §5), and
    whose stock at the location is not on hold after an excursion. On hold: stock held there,
    quarantined and recalled lots, which may come back but cannot be used now.
    """
    available = and_(Lot.status == LotStatus.AVAILABLE.value, Lot.expiry > _usable_after(uow, today),
                     Balance.held.is_(False))
    held = or_(Lot.status.in_([LotStatus.HOLD.value, LotStatus.QUARANTINE.value, LotStatus.RECALLED.value]),
               and_(Lot.status == LotStatus.AVAILABLE.value, Balance.held.is_(True)))
    return (
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


def _stale(today: date) -> ColumnElement[bool]:
    """Par levels whose stored figures are not today's (never computed, or of an earlier day)."""
    return or_(ParLevel.figures_on.is_(None), ParLevel.figures_on != today)


def _details(par: ParLevel, usable: int) -> dict[str, Any]:
    return {"item_id": par.item_id, "location_id": par.location_id, "usable_quantity": usable,
            "reorder_point": par.reorder_point, "suggested_quantity": max(0, par.order_up_to - usable)}


def _store(uow: UnitOfWork, ctx: Context, par: ParLevel, usable: int, hold: int, alert: Alert | None,
           alert_known: bool) -> None:
    """Store today's figures on the par level and open, refresh or close its reorder alert.

    `alert_known` says the caller already looked up the open alert (`alert`, or None for none),
    which saves a query per par level when many are checked at once.
    """
    if (par.usable_quantity, par.on_hold_quantity, par.figures_on) != (usable, hold, ctx.today):
        par.usable_quantity, par.on_hold_quantity, par.figures_on = usable, hold, ctx.today
    key = _key(par.item_id, par.location_id)
    level = rules.ParLevel(par.reorder_point, par.order_up_to, par.lead_time_days)
    if rules.needs_reorder(level, usable):
        details = _details(par, usable)
        if alert_known and alert is not None and alert.details == details:
            return
        item, loc = get_item(uow, par.item_id), get_location(uow, par.location_id)
        alerts.raise_alert(
            uow, ctx, kind="reorder", severity="warning", key=key,
            subject=f"Reorder {item.name} at {loc.code}",
            message=(f"Usable stock of {item.name} at {loc.name} is {usable} {item.unit}, at or below the "
                     f"reorder point {par.reorder_point}; order up to {par.order_up_to}."),
            details=details,
        )
    elif not alert_known or alert is not None:
        alerts.resolve_alert(uow, ctx, key)


def check(uow: UnitOfWork, ctx: Context, item_id: int, location_id: int) -> None:
    """Recompute the figures of the par level of (item, location), if there is one, and open the
    reorder alert when usable stock is at or below the reorder point; close it above.

    Called in the transaction of every change that can move the figures, so the rollup and the
    alert never lag behind the stock.
    """
    par = uow.session.scalar(select(ParLevel).where(ParLevel.item_id == item_id, ParLevel.location_id == location_id))
    if par is None:
        return
    _pid, usable, hold = uow.session.execute(_figures_q(uow, ctx.today).where(ParLevel.id == par.id)).one()
    _store(uow, ctx, par, int(usable), int(hold), None, alert_known=False)


def check_later(uow: UnitOfWork, ctx: Context, item_id: int, location_id: int) -> None:
    """`check` the par level of (item, location) just before the transaction commits, together with
    every other pair its movements touched: a batch of scans then costs one query for all of them
    (none more when the pairs have no par level) instead of one or more per movement. The figures
    and the alert still commit or roll back with the movements."""
    uow.before_commit("reorder_check", (item_id, location_id), lambda pairs: check_pairs(uow, ctx, pairs))


_PARS = ParLevel.__table__
_PAR_IDS_OF_PAIRS = (select(_PARS.c.id)
                     .where(tuple_(_PARS.c.item_id, _PARS.c.location_id).in_(bindparam("pairs", expanding=True)))
                     .order_by(_PARS.c.id))
# One pair (a transaction with one scan, the usual case) has its own statement: an expanding IN is
# rendered again on every execution, which costs more than the query itself.
_PAR_ID_OF_PAIR = Direct(select(_PARS.c.id).where(_PARS.c.item_id == bindparam("p_item"),
                                                  _PARS.c.location_id == bindparam("p_loc")))


def check_pairs(uow: UnitOfWork, ctx: Context, pairs: Sequence[tuple[int, int]]) -> int:
    """`check` the par levels of these (item, location) pairs, set-based; returns how many exist.
    Pairs whose balance change in this transaction showed no par level are skipped without a query."""
    distinct = sorted(p for p in set(pairs) if ledger.has_par_level(uow, *p) is not False)
    if not distinct:
        return 0
    if len(distinct) == 1:
        (item_id, location_id), = distinct
        ids = [row[0] for row in _PAR_ID_OF_PAIR.run(uow, {"p_item": item_id, "p_loc": location_id})]
    else:
        ids = list(uow.session.scalars(_PAR_IDS_OF_PAIRS, {"pairs": distinct}))
    return check_all(uow, ctx, ids) if ids else 0


def check_lot(uow: UnitOfWork, ctx: Context, lot_id: int) -> None:
    """A lot's status changed (hold, recall, release...): re-check every place it has stock."""
    pairs = uow.session.execute(select(Balance.item_id, Balance.location_id).where(Balance.lot_id == lot_id)
                                .order_by(Balance.location_id)).all()
    for item_id, location_id in pairs:
        check(uow, ctx, item_id, location_id)


def suggestions(uow: UnitOfWork, ctx: Context, *, location_id: int | None = None) -> list[dict[str, Any]]:
    """Every par level at or below its reorder point, with the figures a buyer needs.

    Reads today's stored figures (see ParLevel) and recomputes, set-based, only the par levels
    whose figures are stale; 30-day usage is summed only for the par levels that may be listed.
    Four queries whatever the number of par levels.
    """
    uow.settle()  # par-level checks this transaction deferred (check_later) first
    today = ctx.today
    stale = _stale(today)
    candidate = or_(stale, ParLevel.usable_quantity <= ParLevel.reorder_point)
    since = ctx.now - timedelta(days=rules.USAGE_WINDOW_DAYS)
    usage_q = (
        select(ParLevel.id, func.coalesce(-func.sum(Movement.quantity), 0))
        .select_from(ParLevel)
        .join(Movement, and_(Movement.item_id == ParLevel.item_id, Movement.location_id == ParLevel.location_id))
        .where(candidate, Movement.kind == "consume", Movement.occurred_at >= since)
        .group_by(ParLevel.id)
    )
    stale_q = _figures_q(uow, today).where(stale)
    par_q = (  # plain columns, not ORM objects: the answer can hold thousands of rows
        select(ParLevel.id, ParLevel.item_id, ParLevel.location_id, ParLevel.reorder_point, ParLevel.order_up_to,
               ParLevel.lead_time_days, ParLevel.usable_quantity, ParLevel.on_hold_quantity,
               Item.name, Item.unit, Location.code)
        .join(Item, Item.id == ParLevel.item_id)
        .join(Location, Location.id == ParLevel.location_id)
        .where(candidate)
        .order_by(ParLevel.id)
    )
    if location_id is not None:
        stale_q = stale_q.where(ParLevel.location_id == location_id)
        usage_q = usage_q.where(ParLevel.location_id == location_id)
        par_q = par_q.where(ParLevel.location_id == location_id)
    recomputed = {pid: (int(u), int(h)) for pid, u, h in uow.session.execute(stale_q)}
    usage = {pid: int(c) for pid, c in uow.session.execute(usage_q)}
    out = []
    for (pid, item_id, loc_id, reorder_point, order_up_to, lead_time, stored_usable, stored_hold, item_name, unit,
         loc_code) in uow.session.execute(par_q):
        usable, hold = recomputed.get(pid) or (stored_usable or 0, stored_hold or 0)
        level = rules.ParLevel(reorder_point, order_up_to, lead_time)
        if not rules.needs_reorder(level, usable):
            continue
        s = rules.suggest(level, usable, hold, usage.get(pid, 0))
        out.append({
            "par_level_id": pid, "item_id": item_id, "item_name": item_name, "unit": unit,
            "location_id": loc_id, "location_code": loc_code, "reorder_point": reorder_point,
            "order_up_to": order_up_to, "lead_time_days": lead_time,
            "usable_quantity": s.usable_quantity, "on_hold_quantity": s.on_hold_quantity,
            "average_daily_usage": s.average_daily_usage, "days_of_supply": s.days_of_supply,
            "suggested_quantity": s.suggested_quantity,
        })
    return out


def par_ids(uow: UnitOfWork) -> list[int]:
    return list(uow.session.scalars(select(ParLevel.id).order_by(ParLevel.id)))


def check_all(uow: UnitOfWork, ctx: Context, ids: Sequence[int] | None = None) -> int:
    """Re-check par levels (all, or those in `ids`) set-based: usable stock also shrinks as lots
    come within the lead time of expiry, without any movement to trigger a check. Run by the
    hourly job in chunks, it also brings every par level's figures up to today."""
    figures_q = _figures_q(uow, ctx.today)
    pars_q = select(ParLevel).order_by(ParLevel.id)
    if ids is not None:
        figures_q = figures_q.where(ParLevel.id.in_(ids))
        pars_q = pars_q.where(ParLevel.id.in_(ids))
    figures = {pid: (int(u), int(h)) for pid, u, h in uow.session.execute(figures_q)}
    pars = list(uow.session.scalars(pars_q))
    keys = [_key(p.item_id, p.location_id) for p in pars]
    alert_q = select(Alert).where(Alert.kind == "reorder", Alert.open_key.is_not(None))
    if ids is not None:
        alert_q = alert_q.where(Alert.open_key.in_(keys))
    open_alerts = {a.open_key: a for a in uow.session.scalars(alert_q)}
    for par, key in zip(pars, keys, strict=True):
        usable, hold = figures.get(par.id, (0, 0))
        _store(uow, ctx, par, usable, hold, open_alerts.get(key), alert_known=True)
    return len(pars)
