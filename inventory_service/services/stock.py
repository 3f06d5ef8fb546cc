"""Stock movements: receive, consume (FEFO), transfer, adjust, count, dispose.

Every use case locks the ledger head first (one writer at a time on the chain), changes balances
with conditional updates, appends hash-chained movements, and has the par levels it touched
re-checked before the transaction commits (reorder.check_later), so a reorder alert row commits or
rolls back with the movements that caused it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, bindparam, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from ..db.direct import Direct
from ..db.models import Balance, Item, Lot, Movement, RecallLot
from ..db.uow import UnitOfWork
from ..domain import fefo
from ..domain.errors import InvalidRequest, LotExpired, LotUnavailable, NotFound
from ..domain.lots import BLOCKED, LotStatus, effective_status, is_expired
from . import catalog, holds, reorder
from .catalog import ItemRef, get_item, get_location
from .context import Context
from .ledger import Change, apply_change, lock_head


def _lot(uow: UnitOfWork, lot_id: int, item_id: int | None = None) -> Lot:
    lot = uow.session.get(Lot, lot_id)
    if lot is None or (item_id is not None and lot.item_id != item_id):
        raise NotFound(f"lot {lot_id} not found" + (f" for item {item_id}" if item_id else ""), code="lot_not_found")
    return lot


def _positive(quantity: int) -> None:
    if quantity <= 0:
        raise InvalidRequest("quantity must be a positive whole number", code="bad_quantity")


def _require_reason(reason: str | None) -> str:
    if not reason or not reason.strip():
        raise InvalidRequest("a reason is required", code="reason_required")
    return reason.strip()


def assert_consumable(lot: Lot, today: date, held: bool = False) -> None:
    """Expired, held, quarantined, recalled and discarded lots cannot be used (ARCHITECTURE §5);
    `held`: the stock at the place it would be used from is on hold after an excursion."""
    status = effective_status(lot.status, lot.expiry, today, held)
    if status is LotStatus.EXPIRED:
        raise LotExpired(f"Lot {lot.lot_number} expired on {lot.expiry.isoformat()} – do not use it; set it aside "
                         "for the manager",
                         details={"lot_id": lot.id, "expiry": lot.expiry.isoformat()})
    if status is LotStatus.HOLD:
        raise LotUnavailable(f"Lot {lot.lot_number} is on hold here after a temperature excursion – do not use it "
                             "until a manager decides", details={"lot_id": lot.id, "status": "hold"})
    if status in BLOCKED:
        raise LotUnavailable(f"Lot {lot.lot_number} is {status.value} – do not use it",
                             details={"lot_id": lot.id, "status": status.value})


def assert_receivable(lot_number: str, expiry: date, today: date) -> None:
    """A lot past its expiry is not received into stock (it could only be used by mistake): the person
    receiving is told so, and a manager may receive it into quarantine instead (e.g. for return)."""
    if is_expired(expiry, today):
        raise LotExpired(f"Lot {lot_number} expired on {expiry.isoformat()} – do not receive it into stock; set it "
                         "aside for the manager (a manager can receive it into quarantine for return)",
                         details={"expiry": expiry.isoformat()})


def find_or_create_lot(uow: UnitOfWork, ctx: Context, item_id: int, lot_number: str, expiry: date) -> Lot:
    """The lot (item, lot number, expiry), created on first sight (see find_or_create_lot_id)."""
    lot = uow.session.get(Lot, find_or_create_lot_id(uow, ctx, item_id, lot_number, expiry))
    assert lot is not None  # written in this transaction or found in it
    return lot


_LOTS = Lot.__table__
_RECALL_LOTS = RecallLot.__table__
_ITEMS = Item.__table__
_LOT_ID = (select(_LOTS.c.id)
           .where(_LOTS.c.item_id == bindparam("l_item"), _LOTS.c.lot_number == bindparam("l_number"),
                  _LOTS.c.expiry == bindparam("l_expiry")).scalar_subquery())


def _recall_naming(item_id: Any) -> Any:
    """An open recall naming the lot number bound as `l_number` for `item_id` (a new lot starts recalled)."""
    return (select(_RECALL_LOTS.c.recall_id)
            .where(_RECALL_LOTS.c.item_id == item_id, _RECALL_LOTS.c.lot_number == bindparam("l_number"))
            .limit(1).scalar_subquery())


# The lots of that item and number with their expiry dates, the one wanted picked in Python, and in
# the same round trip a recall naming the number. Why not `expiry = :l_expiry` in SQL: without
# statistics (a young database, before autovacuum's first ANALYZE) PostgreSQL may plan that lookup on
# the (expiry, id) index, and a prepared statement keeps the plan, so each lookup went through every
# lot of that expiry date: 0.7 ms of server time per scan after 1,000 lots, 2.2 ms after 6,000
# (measured, all lots of one expiry). Here only the (item_id, lot_number, expiry) key's index fits.
_ONE_ROW = select(literal(1).label("one")).subquery("one_row")
_FIND_LOT = Direct(select(_LOTS.c.id, _LOTS.c.expiry, _recall_naming(bindparam("l_item")))
                   .select_from(_ONE_ROW.outerjoin(_LOTS, and_(_LOTS.c.item_id == bindparam("l_item"),
                                                                _LOTS.c.lot_number == bindparam("l_number")))))
_CREATE_LOT = {name: Direct(insert(_LOTS).on_conflict_do_nothing(index_elements=["item_id", "lot_number", "expiry"])
                            .returning(_LOTS.c.id))
               for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))}


@dataclass(frozen=True)
class LotLookup:
    """What _FIND_LOT answers: the lot's id (None: not on record) and a recall naming its number."""

    lot_id: int | None
    recall_id: int | None


