"""Prebuilt statements run straight on the driver's cursor, for the few that run on every scan.

SQLAlchemy builds an execution context, a result object and its metadata around every statement:
about 0.1 ms of CPU each, as much as the database needs to run a small INSERT, and a received scan
runs about ten of them in a row while the scans behind it wait (bench/scan_latency.py). A `Direct`
statement is compiled by SQLAlchemy once per dialect and set of parameter names, then executed on
the DBAPI cursor of the unit of work's own connection, inside its transaction: the same SQL, the
same bound types (SQLAlchemy's bind and result processors are applied), the same error classes
(`sqlalchemy.exc.IntegrityError`...), and a lost connection is invalidated as SQLAlchemy would.

The contract, checked when a statement is first compiled for a dialect:
- no expanding parameters (`IN` lists): they are rendered per execution, which is what this avoids;
- an INSERT or UPDATE is given a value for every column with a Python-side default or onupdate
  (nothing fills them in here).
Engine `before_cursor_execute`/`after_cursor_execute` listeners are called as usual (statement
counts in tests see these statements), but what a `retval=True` listener returns is not used; `echo`
logging does not show these statements.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert, Update

from .uow import UnitOfWork

Processor = Callable[[Any], Any]


class Rows(list[tuple[Any, ...]]):
    """A statement's rows, as plain tuples."""

    def first(self) -> tuple[Any, ...] | None:
        return self[0] if self else None

    def one(self) -> tuple[Any, ...]:
        if len(self) != 1:
            raise exc.NoResultFound("no row") if not self else exc.MultipleResultsFound("more than one row")
        return self[0]

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalar(self) -> Any:
        """The first column of the first row, None when there is no row."""
        return self[0][0] if self else None


class _Plan:
    """One statement compiled for one dialect and one set of parameter names."""

    def __init__(self, statement: Executable, dialect: Dialect, keys: tuple[str, ...]) -> None:
        _check_defaults(statement, keys)
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        assert isinstance(compiled, SQLCompiler)
        if any(b.expanding for b in compiled.binds.values()) or compiled.literal_execute_params \
                or compiled.post_compile_params:
            raise ValueError("Direct statements cannot have expanding or post-compile parameters")
        self.compiled = compiled
        self.sql = compiled.string
        self.positional = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        self.binds: dict[str, Processor] = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.binds[compiled.escaped_bind_names.get(name, name)] = processor
        columns = getattr(statement, "exported_columns", ())
        self.results: list[Processor | None] = [
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
        self.has_processors = any(p is not None for p in self.results)
        self.returns_rows = bool(self.results)

    def parameters(self, params: Mapping[str, Any]) -> Any:
        values = self.compiled.construct_params(params)
        for name, processor in self.binds.items():
            if name in values:
                values[name] = processor(values[name])
        if self.positional is not None:
            return tuple(values[name] for name in self.positional)
        return values

    def convert(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        if not self.has_processors:
            return tuple(row)
        return tuple(p(v) if p is not None else v for p, v in zip(self.results, row, strict=False))


def _check_defaults(statement: Executable, keys: tuple[str, ...]) -> None:
    if isinstance(statement, Insert | Update):
        table = statement.table
        given = set(keys)
        for column in getattr(table, "c", ()):
            fills = column.default if isinstance(statement, Insert) else column.onupdate
            if fills is not None and column.key not in given:
                raise ValueError(f"Direct {type(statement).__name__.lower()} on {table}: give {column.key!r} a value "
                                 "(its Python-side default is not applied here)")


class Direct:
    """A prebuilt statement (no expanding IN) executed on the DBAPI cursor; see the module docstring."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._plans: dict[tuple[str, tuple[str, ...]], _Plan] = {}

    def run(self, uow: UnitOfWork, params: Mapping[str, Any] | None = None) -> Rows:
        """Execute in `uow`'s transaction (begun if need be); the rows it returns, if any."""
        params = params or {}
        session = uow.session
        if session.autoflush:  # as Session.execute does: pending ORM changes first (a no-op when clean)
            session.flush()
        conn = uow.connection()
        key = (conn.dialect.name, tuple(params))
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = _Plan(self.statement, conn.dialect, key[1])
        return _execute(conn, plan, params)


_CURSOR = "inventory_direct_cursor"


def _execute(conn: Connection, plan: _Plan, params: Mapping[str, Any]) -> Rows:
    pooled = conn.connection
    dbapi_connection = pooled.dbapi_connection
    assert dbapi_connection is not None
    values = plan.parameters(params)
    # One cursor per driver connection, kept with it in the pool (and dropped with it when invalidated).
    cursor = pooled.info.get(_CURSOR)
    if cursor is None:
        cursor = pooled.info[_CURSOR] = dbapi_connection.cursor()
    dispatch = conn.dispatch
    try:
        if dispatch.before_cursor_execute:
            dispatch.before_cursor_execute(conn, cursor, plan.sql, values, None, False)
        cursor.execute(plan.sql, values)
        rows = Rows(plan.convert(r) for r in cursor.fetchall()) if plan.returns_rows else Rows()
        if dispatch.after_cursor_execute:
            dispatch.after_cursor_execute(conn, cursor, plan.sql, values, None, False)
    except conn.dialect.loaded_dbapi.Error as error:
        lost = conn.dialect.is_disconnect(error, dbapi_connection, cursor)
        if lost:
            conn.invalidate(error)  # as SQLAlchemy does: the pool will not hand this connection out again
        raise exc.DBAPIError.instance(plan.sql, values, error, conn.dialect.loaded_dbapi.Error,
                                      connection_invalidated=lost, dialect=conn.dialect) from error
    return rows
