"""Server-sent events for a station, fed by polling the scans table.

Polling the database (not an in-process queue) means the feed works whichever process read the
scanner: `run`, or a separate `ingest` beside several `api` workers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from flask import Response, stream_with_context

from ..domain.instants import wire_value
from ..services import scans as scan_service
from ..services import stations
from .runtime import runtime

POLL_SECONDS = 0.2
KEEPALIVE_SECONDS = 15.0


def _event(kind: str, data: dict[str, Any], event_id: int | None = None) -> str:
    body = json.dumps(data, default=wire_value, separators=(",", ":"))
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {body}\n\n"


def scan_events(scanner_id: str, after: int | None, timeout: float) -> Response:
    db = runtime().db  # taken while the request runs: the stream is read after the view has returned

    def stream() -> Iterator[str]:
        last_id = after
        if last_id is None:
            with db.unit_of_work(write=False) as uow:
                recent = scan_service.list_scans(uow, scanner_id=scanner_id, outcome=None, reason=None,
                                                 limit=10, cursor=None)
            last_id = min((s["id"] for s in recent.items), default=0) - 1 if recent.items else 0
        state: dict[str, Any] | None = None
        deadline = time.monotonic() + timeout
        quiet_since = time.monotonic()
        yield "retry: 1000\n\n"
        while time.monotonic() < deadline:
            with db.unit_of_work(write=False) as uow:
                scanner = next(s for s in stations.list_scanners(uow) if s["id"] == scanner_id)
                page = scan_service.list_scans(uow, scanner_id=scanner_id, outcome=None, reason=None,
                                               after_id=last_id, limit=100, cursor=None)
            sent = False
            if scanner != state:
                state = scanner
                yield _event("state", scanner)
                sent = True
            for scan in page.items:
                last_id = scan["id"]
                yield _event("scan", scan, scan["id"])
                sent = True
            now = time.monotonic()
            if sent:
                quiet_since = now
            elif now - quiet_since > KEEPALIVE_SECONDS:
                quiet_since = now
                yield ": keepalive\n\n"
            time.sleep(POLL_SECONDS)

    response = Response(stream_with_context(stream()), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response