def _lookup(rows: list[tuple[Any, ...]], expiry: date) -> LotLookup:
    """From rows (lot id or None, its expiry, recall id): the lot of that expiry, if any."""
    lot_id = next((row[0] for row in rows if row[0] is not None and row[1] == expiry), None)
    return LotLookup(lot_id, rows[0][2] if rows else None)


# The item by its code and, in the same round trip, its lots of that number and a recall naming it
# (_FIND_LOT's question, for the item found): the first received scan of a code in a transaction.
_ITEM_AND_LOT = {kind: Direct(
    catalog.item_by_code(kind, _LOTS.c.id, _LOTS.c.expiry, _recall_naming(_ITEMS.c.id))
    .outerjoin(_LOTS, and_(_LOTS.c.item_id == _ITEMS.c.id, _LOTS.c.lot_number == bindparam("l_number"))))
    for kind in catalog.CODE_TABLES}


def find_item_and_lot(uow: UnitOfWork, *, gtin: str | None, hibc_code: str | None, lot_number: str,
                      expiry: date) -> tuple[ItemRef | None, LotLookup | None]:
    """catalog.find_item and the lookup find_or_create_lot_id starts with, in one statement: the
    item a label names (None when unmapped) and, for it, the lot (lot_number, expiry)."""
    code = catalog.code_of(gtin, hibc_code)
    if code is None:
        return None, None
    rows = _ITEM_AND_LOT[code[0]].run(uow, {"code": code[1], "l_number": lot_number})
    if not rows:
        return None, None
    return ItemRef(rows[0][0], rows[0][1]), _lookup([row[2:] for row in rows], expiry)


def find_or_create_lot_id(uow: UnitOfWork, ctx: Context, item_id: int, lot_number: str, expiry: date,
                          known: LotLookup | None = None) -> int:
    """Id of the lot (item, lot number, expiry), created on first sight. A new lot named by an open
    recall starts recalled. One statement for a known lot, two for a new one, and no ORM objects:
    every received scan comes through here. `known` is that first statement's answer when the caller
    already has it (find_item_and_lot, in this transaction)."""
    key = {"l_item": item_id, "l_number": lot_number, "l_expiry": expiry}
    if known is None:
        known = _lookup(_FIND_LOT.run(uow, {"l_item": item_id, "l_number": lot_number}), expiry)
    lot_id, recalled = known.lot_id, known.recall_id
    if lot_id is not None:
        return int(lot_id)
    created = _CREATE_LOT[uow.dialect].run(uow, {
        "item_id": item_id, "lot_number": lot_number, "expiry": expiry, "created_at": ctx.now,
        "status": LotStatus.RECALLED.value if recalled else LotStatus.AVAILABLE.value,
        "status_reason": f"recall {recalled}" if recalled else None}).scalar()
    if created is None:  # another transaction created it since the first statement
        created = uow.session.execute(select(_LOT_ID), key).scalar_one()
    return int(created)


