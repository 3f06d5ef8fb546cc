"""Reading the ledger."""

from __future__ import annotations

from sqlalchemy import select

from ..db.models import Movement
from ..db.uow import UnitOfWork
from .ledger import movement_to_dict
from .pagination import Page, page_by_id


def list_movements(uow: UnitOfWork, *, item_id: int | None, location_id: int | None, lot_id: int | None,
                   kind: str | None, limit: int | None, cursor: str | None) -> Page:
    """Movements newest first, filtered by item, location, lot or kind."""
    q = select(Movement)
    for column, value in ((Movement.item_id, item_id), (Movement.location_id, location_id),
                          (Movement.lot_id, lot_id), (Movement.kind, kind)):
        if value is not None:
            q = q.where(column == value)
    return page_by_id(uow.session, q, Movement.id, limit=limit, cursor=cursor, to_dict=movement_to_dict,
                      newest_first=True)
