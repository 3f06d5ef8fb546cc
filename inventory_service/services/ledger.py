"""Appending to and verifying the hash-chained movement ledger."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..db.models import Balance, LedgerHead, Movement
from ..db.uow import UnitOfWork
from ..domain import ledger
from ..domain.errors import InsufficientStock
from .context import Context

HEAD_ID = 1


def lock_head(uow: UnitOfWork) -> LedgerHead:
    """Take the ledger head for this transaction (once: see UnitOfWork.once).

    PostgreSQL: `SELECT ... FOR UPDATE` makes concurrent writers queue here, so chain links never
    fork. SQLite: the write transaction already holds the database's single write lock
    (BEGIN IMMEDIATE, see db.engine).
    """
    return uow.once("ledger_head", lambda: _select_head(uow))


_LOCK_HEAD = (select(LedgerHead).where(LedgerHead.id == HEAD_ID).with_for_update()
              .execution_options(populate_existing=True))


def _select_head(uow: UnitOfWork) -> LedgerHead:
    head = uow.session.scalar(_LOCK_HEAD)
    if head is None:
        raise RuntimeError("ledger head row missing: run `inventory-service db upgrade`")
    return head


@dataclass(frozen=True)
class Change:
    kind: str
    item_id: int
    lot_id: int
    location_id: int
    quantity: int
    reason: str | None = None
    reference: str | None = None


# Built once: these run for every movement, and a statement object reused with bound values skips
# building the construct and its cache key each time.
_BALANCES = Balance.__table__
_DECREASE = (
    update(_BALANCES)
    .where(_BALANCES.c.lot_id == bindparam("b_lot"), _BALANCES.c.location_id == bindparam("b_loc"),
           _BALANCES.c.quantity >= bindparam("b_take"))
    .values(quantity=_BALANCES.c.quantity - bindparam("b_take"), updated_at=bindparam("b_now"))
    .returning(_BALANCES.c.quantity)
)


def _increase(insert: Callable[[Any], Any]) -> Any:
    stmt = insert(_BALANCES)
    return (stmt.on_conflict_do_update(index_elements=["lot_id", "location_id"],
                                       set_={"quantity": _BALANCES.c.quantity + stmt.excluded.quantity,
                                             "updated_at": stmt.excluded.updated_at})
            .returning(_BALANCES.c.quantity))


_INCREASE = {"postgresql": _increase(postgresql.insert), "sqlite": _increase(sqlite.insert)}
_INSERT_MOVEMENT = Movement.__table__.insert()  # type: ignore[attr-defined]


def apply_change(uow: UnitOfWork, ctx: Context, head: LedgerHead, change: Change) -> Movement:
    """Change one balance and append its movement. The balance can never go below zero:

    a decrease is one conditional UPDATE (`quantity >= n`), so of two racing writers only as
    many succeed as there are units; the table's CHECK constraint is the last guard.
    """
    s = uow.session
    if change.quantity < 0:
        result = s.execute(_DECREASE, {"b_lot": change.lot_id, "b_loc": change.location_id,
                                       "b_take": -change.quantity, "b_now": ctx.now}).first()
        if result is None:
            raise InsufficientStock(
                f"lot {change.lot_id} has fewer than {-change.quantity} at location {change.location_id}",
                details={"lot_id": change.lot_id, "location_id": change.location_id, "requested": -change.quantity},
            )
        balance_after = result[0]
    else:
        # One statement whether or not the lot already has a balance here.
        balance_after = s.execute(_INCREASE[uow.dialect], {
            "lot_id": change.lot_id, "location_id": change.location_id, "item_id": change.item_id,
            "quantity": change.quantity, "updated_at": ctx.now}).scalar_one()

    fields: dict[str, Any] = {
        "id": head.last_id + 1, "kind": change.kind, "item_id": change.item_id, "lot_id": change.lot_id,
        "location_id": change.location_id, "quantity": change.quantity, "balance_after": balance_after,
        "occurred_at": ctx.now, "actor": ctx.actor, "source": ctx.source, "reason": change.reason,
        "reference": change.reference,
    }
    digest = ledger.movement_hash(head.last_hash, fields)
    # Appended with a plain INSERT (the row is never changed afterwards, so the session need not track
    # it); the head stays an ORM object so a rolled-back savepoint expires and reloads it.
    s.execute(_INSERT_MOVEMENT, {**fields, "prev_hash": head.last_hash, "hash": digest})
    movement = Movement(**fields, prev_hash=head.last_hash, hash=digest)
    head.last_id = movement.id
    head.last_hash = digest
    head.row_count += 1
    return movement


def _rows(uow: UnitOfWork, batch: int = 5000) -> Iterator[tuple[dict[str, Any], str, str]]:
    cols = [getattr(Movement, name) for name in ledger.HASHED_FIELDS]
    last = 0
    while True:
        q = (select(*cols, Movement.prev_hash, Movement.hash)
             .where(Movement.id > last).order_by(Movement.id).limit(batch))
        rows = uow.session.execute(q).all()
        if not rows:
            return
        for row in rows:
            values = dict(zip(ledger.HASHED_FIELDS, row[:-2], strict=True))
            yield values, row[-2], row[-1]
        last = rows[-1][0]


def verify(uow: UnitOfWork) -> ledger.ChainBreak | None:
    """Walk the whole ledger in id order; return the first break, or None when intact."""
    head = uow.session.get(LedgerHead, HEAD_ID)
    if head is None:
        return ledger.ChainBreak(None, "ledger head row missing")
    return ledger.verify_chain(_rows(uow), head.last_hash, head.row_count)


def movement_to_dict(m: Movement) -> dict[str, Any]:
    return {
        "id": m.id, "kind": m.kind, "item_id": m.item_id, "lot_id": m.lot_id, "location_id": m.location_id,
        "quantity": m.quantity, "balance_after": m.balance_after, "occurred_at": m.occurred_at,
        "actor": m.actor, "source": m.source, "reason": m.reason, "reference": m.reference, "hash": m.hash,
    }
