"""UnitOfWork.once: a row locked by the outer transaction is loaded once; savepoints and new
transactions load again (a rolled-back savepoint releases its locks)."""

from __future__ import annotations

from sqlalchemy import select, text

from inventory_service.db.models import LedgerHead
from inventory_service.db.uow import Database


def test_once_remembers_outer_transaction_loads_only(db: Database):
    loads: list[str] = []

    def load(tag: str):
        def run() -> LedgerHead | None:
            loads.append(tag)
            return db_uow.session.scalar(select(LedgerHead).with_for_update())
        return run

    with db.unit_of_work() as db_uow:
        head = db_uow.once("head", load("outer"))
        assert db_uow.once("head", load("again")) is head
        savepoint = db_uow.session.begin_nested()
        assert db_uow.once("head", load("inside")) is head  # the outer lock still holds
        assert db_uow.once("other", load("first inside")) is not None
        savepoint.rollback()
        db_uow.once("other", load("after rollback"))  # not remembered from inside the savepoint
        db_uow.commit()
        db_uow.session.execute(text("SELECT 1"))  # a new transaction begins
        db_uow.once("head", load("next transaction"))
    assert loads == ["outer", "first inside", "after rollback", "next transaction"]


def test_connection_is_the_sessions_own_and_remembered_only_for_its_transaction(db: Database) -> None:
    with db.unit_of_work() as uow:
        first = uow.connection()
        assert first is uow.session.connection()
        assert uow.connection() is first
        uow.commit()
        second = uow.connection()  # a new transaction
        assert second is uow.session.connection()
        assert uow.session.get_transaction() is not None


def test_recall_answers_what_once_remembers_in_this_transaction_only(db: Database) -> None:
    with db.unit_of_work() as uow:
        uow.session.execute(text("SELECT 1"))  # in a transaction, as the scan path is
        assert uow.recall("k", "nothing") == "nothing"
        uow.once("k", lambda: 42)
        assert uow.recall("k") == 42
        uow.commit()
        uow.session.execute(text("SELECT 1"))  # a new transaction
        assert uow.recall("k") is None
