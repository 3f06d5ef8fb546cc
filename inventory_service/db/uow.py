"""Unit of work: one session, one transaction, committed explicitly or rolled back."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from .engine import WRITE

T = TypeVar("T")


class Database:
    """Holds the engine and builds units of work; one per process, passed down."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(engine.execution_options(**WRITE), expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def unit_of_work(self, *, write: bool = True) -> UnitOfWork:
        return UnitOfWork(self._write() if write else self._read())

    def dispose(self) -> None:
        self.engine.dispose()


class UnitOfWork:
    """Context manager around a session. Leaving without `commit()` rolls back."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._once: dict[Hashable, tuple[Any, Any]] = {}

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # close() rolls back whatever was not committed and detaches objects with their loaded
        # state, so callers can still read what they fetched.
        self.session.close()

    def commit(self) -> None:
        self.session.commit()
        self._once.clear()

    def once(self, key: Hashable, load: Callable[[], T]) -> T:
        """`load()` at most once per transaction, for rows this transaction locked (SELECT ... FOR
        UPDATE) or reads that cannot change under it: a batch of scans then locks the ledger head and
        each station once instead of once per scan.

        Remembered only when loaded outside any savepoint (and then also served inside them): rolling
        a savepoint back releases the row locks taken inside it (PostgreSQL), while locks of the outer
        transaction last until it ends.
        """
        root = self.session.get_transaction()
        hit = self._once.get(key)
        if root is not None and hit is not None and hit[0] is root:
            return hit[1]  # type: ignore[no-any-return]
        value = load()
        root = self.session.get_transaction()  # the load may have begun it (autobegin)
        if root is not None and not self.session.in_nested_transaction():
            self._once[key] = (root, value)
        return value

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name
