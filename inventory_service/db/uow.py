"""Unit of work: one session, one transaction, committed explicitly or rolled back."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
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
        self._pending: dict[Hashable, tuple[Callable[[list[Any]], None], list[Any]]] = {}
        self._connection: tuple[Any, Connection] | None = None

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # close() rolls back whatever was not committed and detaches objects with their loaded
        # state, so callers can still read what they fetched.
        self.session.close()

    def commit(self) -> None:
        """Run the work deferred with `before_commit`, then commit: all in one transaction."""
        self.settle()
        self.session.commit()
        self._once.clear()

    def before_commit(self, key: Hashable, item: T, run: Callable[[list[T]], None]) -> None:
        """Collect `item` under `key` and call `run(items)` once, just before this transaction
        commits, with every item collected (the `run` given last is the one called). Work that only
        depends on the transaction's final state, such as re-checking the par levels a batch of
        movements touched, then runs once and set-based instead of after every change.

        Collected items survive a savepoint rollback, so `run` must be safe to call for changes that
        were rolled back (a recomputation from what is stored is).
        """
        items = self._pending[key][1] if key in self._pending else []
        items.append(item)
        self._pending[key] = (run, items)

    def settle(self) -> None:
        """Run the deferred work now; readers of what it maintains call this first. Work deferred
        while it runs runs too."""
        if self.session.in_nested_transaction():
            # What runs here (the ledger head's write, say) would go with a savepoint's rollback
            # while no longer pending: it belongs to the transaction itself.
            raise RuntimeError("deferred work cannot run inside a savepoint")
        while self._pending:
            key = next(iter(self._pending))
            run, items = self._pending.pop(key)
            run(items)

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

    def connection(self) -> Connection:
        """The session's connection for the current transaction (begun if need be); remembered for
        the transaction, since statements on the scan path ask for it several times per scan."""
        root = self.session.get_transaction()
        held = self._connection
        if root is not None and held is not None and held[0] is root:
            return held[1]
        conn = self.session.connection()
        self._connection = (self.session.get_transaction(), conn)
        return conn

    def remembers(self, key: Hashable) -> bool:
        """Whether `once(key, ...)` would answer from memory in the current transaction."""
        root = self.session.get_transaction()
        hit = self._once.get(key)
        return root is not None and hit is not None and hit[0] is root

    def recall(self, key: Hashable, default: Any = None) -> Any:
        """What `once(key, ...)` remembers in the current transaction, else `default` (nothing loaded)."""
        return self._once[key][1] if self.remembers(key) else default

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name
