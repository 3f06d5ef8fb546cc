"""ScannerIngest.submit: the reader's sink parses the frame in the reader's thread and queues it."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from devices.barcodes import ScanData
from devices.serial import ScanFrame, ScannerConfig
from inventory_service.ingest.scanners import ScannerIngest

LABEL = "]d201095011015300031727013110LOT-7"


def ingest() -> ScannerIngest:
    config = ScannerConfig(id="sr-1", url="loop://", location="SR")
    return ScannerIngest((config,), db=None, clock=lambda: datetime(2026, 11, 27, 12, tzinfo=UTC),  # type: ignore[arg-type]
                         tz_name="America/New_York")


def frame(text: str) -> ScanFrame:
    return ScanFrame("sr-1", text, datetime.now(UTC), time.monotonic())


def test_the_frame_is_parsed_in_the_submitting_thread_and_queued_with_its_parse() -> None:
    ing = ingest()
    parsing_threads: list[str] = []
    parse = ing._parse

    def spy(f: ScanFrame) -> ScanData:
        parsing_threads.append(threading.current_thread().name)
        return parse(f)

    ing._parse = spy  # type: ignore[method-assign]
    reader = threading.Thread(target=ing.submit, args=(frame(LABEL),), name="scanner-sr-1")
    reader.start()
    reader.join()
    queued, parsed = ing.queue.get_nowait()  # type: ignore[misc]
    assert parsing_threads == ["scanner-sr-1"]
    assert queued.text == LABEL
    assert parsed is not None and (parsed.gtin, parsed.lot) == ("09501101530003", "LOT-7")


def test_a_parser_failure_still_queues_the_frame_for_the_consumer_to_parse_again(
        caplog: pytest.LogCaptureFixture) -> None:
    ing = ingest()

    def broken(_f: Any) -> ScanData:
        raise RuntimeError("parser bug")

    ing._parse = broken  # type: ignore[method-assign]
    ing.submit(frame(LABEL))
    queued, parsed = ing.queue.get_nowait()  # type: ignore[misc]
    assert (queued.text, parsed) == (LABEL, None)
    assert "could not parse frame" in caplog.text
