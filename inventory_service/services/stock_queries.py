"""Read side of stock: balances and lots, paginated by keyset."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select

from ..db.models import Balance, Item, Location, Lot
from ..db.uow import UnitOfWork
from ..domain.errors import InvalidRequest, NotFound
from ..domain.lots import LotStatus, effective_status
from .context import Context
from .pagination import Page, clamp_limit, cursor_id, decode_cursor, encode_cursor, page_by_id


def _status_filter(q: Select[Any], status: str, ctx: Context, *, per_location: bool) -> Select[Any]:
    """Filter by the status a reader sees: `expired` includes available lots past their date; `hold`
    is stock held after an excursion (per balance; for lots: held somewhere), which is not available."""
    try:
        wanted = LotStatus(status)
    except ValueError as exc:
        raise InvalidRequest(f"unknown status {status!r}", code="bad_status") from exc
    held = Balance.held.is_(True) if per_location else exists().where(Balance.lot_id == Lot.id, Balance.held.is_(True))
    usable = and_(Lot.status == "available", Lot.expiry >= ctx.today)
    if wanted is LotStatus.AVAILABLE:
        return q.where(usable, ~held) if per_location else q.where(usable)
    if wanted is LotStatus.HOLD:
        return q.where(or_(Lot.status == "hold", and_(usable, held)))
    if wanted is LotStatus.EXPIRED:
        return q.where(or_(Lot.status == "expired", and_(Lot.status == "available", Lot.expiry < ctx.today)))
    return q.where(Lot.status == wanted.value)


def list_stock(uow: UnitOfWork, ctx: Context, *, item_id: int | None, location_id: int | None,
               status: str | None, limit: int | None, cursor: str | None,
               include_empty: bool = False) -> Page:
    """Balances per lot and location (non-zero unless `include_empty`), ordered by balance id, with
    the item's name and the location's code, and the lot's status at that location."""
    q = (select(Balance.id, Balance.item_id, Item.name.label("item_name"), Balance.lot_id, Lot.lot_number,
                Lot.expiry, Balance.location_id, Location.code.label("location_code"), Balance.quantity,
                Lot.status, Balance.held)
         .join(Lot, Lot.id == Balance.lot_id)
         .join(Item, Item.id == Balance.item_id)
         .join(Location, Location.id == Balance.location_id))
    if item_id is not None:
        q = q.where(Balance.item_id == item_id)
    if location_id is not None:
        q = q.where(Balance.location_id == location_id)
    if not include_empty:
        q = q.where(Balance.quantity > 0)
    if status:
        q = _status_filter(q, status, ctx, per_location=True)
    today = ctx.today

    def row(r: Any) -> dict[str, Any]:
        return {"item_id": r.item_id, "item_name": r.item_name, "lot_id": r.lot_id, "lot_number": r.lot_number,
                "expiry": r.expiry, "location_id": r.location_id, "location_code": r.location_code,
                "quantity": r.quantity, "status": effective_status(r.status, r.expiry, today, bool(r.held)).value}

    return page_by_id(uow.session, q, Balance.id, limit=limit, cursor=cursor, to_dict=row, scalars=False)


def lot_to_dict(lot: Lot, ctx: Context, held_at: list[int] | None = None) -> dict[str, Any]:
    """The lot with its lot-wide status; `held_at` lists the locations where its stock is on hold
    after an excursion (the stock elsewhere is not held: see `list_stock` for the status per place)."""
    return {"id": lot.id, "item_id": lot.item_id, "lot_number": lot.lot_number, "expiry": lot.expiry,
            "status": effective_status(lot.status, lot.expiry, ctx.today).value,
            "status_reason": lot.status_reason, "held_at": held_at or [], "created_at": lot.created_at}


def held_locations(uow: UnitOfWork, lot_ids: list[int]) -> dict[int, list[int]]:
    """Per lot, the locations where its stock is held (one query)."""
    out: dict[int, list[int]] = {i: [] for i in lot_ids}
    if lot_ids:
        for lot_id, location_id in uow.session.execute(
                select(Balance.lot_id, Balance.location_id).where(Balance.lot_id.in_(lot_ids), Balance.held.is_(True))
                .order_by(Balance.location_id)):
            out[lot_id].append(location_id)
    return out


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
        q = _status_filter(q, status, ctx, per_location=False)
    if item_id is not None:
        q = q.where(Lot.item_id == item_id)
    key = decode_cursor(cursor, 2)
    if key:
        try:
            k_expiry, k_id = date.fromisoformat(str(key[0])), cursor_id(key[1])
        except ValueError as exc:
            raise InvalidRequest("malformed cursor", code="bad_cursor") from exc
        q = q.where(or_(Lot.expiry > k_expiry, and_(Lot.expiry == k_expiry, Lot.id > k_id)))
    rows = list(uow.session.scalars(q))
    nxt = encode_cursor([rows[limit - 1].expiry.isoformat(), rows[limit - 1].id]) if len(rows) > limit else None
    held = held_locations(uow, [lot.id for lot in rows[:limit]])
    return Page([lot_to_dict(lot, ctx, held[lot.id]) for lot in rows[:limit]], nxt)


def get_lot(uow: UnitOfWork, lot_id: int) -> Lot:
    lot = uow.session.get(Lot, lot_id)
    if lot is None:
        raise NotFound(f"lot {lot_id} not found", code="lot_not_found")
    return lot
