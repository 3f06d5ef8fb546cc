"""Appending to and verifying the hash-chained movement ledger."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..db.direct import Direct
from ..db.models import Balance, LedgerHead, Movement, ParLevel
from ..db.uow import UnitOfWork
from ..domain import ledger
from ..domain.errors import Conflict, InsufficientStock
from .context import Context

HEAD_ID = 1


@dataclass
class Head:
    """The ledger head as this transaction holds it: the last movement's id and hash, the count.

    Appends advance it in memory; the row is written once, just before the transaction commits
    (UnitOfWork.before_commit), instead of after every movement. A savepoint around appends must be
    taken with `savepoint()`, which puts the head back if it is rolled back.
    """

    last_id: int
    last_hash: str
    row_count: int
    guards: int = 0  # `savepoint()` blocks open around it


def lock_head(uow: UnitOfWork) -> Head:
    """Take the ledger head for this transaction (once: see UnitOfWork.once).

    PostgreSQL: `SELECT ... FOR UPDATE` makes concurrent writers queue here, so chain links never
    fork. SQLite: the write transaction already holds the database's single write lock
    (BEGIN IMMEDIATE, see db.engine).
    """
    if uow.session.in_nested_transaction() and not uow.remembers("ledger_head"):
        # Taken inside a savepoint, its lock and what is appended after it would go with a rollback
        # while the head in memory stayed ahead: take it before (savepoint() does).
        raise RuntimeError("the ledger head must be locked before a savepoint: use ledger.savepoint()")
    return uow.once("ledger_head", lambda: _select_head(uow))


HEADS = LedgerHead.__table__
#: The head's columns, in Head's order, for a statement that locks the head with other rows.
HEAD_COLUMNS = (HEADS.c.last_id, HEADS.c.last_hash, HEADS.c.row_count)
_LOCK_HEAD = Direct(select(*HEAD_COLUMNS).where(HEADS.c.id == HEAD_ID).with_for_update())
_WRITE_HEAD = Direct(update(HEADS).where(HEADS.c.id == HEAD_ID)
                     .values(last_id=bindparam("h_id"), last_hash=bindparam("h_hash"), row_count=bindparam("h_count")))


def hold_head(uow: UnitOfWork, row: Any) -> Head:
    """Hold the head a caller locked in a statement of its own (HEAD_COLUMNS selected FOR UPDATE,
    with the head's row locked before any other, outside any savepoint): `lock_head` then answers
    from it for the rest of the transaction."""
    if uow.session.in_nested_transaction():
        raise RuntimeError("the ledger head must be locked before a savepoint: use ledger.savepoint()")
    return uow.once("ledger_head", lambda: Head(*row))


def _select_head(uow: UnitOfWork) -> Head:
    row = _LOCK_HEAD.run(uow).first()
    if row is None:
        raise RuntimeError("ledger head row missing: run `inventory-service db upgrade`")
    return Head(*row)


def _write_head(uow: UnitOfWork, heads: list[Head]) -> None:
    head = heads[-1]  # the same object every time (lock_head): its values at commit
    _WRITE_HEAD.run(uow, {"h_id": head.last_id, "h_hash": head.last_hash, "h_count": head.row_count})


@contextmanager
def savepoint(uow: UnitOfWork) -> Iterator[None]:
    """A savepoint around ledger appends: the head is locked before it and, if the block raises,
    the savepoint is rolled back and the head put back as it was, so the chain goes on from the last
    movement that stays."""
    head = lock_head(uow)
    mark = (head.last_id, head.last_hash, head.row_count)
    nested = uow.session.begin_nested()
    head.guards += 1
    try:
        yield
    except BaseException:
        nested.rollback()
        head.last_id, head.last_hash, head.row_count = mark
        raise
    else:
        nested.commit()
    finally:
        head.guards -= 1


@dataclass(frozen=True)
class Change:
    kind: str
    item_id: int
    lot_id: int
    location_id: int
    quantity: int
    reason: str | None = None
    reference: str | None = None


# Built once and run on the driver's cursor (db.direct): these run for every movement.
_BALANCES = Balance.__table__
_PARS = ParLevel.__table__
# Whether the balance's (item, location) has a par level, answered with the balance: the par-level
# check before commit (reorder.check_later) then skips pairs without one, instead of asking.
_HAS_PAR = (select(_PARS.c.id).where(_PARS.c.item_id == bindparam("p_item"),
                                      _PARS.c.location_id == bindparam("p_loc"))
            .exists().label("has_par_level"))
_DECREASE = Direct(
    update(_BALANCES)
    .where(_BALANCES.c.lot_id == bindparam("b_lot"), _BALANCES.c.location_id == bindparam("b_loc"),
           _BALANCES.c.quantity >= bindparam("b_take"))
    .values(quantity=_BALANCES.c.quantity - bindparam("b_take"), updated_at=bindparam("b_now"))
    .returning(_BALANCES.c.quantity, _HAS_PAR)
)


#: The most a balance holds: its column is an `integer` on PostgreSQL. An increase past it is refused
#: (409 `balance_too_large`) instead of overflowing in the database.
MAX_BALANCE = 2**31 - 1


def _increase(insert: Callable[[Any], Any]) -> Any:
    stmt = insert(_BALANCES)
    # Compared as `quantity <= MAX - n`, so the check itself cannot overflow; no row back means refused.
    return (stmt.on_conflict_do_update(index_elements=["lot_id", "location_id"],
                                       set_={"quantity": _BALANCES.c.quantity + stmt.excluded.quantity,
                                             "updated_at": stmt.excluded.updated_at},
                                       where=_BALANCES.c.quantity <= MAX_BALANCE - stmt.excluded.quantity)
            .returning(_BALANCES.c.quantity, _HAS_PAR))


_INCREASE = {"postgresql": Direct(_increase(postgresql.insert)), "sqlite": Direct(_increase(sqlite.insert))}
_INSERT_MOVEMENT = Direct(Movement.__table__.insert())  # type: ignore[attr-defined]


def apply_change(uow: UnitOfWork, ctx: Context, head: Head, change: Change) -> Movement:
    """Change one balance and append its movement. The balance can never go below zero:

    a decrease is one conditional UPDATE (`quantity >= n`), so of two racing writers only as
    many succeed as there are units; the table's CHECK constraint is the last guard.
    """
    s = uow.session
    if s.in_nested_transaction() and not head.guards:
        raise RuntimeError("a savepoint around ledger appends must be taken with ledger.savepoint()")
    if change.quantity < 0:
        result = _DECREASE.run(uow, {"b_lot": change.lot_id, "b_loc": change.location_id,
                                     "b_take": -change.quantity, "b_now": ctx.now,
                                     "p_item": change.item_id, "p_loc": change.location_id}).first()
        if result is None:
            raise InsufficientStock(
                f"lot {change.lot_id} has fewer than {-change.quantity} at location {change.location_id}",
                details={"lot_id": change.lot_id, "location_id": change.location_id, "requested": -change.quantity},
            )
    else:
        # One statement whether or not the lot already has a balance here.
        result = _INCREASE[uow.dialect].run(uow, {
            "lot_id": change.lot_id, "location_id": change.location_id, "item_id": change.item_id,
            "quantity": change.quantity, "updated_at": ctx.now,
            "p_item": change.item_id, "p_loc": change.location_id}).first()
        if result is None:
            raise Conflict(f"lot {change.lot_id} at location {change.location_id} cannot hold {change.quantity} more "
                           f"(at most {MAX_BALANCE})", code="balance_too_large",
                           details={"lot_id": change.lot_id, "location_id": change.location_id,
                                    "requested": change.quantity, "max": MAX_BALANCE})
    balance_after, has_par_level = result
    uow.once(_par_level_key(change.item_id, change.location_id), lambda: bool(has_par_level))

    fields: dict[str, Any] = {
        "id": head.last_id + 1, "kind": change.kind, "item_id": change.item_id, "lot_id": change.lot_id,
        "location_id": change.location_id, "quantity": change.quantity, "balance_after": balance_after,
        "occurred_at": ctx.now, "actor": ctx.actor, "source": ctx.source, "reason": change.reason,
        "reference": change.reference,
    }
    digest = ledger.movement_hash(head.last_hash, fields)
    # Appended with a plain INSERT: the row is never changed afterwards, so the session need not track it.
    _INSERT_MOVEMENT.run(uow, {**fields, "prev_hash": head.last_hash, "hash": digest})
    movement = Movement(**fields, prev_hash=head.last_hash, hash=digest)
    head.last_id = movement.id
    head.last_hash = digest
    head.row_count += 1
    uow.before_commit("ledger_head", head, lambda heads: _write_head(uow, heads))
    return movement


def _par_level_key(item_id: int, location_id: int) -> tuple[str, int, int]:
    return ("par_level_exists", item_id, location_id)


def has_par_level(uow: UnitOfWork, item_id: int, location_id: int) -> bool | None:
    """Whether (item, location) had a par level when this transaction last changed its balance
    (outside a savepoint); None when it has not. A par level created by another transaction since
    is caught by the next check of every par level (reorder.check_all, hourly)."""
    known: bool | None = uow.recall(_par_level_key(item_id, location_id))
    return known


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
