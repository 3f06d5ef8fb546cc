"""The number of SQL statements per request does not grow with the number of rows (no N+1)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event

from inventory_service.db.uow import Database
from tests.conftest import Api
from tests.integration.conftest import World, receive


@contextmanager
def counting(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def statements_for(db: Database, call: Callable[[], object]) -> int:
    with counting(db) as seen:
        call()
    return len(seen)


def _grow(api: Api, world: World, start: int, n: int) -> None:
    for i in range(start, start + n):
        receive(api, world, f"L{i}", f"2026-04-{1 + i % 28:02d}", 3)
        receive(api, world, f"L{i}", f"2026-04-{1 + i % 28:02d}", 3, location=world.clinic)
        item = api.post("/api/v1/items", {"name": f"Item {i}"}, role="manager", expect=201).json["id"]
        api.post("/api/v1/par-levels", {"item_id": item, "location_id": world.stockroom, "reorder_point": 5,
                                         "order_up_to": 10}, role="manager", expect=201)
        api.post("/api/v1/stock/consume", {"item_id": world.item, "location_id": world.stockroom, "quantity": 1},
                 role="staff", expect=201)


def test_main_endpoints_issue_a_constant_number_of_statements(api: Api, world: World, db: Database):
    requests = {
        "stock": lambda: api.get(f"/api/v1/stock?location_id={world.stockroom}", expect=200),
        "lots": lambda: api.get("/api/v1/lots?expiring_within_days=60", expect=200),
        "items": lambda: api.get("/api/v1/items", expect=200),
        "movements": lambda: api.get("/api/v1/movements", expect=200),
        "suggestions": lambda: api.get("/api/v1/reorder-suggestions", expect=200),
        "alerts": lambda: api.get("/api/v1/alerts", expect=200),
        "consume": lambda: api.post("/api/v1/stock/consume", {"item_id": world.item, "location_id": world.stockroom,
                                                              "quantity": 1}, role="staff", expect=201),
    }
    _grow(api, world, 0, 2)
    small = {name: statements_for(db, call) for name, call in requests.items()}
    _grow(api, world, 2, 20)
    large = {name: statements_for(db, call) for name, call in requests.items()}
    assert large == small
    # 22 lots at 2 locations, less the 8 stockroom lots that 24 one-unit FEFO consumes emptied.
    assert len(api.get("/api/v1/stock", expect=200).json["items"]) == 44 - 8
