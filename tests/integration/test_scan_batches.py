"""A batch of scans from the scanner ingest: one transaction, no savepoint per scan on the first
pass, the par levels checked once, and a refused action sending the batch round again with
savepoints (scans.record, ScannerIngest.record_many)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select, text

from devices.serial import ScanFrame, ScannerConfig
from inventory_service.db.models import Lot, Movement
from inventory_service.db.uow import Database
from inventory_service.domain.errors import NotFound
from inventory_service.ingest.scanners import ScannerIngest, consumer_database
from inventory_service.services import ledger
from inventory_service.services import stations as station_service
from tests.conftest import Api
from tests.integration.conftest import World
from tests.support.clock import FrozenClock
from tests.support.wait import wait_for

GTIN = "0109501101530003"


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def stations(db: Database, clock: FrozenClock) -> ScannerIngest:
    configs = (ScannerConfig(id="sr-1", url="loop://", location="SR"),
               ScannerConfig(id="ex-1", url="loop://", location="EX1"))
    ingest = ScannerIngest(configs, db, clock, "America/New_York",
                           reader_factory=lambda *a, **kw: type("NoReader", (), {"start": lambda self: None,
                                                                                  "stop": lambda self: None})())
    ingest.start()
    return ingest


def frame(station: str, text: str) -> ScanFrame:
    return ScanFrame(station, text, datetime.now(UTC), time.monotonic())


def label(lot: str, expiry: str | None = "270131") -> str:
    return "]d2" + GTIN + (f"17{expiry}" if expiry else "") + "10" + lot


def test_a_batch_of_receive_scans_runs_without_savepoints_and_checks_par_levels_once(
        db: Database, clock: FrozenClock, api: Api, world: World):
    api.post("/api/v1/par-levels", {"item_id": world.item, "location_id": world.stockroom, "reorder_point": 50,
                                     "order_up_to": 80}, role="manager", expect=201)
    ingest = stations(db, clock)
    try:
        frames = [frame("sr-1" if i % 2 else "ex-1", label(f"B{i}")) for i in range(10)]
        with statements(db) as seen:
            ids = ingest.record_many(frames)
        assert len(ids) == 10
    finally:
        ingest.stop()
    assert not [s for s in seen if "SAVEPOINT" in s.upper()]
    # One look at the par levels of the pairs the batch touched, not one per movement.
    # (the pairs, their figures, the par level rows; the balance statements only ask whether one exists)
    assert len([s for s in seen if "FROM par_levels" in s and s.startswith("SELECT")]) == 3
    # Per scan: the lot (find, create), the balance, the movement, the scan row; plus per batch the
    # head (lock, write), the stations, the item, the par levels and their reorder alert.
    assert len(seen) <= 5 * 10 + 16, seen
    assert len([s for s in seen if "FROM scanners" in s]) == 1
    assert len([s for s in seen if "ledger_head" in s]) == 2
    rows = api.get("/api/v1/scans?after_id=0&limit=50", expect=200).json["items"]
    assert [r["outcome"] for r in rows] == ["applied"] * 10
    # The deferred check still ran in the batch's transaction: five units are at or below 50.
    alerts = api.get("/api/v1/alerts?kind=reorder", expect=200).json["items"]
    assert [a["details"]["usable_quantity"] for a in alerts] == [5]
    with db.unit_of_work(write=False) as uow:
        assert ledger.verify(uow) is None


def test_a_refused_action_sends_the_batch_round_again_with_savepoints(db: Database, clock: FrozenClock, api: Api,
                                                                     world: World):
    ingest = stations(db, clock)
    try:
        frames = [frame("sr-1", label("R1")), frame("sr-1", label("NEVER-SEEN", expiry=None)),
                  frame("ex-1", label("R2")), frame("sr-1", label("R1"))]
        with statements(db) as seen:
            ids = ingest.record_many(frames)
    finally:
        ingest.stop()
    assert any("SAVEPOINT" in s.upper() for s in seen)  # the second pass
    rows = api.get("/api/v1/scans?after_id=0&limit=50", expect=200).json["items"]
    assert [r["id"] for r in rows] == ids
    assert [(r["outcome"], r["reason"]) for r in rows] == [("applied", None), ("rejected", "missing_expiry"),
                                                           ("applied", None), ("applied", None)]
    # Nothing of the first pass survived: each lot once, one movement per applied scan.
    with db.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Lot)) == 2
        assert uow.session.scalar(select(func.count()).select_from(Movement)) == 3
        assert ledger.verify(uow) is None
    stock = api.get(f"/api/v1/stock?location_id={world.stockroom}", expect=200).json["items"]
    assert [(r["lot_number"], r["quantity"]) for r in stock] == [("R1", 2)]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # a server-side disconnect
def test_the_consumer_records_through_a_dropped_connection(db_url: str, db: Database, clock: FrozenClock, api: Api,
                                                           world: World):
    """The scanner ingest's engine has no liveness ping (consumer_database): a connection the server
    dropped fails one transaction, which is retried on a fresh connection."""
    consumer_db = consumer_database(db_url)
    recorded: list[int] = []
    ingest = ScannerIngest((ScannerConfig(id="sr-1", url="loop://", location="SR"),), consumer_db, clock,
                           "America/New_York", on_recorded=lambda scan_id, frame: recorded.append(scan_id),
                           reader_factory=lambda *a, **kw: type("NoReader", (), {"start": lambda self: None,
                                                                                  "stop": lambda self: None})())
    ingest.start()  # registers the station: the consumer's pool now holds one idle connection
    try:
        with consumer_db.engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
        ingest.submit(frame("sr-1", label("AFTER-DROP")))
        wait_for(lambda: recorded, 20, "the frame recorded on a new connection")
    finally:
        ingest.stop()
        consumer_db.dispose()
    rows = api.get("/api/v1/scans?after_id=0&limit=50", expect=200).json["items"]
    assert [(r["id"], r["outcome"], r["lot_number"]) for r in rows] == [(recorded[0], "applied", "AFTER-DROP")]


def test_a_one_frame_transaction_locks_the_ledger_head_and_its_station_in_one_statement(
        db: Database, clock: FrozenClock, api: Api, world: World):
    ingest = stations(db, clock)
    with statements(db) as seen:
        ingest.record_many([frame("sr-1", label("ONE"))])
    ingest.stop()
    heads = [s for s in seen if "FROM ledger_head" in s]
    assert len(heads) == 1 and "scanners" in heads[0]  # the head is not read again on its own
    assert not [s for s in seen if s.startswith("SELECT") and "FROM scanners" in s]
    if db.dialect == "postgresql":
        assert heads[0].endswith("FOR UPDATE")
    rows = api.get("/api/v1/scans?after_id=0&limit=50", expect=200).json["items"]
    assert [(r["outcome"], r["lot_number"]) for r in rows] == [("applied", "ONE")]
    with db.unit_of_work(write=False) as uow:
        assert ledger.verify(uow) is None


def test_an_unknown_station_is_still_refused_when_locked_with_the_head(db: Database, world: World):
    with db.unit_of_work() as uow, pytest.raises(NotFound):
        station_service.lock_with_ledger_head(uow, ["no-such-station"])


def test_the_first_receive_of_a_code_finds_the_item_and_its_lot_in_one_statement(
        db: Database, clock: FrozenClock, api: Api, world: World):
    """A recall naming the lot number (answered by that same statement) makes the new lot recalled;
    the next transaction's scan of the same lot reuses it."""
    api.post("/api/v1/recalls", {"item_id": world.item, "lot_numbers": ["RC-1"], "reason": "x"}, role="manager",
             expect=201)
    ingest = stations(db, clock)
    with statements(db) as seen:
        ingest.record_many([frame("sr-1", label("RC-1"))])
    ingest.record_many([frame("sr-1", label("RC-1"))])
    ingest.stop()
    lookups = [s for s in seen if "item_gtins" in s]
    assert len(lookups) == 1 and "JOIN lots" in lookups[0] and "recall_lots" in lookups[0]
    assert not [s for s in seen if "one_row" in s]  # no separate lot lookup
    with db.unit_of_work(write=False) as uow:
        lots = uow.session.execute(select(Lot.lot_number, Lot.status)).all()
        assert lots == [("RC-1", "recalled")]
        assert uow.session.scalar(select(func.count()).select_from(Movement)) == 2
    rows = api.get("/api/v1/scans?after_id=0&limit=50", expect=200).json["items"]
    assert [(r["outcome"], r["lot_id"]) for r in rows] == [("applied", rows[0]["lot_id"])] * 2


def test_a_pair_without_a_par_level_is_not_looked_up_again_before_commit(
        db: Database, clock: FrozenClock, api: Api, world: World):
    """The balance statement answers whether (item, location) has a par level; without one, the
    check before commit asks nothing more. With one (the test above), it looks it up and checks it."""
    ingest = stations(db, clock)
    with statements(db) as seen:
        ingest.record_many([frame("sr-1", label("NP-1"))])
    ingest.stop()
    balance = [s for s in seen if "INTO balances" in s]
    assert len(balance) == 1 and "par_levels" in balance[0]
    assert not [s for s in seen if s.startswith("SELECT") and "FROM par_levels" in s]
    rows = api.get("/api/v1/scans?after_id=0&limit=50", expect=200).json["items"]
    assert [r["outcome"] for r in rows] == ["applied"]
