"""Configuration history: one append-only row per changed field of an item, plan or routing rule.

Whoever changes configuration through a service records it here in the same transaction, so the
history and the change commit or roll back together. Values are stored as JSON: dates and instants as
ISO 8601 strings, lists and dicts as they are. A record's creation is one row, field `created`, with
the whole record as `new`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from ..db.models import ConfigChange
from ..db.uow import UnitOfWork
from .context import Context
from .pagination import Page, page_by_id

ENTITIES = ("item", "maintenance_plan", "routing_rule")
CREATED = "created"


def jsonable(value: Any) -> Any:
    """`value` as stored in a history row: dates as ISO strings, containers converted within."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def _row(ctx: Context, entity: str, entity_id: str | int, field: str, old: Any, new: Any,
         reason: str | None) -> ConfigChange:
    if entity not in ENTITIES:
        raise ValueError(f"unknown history entity {entity!r}")
    return ConfigChange(entity=entity, entity_id=str(entity_id), field=field, old=old, new=new,
                        changed_by=ctx.actor, changed_at=ctx.now, reason=reason)


def record_created(uow: UnitOfWork, ctx: Context, entity: str, entity_id: str | int, after: Mapping[str, Any],
                   reason: str | None = None) -> ConfigChange:
    """Record that the record was created as `after`."""
    row = _row(ctx, entity, entity_id, CREATED, None, jsonable(after), reason)
    uow.session.add(row)
    return row


def record(uow: UnitOfWork, ctx: Context, entity: str, entity_id: str | int, before: Mapping[str, Any],
           after: Mapping[str, Any], reason: str | None = None) -> list[ConfigChange]:
    """One row per field whose JSON value differs between `before` and `after` (keys of either;
    a key missing on one side counts as null), in the order of `after`'s keys. Nothing changed:
    no row."""
    rows = []
    for field in [*after, *(k for k in before if k not in after)]:
        old, new = jsonable(before.get(field)), jsonable(after.get(field))
        if old != new:
            rows.append(_row(ctx, entity, entity_id, field, old, new, reason))
    uow.session.add_all(rows)
    return rows


def change_to_dict(c: ConfigChange) -> dict[str, Any]:
    return {"id": c.id, "entity": c.entity, "entity_id": c.entity_id, "field": c.field, "old": c.old, "new": c.new,
            "changed_by": c.changed_by, "changed_at": c.changed_at, "reason": c.reason}


def changes(uow: UnitOfWork, entity: str, entity_id: str | int, *, limit: int | None = None,
            cursor: str | None = None) -> Page:
    """The record's history, oldest first (keyset pages over the (entity, entity_id, id) index)."""
    q = select(ConfigChange).where(ConfigChange.entity == entity, ConfigChange.entity_id == str(entity_id))
    return page_by_id(uow.session, q, ConfigChange.id, limit=limit, cursor=cursor, to_dict=change_to_dict)
