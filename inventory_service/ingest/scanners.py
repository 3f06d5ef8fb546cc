"""Serial scanners in: one reader thread per port frames, parses and enqueues; one consumer thread
hands the parsed frames to the scans service (ARCHITECTURE §3, device hand-off).

Parsing happens in the reader's thread, not the consumer's: the consumer is the one path every scan
queues behind, and the readers parse while it waits on the database, so a frame's parse no longer
adds to the wait of the frames behind it.

The queue is bounded: when the database stalls, readers block instead of memory growing, and the
scanner's own buffer (and the operator seeing no feedback) takes the strain. A frame whose
transaction fails is retried with backoff, never dropped.

A definition that cannot be used (services.station_setup) is logged once at ERROR and stored for the
API and health check; only its reader is left out.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from devices.barcodes import ScanData, parse_scan
from devices.serial import (
    DefinitionProblem,
    ScanFrame,
    ScannerConfig,
    ScannerDefinitions,
    ScannerReader,
    ScannerStatus,
    read_scanner_definitions,
)

from ..db.engine import make_engine
from ..db.models import Scan
from ..db.uow import Database
from ..domain.errors import DomainError
from ..observability.metrics import Metrics
from ..services import scans, station_setup, stations
from ..services.context import Clock, Context

log = logging.getLogger(__name__)
QUEUE_SIZE = 10_000
BATCH_MAX = 50
#: A frame as the consumer receives it: parsed by the reader (None when that failed: parsed again).
Queued = tuple[ScanFrame, ScanData | None]


def consumer_database(url: str) -> Database:
    """The scanner ingest's own engine, without the pool's liveness ping: that is a round trip
    before every transaction of the consumer, which already retries a failed transaction (on a fresh
    connection: a lost one is dropped from the pool), so a stale connection costs one retry."""
    return Database(make_engine(url, pool_pre_ping=False, pool_size=2))


class ScannerIngest:
    """Readers for every usable scanner definition plus the single consumer that records their frames.

    `configs` are the definitions to set up, `problems` the ones found unusable when reading them
    (read_scanner_definitions); `instance` (INVENTORY_INSTANCE) owns the problems stored at start.
    After start(), `problems` also holds the definitions refused then (an unknown location).
    """

    def __init__(self, configs: tuple[ScannerConfig, ...], db: Database, clock: Clock, tz_name: str,
                 on_recorded: Callable[[int, ScanFrame], None] | None = None,
                 reader_factory: Callable[..., ScannerReader] = ScannerReader, *,
                 problems: tuple[DefinitionProblem, ...] = (), instance: str = "default",
                 receive_warn_days: int = scans.RECEIVE_WARN_DAYS, metrics: Metrics | None = None) -> None:
        self.configs, self.db, self.clock, self.tz = configs, db, clock, ZoneInfo(tz_name)
        self.problems, self.instance = problems, instance
        self.receive_warn_days = receive_warn_days
        self.queue: queue.Queue[Queued | None] = queue.Queue(maxsize=QUEUE_SIZE)
        self.readers: list[ScannerReader] = []
        self.status: dict[str, ScannerStatus] = {}
        self.on_recorded = on_recorded
        self._reader_factory = reader_factory
        self._consumer = threading.Thread(target=self._consume, name="scan-consumer", daemon=True)
        self._stopping = threading.Event()
        self.metrics = metrics or Metrics()
        self.metrics.scans.watch(self.queue.qsize, lambda: self.readers)

    @classmethod
    def from_settings(cls, scanners_json: str, db: Database, clock: Clock, tz_name: str,
                      instance: str = "default", metrics: Metrics | None = None) -> ScannerIngest:
        """From INVENTORY_SCANNERS as given; never raises for its content (see start)."""
        definitions = read_scanner_definitions(scanners_json)
        return cls(definitions.configs, db, clock, tz_name, problems=definitions.problems, instance=instance,
                   metrics=metrics)

    def _context(self, scanner_id: str) -> Context:
        return Context(actor=f"station:{scanner_id}", source="station", now=self.clock(), tz=self.tz)

    def start(self) -> None:
        """Set the stations up (station_setup: problems stored and logged once at ERROR), then start the
        consumer and the readers of the usable ones. Raises only when the database cannot be written."""
        ctx = Context(actor=f"ingest:{self.instance}", source="station", now=self.clock(), tz=self.tz)
        definitions = ScannerDefinitions(self.configs, self.problems)
        with self.db.unit_of_work() as uow:
            setup = station_setup.set_up_stations(uow, ctx, definitions, instance=self.instance)
            uow.commit()
        self.problems = setup.problems
        for problem in setup.problems:
            what = f"scanner {problem.key} not started" if problem.scanner_id else problem.key
            log.error("%s: %s (correct INVENTORY_SCANNERS and restart)", what, problem.reason)
        for warning in setup.warnings:
            log.warning("%s", warning)
        self._consumer.start()
        for config in setup.ready:
            reader = self._reader_factory(config, self.submit, on_status=self._on_status)
            reader.start()
            self.readers.append(reader)
        log.info("scanner ingest: %d scanner(s) started, %d not (misconfigured)", len(self.readers),
                 len(setup.problems))

    def submit(self, frame: ScanFrame) -> None:
        """The readers' sink (it runs in the reader's thread): parse the frame, then queue it for the
        consumer; blocks while the queue is full. parse_scan is property-tested never to raise; should
        it anyway, the failure is logged and the frame still queued, for the consumer to parse again,
        so the reader goes on and the frame is not lost here."""
        try:
            parsed: ScanData | None = self._parse(frame)
        except Exception:
            log.exception("scanner %s: could not parse frame %r", frame.scanner_id, frame.text[:80])
            parsed = None
        self.metrics.scans.frame_received(frame.scanner_id)
        self.queue.put((frame, parsed))

    def _parse(self, frame: ScanFrame) -> ScanData:
        return parse_scan(frame.text, today=self._context(frame.scanner_id).today)

    def _on_status(self, status: ScannerStatus) -> None:
        """Record the port's state on the station (the reader logs the change itself)."""
        self.status[status.scanner_id] = status
        try:
            with self.db.unit_of_work() as uow:
                stations.set_port_state(uow, self._context(status.scanner_id), status.scanner_id,
                                        str(status.state), status.detail)
                uow.commit()
        except Exception:
            log.exception("scanner %s: could not record port state %s", status.scanner_id, status.state)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the readers, then let the consumer record what is already queued."""
        for reader in self.readers:
            reader.stop()
        self._stopping.set()
        self.queue.put(None)
        self._consumer.join(timeout)

    def _consume(self) -> None:
        """Record frames as they come; when several are waiting (a burst from many stations), record
        them in one transaction, so a busy stockroom pays one commit per burst instead of per scan."""
        while True:
            first = self.queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < BATCH_MAX:
                try:
                    nxt = self.queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._record_batch(batch)
                    return
                batch.append(nxt)
            self._record_batch(batch)

    def _record_batch(self, batch: list[Queued]) -> None:
        frames = [frame for frame, _ in batch]
        try:
            ids = self.record_many(frames, [parsed for _, parsed in batch])
        except Exception:
            self.metrics.scans.batch_failed()
            log.exception("scanner ingest: a batch of %d frame(s) failed; recording them one by one", len(batch))
        else:
            if self.on_recorded is not None:
                for scan_id, frame in zip(ids, frames, strict=True):
                    self.on_recorded(scan_id, frame)
            return
        for frame, parsed in batch:
            self._record_with_retry(frame, parsed)

    def _record_with_retry(self, frame: ScanFrame, parsed: ScanData | None) -> None:
        delay = 0.1
        while True:
            try:
                scan_id = self.record(frame, parsed)
            except DomainError as exc:  # e.g. the station was deleted: retrying cannot help
                log.error("scanner %s: frame %r cannot be recorded: %s", frame.scanner_id, frame.text[:80], exc)
                return
            except Exception:
                self.metrics.scans.batch_failed()
                if self._stopping.is_set() and delay > 5:
                    log.error("scanner %s: giving up on frame %r at shutdown", frame.scanner_id, frame.text[:80])
                    return
                log.exception("scanner %s: could not record a frame; retrying in %.1fs", frame.scanner_id, delay)
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            if self.on_recorded is not None:
                self.on_recorded(scan_id, frame)
            return

    def record_many(self, frames: list[ScanFrame], parsed: Sequence[ScanData | None] | None = None) -> list[int]:
        """Record frames in order, in one transaction; all or none are committed. `parsed` holds
        each frame's parse when the reader made it (None entries, or no list: parsed here).

        The first pass runs the stock actions without a savepoint each (scans.record); if one of
        them is refused, that pass is rolled back and the batch recorded again with savepoints.
        """
        given = list(parsed) if parsed is not None else [None] * len(frames)
        if len(given) != len(frames):
            raise ValueError("record_many: one parse (or None) per frame")
        done = [p if p is not None else self._parse(f) for f, p in zip(frames, given, strict=True)]
        started = time.perf_counter()
        try:
            recorded = self._record_many(frames, done, savepoints=False)
        except scans.NeedsSavepoint:
            recorded = self._record_many(frames, done, savepoints=True)
        self.metrics.scans.committed([f.scanner_id for f in frames], recorded, time.perf_counter() - started)
        return [scan.id for scan in recorded]

    def _record_many(self, frames: list[ScanFrame], parsed: list[ScanData], *, savepoints: bool) -> list[Scan]:
        recorded = []
        with self.db.unit_of_work() as uow:
            # Take the ledger head and the batch's stations up front, outside any savepoint, so the
            # batch locks each once rather than once per scan (UnitOfWork.once).
            stations.lock_with_ledger_head(uow, [f.scanner_id for f in frames])
            for frame, data in zip(frames, parsed, strict=True):
                ctx = self._context(frame.scanner_id)
                scan = scans.record(uow, ctx, frame.scanner_id, data, rejected=frame.rejected,
                                    rereads_before=frame.suppressed_duplicates, savepoints=savepoints,
                                    receive_warn_days=self.receive_warn_days)
                recorded.append(scan)
            uow.commit()
        return recorded

    def record(self, frame: ScanFrame, parsed: ScanData | None = None) -> int:
        """Record one frame (parsed here unless `parsed` is given) in its own transaction; return the scan id."""
        ctx = self._context(frame.scanner_id)
        if parsed is None:
            parsed = parse_scan(frame.text, today=ctx.today)
        started = time.perf_counter()
        with self.db.unit_of_work() as uow:
            scan = scans.record(uow, ctx, frame.scanner_id, parsed, rejected=frame.rejected,
                                rereads_before=frame.suppressed_duplicates, receive_warn_days=self.receive_warn_days)
            uow.commit()
        self.metrics.scans.committed([frame.scanner_id], [scan], time.perf_counter() - started)
        return scan.id
