"""Reading the ledger."""

from __future__ import annotations

from sqlalchemy import select

from ..db.models import Movement
from ..db.uow import UnitOfWork
from .ledger import movement_to_dict
from .pagination import Page, clamp_limit, decode_cursor, encode_cursor


def list_movements(uow: UnitOfWork, *, item_id: int | None, location_id: int | None, lot_id: int | None,
                   kind: str | None, limit: int | None, cursor: str | None) -> Page:
    """Movements newest first, filtered by item, location, lot or kind."""
    limit = clamp_limit(limit)
    q = select(Movement).order_by(Movement.id.desc()).limit(limit + 1)
    for column, value in ((Movement.item_id, item_id), (Movement.location_id, location_id),
                          (Movement.lot_id, lot_id), (Movement.kind, kind)):
        if value is not None:
            q = q.where(column == value)
    key = decode_cursor(cursor, 1)
    if key:
        q = q.where(Movement.id < int(key[0]))
    rows = list(uow.session.scalars(q))
    nxt = encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
    return Page([movement_to_dict(m) for m in rows[:limit]], nxt)
