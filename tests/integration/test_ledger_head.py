"""The ledger head is held in memory for the transaction and written once before it commits;
a savepoint around appends puts it back when rolled back (ledger.savepoint)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import select

from inventory_service.db.models import LedgerHead, Movement
from inventory_service.db.uow import Database
from inventory_service.domain.errors import InsufficientStock
from inventory_service.services import ledger, stock
from inventory_service.services.context import Context
from tests.integration.conftest import World


def _receive(uow, c: Context, w: World, lot: str) -> None:  # type: ignore[no-untyped-def]
    stock.receive(uow, c, item_id=w.item, location_id=w.stockroom, lot_number=lot, expiry=date(2027, 1, 31),
                  quantity=2)


def _receive_then_overdraw(uow, c: Context, w: World) -> None:  # type: ignore[no-untyped-def]
    with ledger.savepoint(uow):
        _receive(uow, c, w, "B")  # appended, then undone with the savepoint
        stock.consume(uow, c, item_id=w.item, location_id=w.stockroom, quantity=99)


def test_a_rolled_back_savepoint_puts_the_head_back_and_the_chain_goes_on(db: Database, world: World,
                                                                          ctx: Callable[..., Context]):
    c = ctx("tester")
    with db.unit_of_work() as uow:
        _receive(uow, c, world, "A")
        with pytest.raises(InsufficientStock):
            _receive_then_overdraw(uow, c, world)
        _receive(uow, c, world, "C")
        uow.commit()
    with db.unit_of_work(write=False) as uow:
        moves = uow.session.execute(select(Movement.id, Movement.reference, Movement.lot_id)
                                    .order_by(Movement.id)).all()
        head = uow.session.get(LedgerHead, ledger.HEAD_ID)
        assert [m.id for m in moves] == [1, 2]
        assert head is not None and (head.last_id, head.row_count) == (2, 2)
        assert ledger.verify(uow) is None


def test_the_head_row_is_written_once_per_transaction(db: Database, world: World, ctx: Callable[..., Context]):
    c = ctx("tester")
    with db.unit_of_work() as uow:
        for lot in ("A", "B", "C"):
            _receive(uow, c, world, lot)
        row = uow.session.connection().execute(select(LedgerHead.__table__.c.last_id)).scalar_one()
        assert row == 0  # not yet: the three appends are in memory
        uow.commit()
    with db.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(LedgerHead.last_id)) == 3
        assert ledger.verify(uow) is None


def test_appends_inside_a_plain_savepoint_are_refused(db: Database, world: World, ctx: Callable[..., Context]):
    c = ctx("tester")
    with db.unit_of_work() as uow:
        nested = uow.session.begin_nested()
        with pytest.raises(RuntimeError, match=r"ledger\.savepoint"):
            _receive(uow, c, world, "A")  # the head would be locked inside the savepoint
        nested.rollback()
        ledger.lock_head(uow)
        nested = uow.session.begin_nested()
        with pytest.raises(RuntimeError, match=r"ledger\.savepoint"):
            _receive(uow, c, world, "A")  # locked outside, but nothing would put it back
        nested.rollback()
