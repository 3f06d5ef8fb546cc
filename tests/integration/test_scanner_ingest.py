"""Scanner ingest over a real pty: reader thread -> queue -> consumer -> scans and ledger."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from devices.serial import ScannerConfig
from firmware_sim.scanner import PtyLink, ScannerProfile, SimulatedScanner
from inventory_service.db.uow import Database
from inventory_service.ingest.scanners import ScannerIngest
from tests.conftest import Api
from tests.integration.conftest import World
from tests.support.clock import FrozenClock
from tests.support.wait import wait_for

pytestmark = pytest.mark.timeout(60)


def scans_of(api: Api) -> list[dict]:
    return api.get("/api/v1/scans?scanner_id=sr-1&after_id=0&limit=500", expect=200).json["items"]


def port_state(api: Api) -> str:
    return str(api.get("/api/v1/scanners/sr-1", expect=200).json["port_state"])


def test_frames_from_a_pty_become_scans_and_movements(tmp_path: Path, db: Database, clock: FrozenClock,
                                                      api: Api, world: World):
    link = PtyLink(tmp_path / "usb-scanner")
    profile = ScannerProfile(terminator="crlf", aim="]d2", chunk_size=8, duplicates=2)
    sim = SimulatedScanner(link, profile)
    sim.open()
    # The simulator sends CRLF-terminated frames in 8-byte chunks from a thread of this busy process: on a
    # loaded host its writer can stall past the default 50 ms idle gap and split a frame (seen in CI), which
    # a real scanner at its baud rate does not do. A long idle gap keeps this test about framing by CRLF.
    ingest = ScannerIngest((ScannerConfig(id="sr-1", url=str(link.path), location="SR", idle_ms=1000),), db, clock,
                           "America/New_York")
    ingest.start()
    try:
        wait_for(lambda: port_state(api) == "open", 10, "the port open")
        sim.scan("0109501101530003" + "17270131" + "10LOT-A")
        sim.scan("0109501101530003" + "17270131" + "10LOT-B")
        wait_for(lambda: len(scans_of(api)) == 2, 10, "two scans")
        # Unplug only once LOT-B's re-reads are in: a frame cut by the unplug is (rightly) stored as rejected.
        wait_for(lambda: ingest.readers[0].stats().suppressed == 4, 10, "four re-reads suppressed")
        sim.unplug()
        wait_for(lambda: port_state(api) == "disconnected", 10, "the port disconnected")
        sim.replug()
        wait_for(lambda: port_state(api) == "open", 10, "the port open again")
        sim.scan("0109501101530003" + "17270131" + "10LOT-C")
        wait_for(lambda: len(scans_of(api)) == 3, 10, "three scans")
        # Let the last re-reads arrive: a frame cut short by stopping would (rightly) be stored as rejected.
        wait_for(lambda: ingest.readers[0].stats().suppressed == 6, 10, "six re-reads suppressed")
    finally:
        ingest.stop()
        sim.close()
    rows = scans_of(api)
    assert [(s["outcome"], s["lot_number"]) for s in rows] == [("applied", "LOT-A"), ("applied", "LOT-B"),
                                                               ("applied", "LOT-C")]
    # The two presentation re-reads of each frame were suppressed and counted on the frame they repeated
    # (the last frame's re-reads are reported with the next frame, which never came).
    assert [s["rereads"] for s in rows[:2]] == [2, 2]
    stock = api.get(f"/api/v1/stock?location_id={world.stockroom}", expect=200).json["items"]
    assert sorted((r["lot_number"], r["quantity"]) for r in stock) == [("LOT-A", 1), ("LOT-B", 1), ("LOT-C", 1)]


def test_a_burst_of_queued_frames_is_recorded_in_order_in_one_go(db: Database, clock: FrozenClock, api: Api,
                                                                 world: World):
    from datetime import UTC, datetime

    from devices.serial import ScanFrame

    recorded: list[int] = []
    ingest = ScannerIngest((ScannerConfig(id="sr-1", url="loop://", location="SR"),), db, clock, "America/New_York",
                           on_recorded=lambda scan_id, frame: recorded.append(scan_id),
                           reader_factory=lambda *a, **kw: type("NoReader", (), {"start": lambda self: None,
                                                                                  "stop": lambda self: None})())
    texts = ["#QTY:2", "]d20109501101530003" "17270131" "10L1", "garbage!", "]d20109501101530003" "17270131" "10L2"]
    for text in texts:
        ingest.submit(ScanFrame("sr-1", text, datetime.now(UTC), time.monotonic()))
    ingest.start()
    wait_for(lambda: len(recorded) == len(texts), 10, f"{len(texts)} frames recorded")
    ingest.stop()
    rows = scans_of(api)
    assert [s["id"] for s in rows] == recorded
    assert [(s["outcome"], s["quantity"]) for s in rows] == [("command", None), ("applied", 2), ("rejected", None),
                                                             ("applied", 1)]
