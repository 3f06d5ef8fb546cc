"""Balances never go negative when writers race for the last units (threads and processes)."""

from __future__ import annotations

import multiprocessing as mp
import threading
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from inventory_service.db.engine import make_engine
from inventory_service.db.models import Balance, Movement
from inventory_service.db.uow import Database
from inventory_service.domain.errors import InsufficientStock
from inventory_service.services import catalog, ledger, stock
from inventory_service.services.context import Context

UNITS = 25
TZ = ZoneInfo("UTC")


def _ctx(actor: str) -> Context:
    return Context(actor=actor, source="station", now=datetime.now(UTC), tz=TZ)


def _seed(db: Database) -> tuple[int, int]:
    with db.unit_of_work() as uow:
        item = catalog.create_item(uow, _ctx("setup"), name="Vaccine")
        loc = catalog.create_location(uow, _ctx("setup"), code="F1", name="Fridge", kind="storage_unit")
        # Two lots so FEFO has to span them under contention.
        stock.receive(uow, _ctx("setup"), item_id=item.id, location_id=loc.id, lot_number="A",
                      expiry=date(2099, 1, 1), quantity=UNITS - 10)
        stock.receive(uow, _ctx("setup"), item_id=item.id, location_id=loc.id, lot_number="B",
                      expiry=date(2098, 1, 1), quantity=10)
        uow.commit()
        return item.id, loc.id


def _drain(db: Database, item_id: int, location_id: int, actor: str) -> int:
    """Consume one unit at a time until stock runs out; return how many succeeded."""
    taken = 0
    while True:
        try:
            with db.unit_of_work() as uow:
                stock.consume(uow, _ctx(actor), item_id=item_id, location_id=location_id, quantity=1)
                uow.commit()
            taken += 1
        except InsufficientStock:
            return taken


def _worker(url: str, item_id: int, location_id: int, actor: str, out: mp.Queue) -> None:  # type: ignore[type-arg]
    db = Database(make_engine(url))
    try:
        out.put(_drain(db, item_id, location_id, actor))
    finally:
        db.dispose()


def _assert_exactly_drained(db: Database, taken: list[int]) -> None:
    assert sum(taken) == UNITS
    with db.unit_of_work(write=False) as uow:
        assert list(uow.session.scalars(select(Balance.quantity))) == [0, 0]
        consumed = uow.session.scalars(select(Movement.quantity).where(Movement.kind == "consume")).all()
        assert len(consumed) == UNITS and all(q == -1 for q in consumed)
        assert ledger.verify(uow) is None


def test_threads_racing_for_the_last_units_take_exactly_what_is_there(db: Database):
    item_id, loc_id = _seed(db)
    results: list[int] = []
    lock = threading.Lock()

    def run(n: int) -> None:
        got = _drain(db, item_id, loc_id, f"thread-{n}")
        with lock:
            results.append(got)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == 4
    _assert_exactly_drained(db, results)


def test_processes_racing_for_the_last_units_take_exactly_what_is_there(db: Database, db_url: str):
    item_id, loc_id = _seed(db)
    spawn = mp.get_context("spawn")
    out: mp.Queue = spawn.Queue()  # type: ignore[type-arg]
    procs = [spawn.Process(target=_worker, args=(db_url, item_id, loc_id, f"proc-{n}", out)) for n in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=180)
        assert p.exitcode == 0
    _assert_exactly_drained(db, [out.get(timeout=5) for _ in procs])
