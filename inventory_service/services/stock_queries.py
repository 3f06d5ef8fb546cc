"""Read side of stock: balances and lots, paginated by keyset."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, and_, or_, select

from ..db.models import Balance, Lot
from ..db.uow import UnitOfWork
from ..domain.errors import InvalidRequest, NotFound
from ..domain.lots import LotStatus, effective_status
from .context import Context
from .pagination import Page, clamp_limit, decode_cursor, encode_cursor, page_by_id


def _status_filter(q: Select[Any], status: str, ctx: Context) -> Select[Any]:
    """Filter by the status a reader sees: `expired` includes available lots past their date."""
    try:
        wanted = LotStatus(status)
    except ValueError as exc:
        raise InvalidRequest(f"unknown status {status!r}", code="bad_status") from exc
    if wanted is LotStatus.AVAILABLE:
        return q.where(Lot.status == "available", Lot.expiry >= ctx.today)
    if wanted is LotStatus.EXPIRED:
        return q.where(or_(Lot.status == "expired", and_(Lot.status == "available", Lot.expiry < ctx.today)))
    return q.where(Lot.status == wanted.value)


def list_stock(uow: UnitOfWork, ctx: Context, *, item_id: int | None, location_id: int | None,
               status: str | None, limit: int | None, cursor: str | None,
               include_empty: bool = False) -> Page:
    """Balances per lot and location (non-zero unless `include_empty`), ordered by balance id."""
    q = (select(Balance.id, Balance.item_id, Balance.lot_id, Lot.lot_number, Lot.expiry, Balance.location_id,
                Balance.quantity, Lot.status)
         .join(Lot, Lot.id == Balance.lot_id))
    if item_id is not None:
        q = q.where(Balance.item_id == item_id)
    if location_id is not None:
        q = q.where(Balance.location_id == location_id)
    if not include_empty:
        q = q.where(Balance.quantity > 0)
    if status:
        q = _status_filter(q, status, ctx)
    today = ctx.today

    def row(r: Any) -> dict[str, Any]:
        return {"item_id": r.item_id, "lot_id": r.lot_id, "lot_number": r.lot_number, "expiry": r.expiry,
                "location_id": r.location_id, "quantity": r.quantity,
                "status": effective_status(r.status, r.expiry, today).value}

    return page_by_id(uow.session, q, Balance.id, limit=limit, cursor=cursor, to_dict=row, scalars=False)


def lot_to_dict(lot: Lot, ctx: Context) -> dict[str, Any]:
    return {"id": lot.id, "item_id": lot.item_id, "lot_number": lot.lot_number, "expiry": lot.expiry,
            "status": effective_status(lot.status, lot.expiry, ctx.today).value,
            "status_reason": lot.status_reason, "created_at": lot.created_at}


def list_lots(uow: UnitOfWork, ctx: Context, *, expiring_within_days: int | None, status: str | None,
              item_id: int | None, limit: int | None, cursor: str | None) -> Page:
    """Lots ordered by (expiry, id): soonest first, which is what a manager checking dates wants.

    `expiring_within_days=N` lists lots not yet expired whose expiry falls within N days
    from the site's today (0 = expiring today).
    """
    limit = clamp_limit(limit)
    q = select(Lot).order_by(Lot.expiry, Lot.id).limit(limit + 1)
    if expiring_within_days is not None:
        if expiring_within_days < 0:
            raise InvalidRequest("expiring_within_days cannot be negative", code="bad_query")
        q = q.where(Lot.expiry >= ctx.today, Lot.expiry <= ctx.today + timedelta(days=expiring_within_days),
                    Lot.status.not_in(["discarded"]))
    if status:
        q = _status_filter(q, status, ctx)
    if item_id is not None:
        q = q.where(Lot.item_id == item_id)
    key = decode_cursor(cursor, 2)
    if key:
        try:
            k_expiry, k_id = date.fromisoformat(str(key[0])), int(key[1])
        except ValueError as exc:
            raise InvalidRequest("malformed cursor", code="bad_cursor") from exc
        q = q.where(or_(Lot.expiry > k_expiry, and_(Lot.expiry == k_expiry, Lot.id > k_id)))
    rows = list(uow.session.scalars(q))
    nxt = encode_cursor([rows[limit - 1].expiry.isoformat(), rows[limit - 1].id]) if len(rows) > limit else None
    return Page([lot_to_dict(lot, ctx) for lot in rows[:limit]], nxt)


def get_lot(uow: UnitOfWork, lot_id: int) -> Lot:
    lot = uow.session.get(Lot, lot_id)
    if lot is None:
        raise NotFound(f"lot {lot_id} not found", code="lot_not_found")
    return lot
