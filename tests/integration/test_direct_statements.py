"""db.direct: prebuilt statements on the driver's cursor behave as SQLAlchemy's own execution does
(bound and returned types, errors, events, autoflush, a lost connection), on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    event,
    exc,
    insert,
    select,
    text,
    update,
)

from inventory_service.db.direct import Direct
from inventory_service.db.engine import make_engine
from inventory_service.db.models import Location
from inventory_service.db.uow import Database

meta = MetaData()
probe = Table(
    "direct_probe", meta,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("day", Date, nullable=True),
    Column("at", DateTime(timezone=True), nullable=True),
    Column("doc", JSON, nullable=True),
    Column("flag", Boolean, nullable=True),
    Column("name", String(40), nullable=True),
    Column("note", String(40), default="from python"),
)
INSERT = Direct(insert(probe).returning(probe.c.id, probe.c.day, probe.c.at, probe.c.doc, probe.c.flag))
SELECT = Direct(select(probe.c.id, probe.c.day, probe.c.at, probe.c.doc, probe.c.flag, probe.c.name)
                .where(probe.c.id == bindparam("pid")))
ROW = {"id": 1, "day": date(2027, 1, 31), "at": datetime(2026, 11, 27, 9, 30, 15, 250000, tzinfo=UTC),
       "doc": {"warnings": ["fefo"], "n": 2}, "flag": True, "name": "lot \u00e9\u00e8 \\x1d", "note": "given"}


@pytest.fixture
def table(db: Database) -> Iterator[Database]:
    meta.create_all(db.engine)
    yield db
    meta.drop_all(db.engine)


def test_values_go_in_and_come_back_as_sqlalchemy_itself_binds_and_reads_them(table: Database) -> None:
    db = table
    with db.unit_of_work() as uow:
        returned = INSERT.run(uow, ROW).one()
        uow.commit()
    expected = (1, ROW["day"], ROW["at"], ROW["doc"], True)
    assert _same_instant(returned, expected)
    with db.unit_of_work(write=False) as uow:
        # SQLAlchemy's own execution reads what the direct INSERT stored...
        by_orm = tuple(uow.session.execute(select(probe.c.id, probe.c.day, probe.c.at, probe.c.doc, probe.c.flag,
                                                  probe.c.name, probe.c.note)).one())
        # ...and the direct SELECT reads it the same way
        direct = SELECT.run(uow, {"pid": 1}).one()
    assert _same_instant(by_orm, (*expected, ROW["name"], "given"))
    assert _same_instant(direct, (*expected, ROW["name"]))
    assert isinstance(direct[1], date) and isinstance(direct[2], datetime) and direct[4] is True


def _same_instant(got: tuple, want: tuple) -> bool:
    """Equal, with datetimes compared as instants (SQLite hands back naive UTC, PostgreSQL aware)."""
    def norm(v: object) -> object:
        if isinstance(v, datetime):
            return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)
        return v
    return tuple(map(norm, got)) == tuple(map(norm, want))


def test_an_update_without_returning_and_a_missing_row(table: Database) -> None:
    db = table
    rename = Direct(update(probe).where(probe.c.id == bindparam("pid")).values(name=bindparam("new")))
    with db.unit_of_work() as uow:
        INSERT.run(uow, ROW)
        assert rename.run(uow, {"pid": 1, "new": "renamed"}) == []
        assert SELECT.run(uow, {"pid": 1}).one()[5] == "renamed"
        assert SELECT.run(uow, {"pid": 2}).first() is None
        with pytest.raises(exc.NoResultFound):
            SELECT.run(uow, {"pid": 2}).one()


def test_database_errors_arrive_as_sqlalchemy_errors_and_the_transaction_can_roll_back(table: Database) -> None:
    db = table
    with db.unit_of_work() as uow:
        INSERT.run(uow, ROW)
        uow.commit()
    with db.unit_of_work() as uow:
        with pytest.raises(exc.IntegrityError):
            INSERT.run(uow, ROW)  # same primary key
        uow.session.rollback()
        assert SELECT.run(uow, {"pid": 1}).one()[0] == 1


def test_statements_it_cannot_run_faithfully_are_refused_when_first_compiled(table: Database) -> None:
    db = table
    with db.unit_of_work() as uow:
        with pytest.raises(ValueError, match="expanding"):
            Direct(select(probe.c.id).where(probe.c.id.in_(bindparam("ids", expanding=True)))).run(uow, {"ids": [1]})
        without_note = {k: v for k, v in ROW.items() if k != "note"}
        with pytest.raises(ValueError, match="'note'"):  # its Python-side default would not be applied
            Direct(insert(probe)).run(uow, without_note)


def test_engine_listeners_see_the_statements(table: Database) -> None:
    db = table
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        with db.unit_of_work() as uow:
            INSERT.run(uow, ROW)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert [s.split()[:3] for s in seen if "direct_probe" in s] == [["INSERT", "INTO", "direct_probe"]]


def test_pending_orm_changes_are_flushed_first_as_session_execute_does(db: Database) -> None:
    by_code = Direct(select(Location.__table__.c.name).where(Location.__table__.c.code == bindparam("c")))
    with db.unit_of_work() as uow:
        uow.session.add(Location(code="SR-9", name="Stockroom 9", kind="stockroom", created_at=datetime.now(UTC)))
        assert by_code.run(uow, {"c": "SR-9"}).scalar() == "Stockroom 9"


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # a server-side disconnect
def test_a_connection_the_server_dropped_is_invalidated_not_handed_out_again(db_url: str, db: Database) -> None:
    own = Database(make_engine(db_url, pool_pre_ping=False, pool_size=1, max_overflow=0))
    try:
        with own.unit_of_work() as uow:
            pid = uow.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with db.engine.connect() as conn:
                assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
            with pytest.raises(exc.DBAPIError) as raised:
                SELECT_LOCATION.run(uow, {"c": "x"})
            assert raised.value.connection_invalidated
        with own.unit_of_work() as uow:  # the pool's only connection was replaced
            assert SELECT_LOCATION.run(uow, {"c": "x"}).first() is None
    finally:
        own.dispose()


SELECT_LOCATION = Direct(select(Location.__table__.c.id).where(Location.__table__.c.code == bindparam("c")))
