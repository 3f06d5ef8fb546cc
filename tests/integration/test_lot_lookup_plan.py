"""The scan path's lot lookups stay on the lots key's index on a young PostgreSQL database (no
statistics yet), instead of walking every lot of the same expiry date (stock._FIND_LOT)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert, text

from inventory_service.db.models import Item, Lot
from inventory_service.db.uow import Database
from inventory_service.services import stock

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)

EXPIRY = date(2028, 11, 26)


def plan(db: Database, statement: object, params: dict[str, object]) -> str:
    """EXPLAIN of the statement as prepared (a generic plan, as a prepared statement keeps it)."""
    with db.engine.connect() as conn:
        compiled = statement.compile(dialect=conn.dialect)  # type: ignore[attr-defined]
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute("SET plan_cache_mode = force_generic_plan")
        cursor.execute(f"EXPLAIN {compiled.string}", compiled.construct_params(params))
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.fixture
def lots_of_one_expiry(db: Database) -> Database:
    now = datetime.now(UTC)
    with db.engine.begin() as conn:
        item = conn.execute(insert(Item.__table__).values(name="Syringe", unit="each", created_at=now)
                            .returning(Item.__table__.c.id)).scalar_one()
        conn.execute(insert(Lot.__table__), [{"item_id": item, "lot_number": f"L{i:05d}", "expiry": EXPIRY,
                                              "status": "available", "created_at": now} for i in range(300)])
        conn.execute(text("INSERT INTO item_gtins (gtin, item_id) VALUES ('09501101530003', :i)"), {"i": item})
    return db


def test_the_lot_lookups_use_the_key_index_not_the_expiry_index(lots_of_one_expiry: Database) -> None:
    db = lots_of_one_expiry
    find_lot = plan(db, stock._FIND_LOT.statement, {"l_item": 1, "l_number": "L00007"})
    item_and_lot = plan(db, stock._ITEM_AND_LOT["gtin"].statement, {"code": "09501101530003", "l_number": "L00007"})
    for explained in (find_lot, item_and_lot):
        assert "ix_lots_expiry_id" not in explained, explained
        assert "uq_lots_item_id_lot_number_expiry" in explained, explained