def receive(uow: UnitOfWork, ctx: Context, *, item_id: int, location_id: int, lot_number: str, expiry: date,
            quantity: int, reference: str | None = None, quarantine: bool = False,
            reason: str | None = None) -> tuple[Lot, list[Movement]]:
    """Receive into a lot, created on first sight. A lot past its expiry is refused (409 lot_expired)
    unless it is received into quarantine (`quarantine`, with a `reason`; the caller checks that a
    manager asks): the lot is then quarantined, so it can be returned or disposed of, never used."""
    _positive(quantity)
    if not lot_number.strip():
        raise InvalidRequest("lot_number must not be empty", code="bad_lot_number")
    why = _require_reason(reason) if quarantine else None
    if not quarantine:
        assert_receivable(lot_number, expiry, ctx.today)
    elif not is_expired(expiry, ctx.today):
        raise InvalidRequest("receiving into quarantine is for expired stock; receive this lot as usual",
                             code="not_expired")
    lock_head(uow)
    get_item(uow, item_id)
    get_location(uow, location_id)
    lot = find_or_create_lot(uow, ctx, item_id, lot_number, expiry)
    if why is not None and lot.status == LotStatus.AVAILABLE.value:
        lot.status, lot.status_reason = LotStatus.QUARANTINE.value, f"received expired into quarantine: {why}"
        uow.session.flush()
    return lot, receive_into(uow, ctx, item_id=item_id, location_id=location_id, lot_id=lot.id, quantity=quantity,
                             reference=reference, reason=f"into quarantine: {why}" if why else None)


def receive_into(uow: UnitOfWork, ctx: Context, *, item_id: int, location_id: int, lot_id: int, quantity: int,
                 reference: str | None = None, reason: str | None = None) -> list[Movement]:
    """Receive into an existing lot of `item_id`; the caller has made sure the lot and the location
    exist and that the lot may be received (the station path: its location and the lot it just found
    or created, checked with assert_receivable)."""
    _positive(quantity)
    head = lock_head(uow)
    m = apply_change(uow, ctx, head, Change("receive", item_id, lot_id, location_id, quantity, reason=reason,
                                            reference=reference))
    reorder.check_later(uow, ctx, item_id, location_id)
    return [m]


def consume(uow: UnitOfWork, ctx: Context, *, item_id: int, location_id: int, quantity: int,
            lot_id: int | None = None, reason: str | None = None, reference: str | None = None) -> list[Movement]:
    """Consume a named lot, or FEFO across usable lots when none is named (may span lots)."""
    _positive(quantity)
    head = lock_head(uow)
    get_item(uow, item_id)
    get_location(uow, location_id)
    if lot_id is not None:
        assert_consumable(_lot(uow, lot_id, item_id), ctx.today, holds.held_at(uow, lot_id, location_id))
        plan = [fefo.Allocation(lot_id, quantity)]
    else:
        plan = fefo.pick(lot_balances(uow, item_id, location_id), quantity, ctx.today)
    movements = [
        apply_change(uow, ctx, head, Change("consume", item_id, a.lot_id, location_id, -a.quantity, reason, reference))
        for a in plan
    ]
    reorder.check_later(uow, ctx, item_id, location_id)
    return movements


def lot_balances(uow: UnitOfWork, item_id: int, location_id: int) -> list[fefo.LotBalance]:
    """The item's lots with stock at the location, with whether the stock there is held."""
    rows = uow.session.execute(
        select(Lot.id, Lot.expiry, Lot.status, Balance.quantity, Balance.held)
        .join(Balance, Balance.lot_id == Lot.id)
        .where(Balance.item_id == item_id, Balance.location_id == location_id, Balance.quantity > 0)
    ).all()
    return [fefo.LotBalance(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]


def transfer(uow: UnitOfWork, ctx: Context, *, item_id: int, location_id: int, to_location_id: int,
             quantity: int, lot_id: int | None = None, reason: str | None = None,
             reference: str | None = None) -> list[Movement]:
    """Move stock between locations: an out and an in movement per lot, sharing a reference.

    A named lot may be moved whatever its status (e.g. held vaccine into a quarantine box): stock on
    hold after an excursion stays on hold where it goes (services.holds.follow_transfer). Without a
    lot, usable lots are taken FEFO.
    """
    _positive(quantity)
    if to_location_id == location_id:
        raise InvalidRequest("source and destination are the same location", code="same_location")
    head = lock_head(uow)
    get_item(uow, item_id)
    get_location(uow, location_id)
    get_location(uow, to_location_id)
    if lot_id is not None:
        _lot(uow, lot_id, item_id)
        plan = [fefo.Allocation(lot_id, quantity)]
    else:
        plan = fefo.pick(lot_balances(uow, item_id, location_id), quantity, ctx.today)
    ref = reference or f"transfer:{head.last_id + 1}"
    movements: list[Movement] = []
    for a in plan:
        for loc, delta in ((location_id, -a.quantity), (to_location_id, a.quantity)):
            change = Change("transfer", item_id, a.lot_id, loc, delta, reason, ref)
            movements.append(apply_change(uow, ctx, head, change))
        if lot_id is not None and holds.held_at(uow, a.lot_id, location_id):
            holds.follow_transfer(uow, ctx, a.lot_id, location_id, to_location_id, a.quantity)
    reorder.check_later(uow, ctx, item_id, location_id)
    reorder.check_later(uow, ctx, item_id, to_location_id)
    return movements


def adjust(uow: UnitOfWork, ctx: Context, *, item_id: int, location_id: int, lot_id: int, quantity: int,
           reason: str | None) -> list[Movement]:
    """A signed correction (found, damaged, data-entry error). A reason is required."""
    why = _require_reason(reason)
    if quantity == 0:
        raise InvalidRequest("an adjustment must change the quantity", code="bad_quantity")
    head = lock_head(uow)
    get_location(uow, location_id)
    lot = _lot(uow, lot_id, item_id)
    m = apply_change(uow, ctx, head, Change("adjust", lot.item_id, lot.id, location_id, quantity, why))
    reorder.check_later(uow, ctx, item_id, location_id)
    return [m]


def count(uow: UnitOfWork, ctx: Context, *, item_id: int, location_id: int, lot_id: int,
          counted_quantity: int, reason: str | None = None) -> tuple[list[Movement], dict[str, Any]]:
    """Record a physical count. The movement carries the variance (counted - on record), also 0."""
    if counted_quantity < 0:
        raise InvalidRequest("counted_quantity cannot be negative", code="bad_quantity")
    head = lock_head(uow)
    get_location(uow, location_id)
    lot = _lot(uow, lot_id, item_id)
    on_record = uow.session.scalar(
        select(Balance.quantity).where(Balance.lot_id == lot.id, Balance.location_id == location_id)
    ) or 0
    variance = counted_quantity - on_record
    m = apply_change(uow, ctx, head, Change("count", lot.item_id, lot.id, location_id, variance,
                                            reason or f"counted {counted_quantity}, on record {on_record}"))
    reorder.check_later(uow, ctx, item_id, location_id)
    return [m], {"counted_quantity": counted_quantity, "on_record": on_record, "variance": variance}


def dispose(uow: UnitOfWork, ctx: Context, *, item_id: int, location_id: int, lot_id: int, quantity: int,
            reason: str | None) -> list[Movement]:
    """Remove stock from use for good (expired, damaged, recalled, excursion). Any status may be disposed."""
    why = _require_reason(reason)
    _positive(quantity)
    head = lock_head(uow)
    get_location(uow, location_id)
    lot = _lot(uow, lot_id, item_id)
    m = apply_change(uow, ctx, head, Change("dispose", lot.item_id, lot.id, location_id, -quantity, why))
    reorder.check_later(uow, ctx, item_id, location_id)
    return [m]
