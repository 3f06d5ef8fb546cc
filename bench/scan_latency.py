"""Scan latency benchmark: simulated serial scanners on ptys -> scanner ingest -> committed movement.

    .venv/bin/python bench/scan_latency.py                           # 10 x 10 scans/s x 60 s, SQLite then PostgreSQL
    .venv/bin/python bench/scan_latency.py --seconds 5 --backend sqlite  # quick check
    .venv/bin/python bench/scan_latency.py --backend postgresql --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

For each backend it migrates a fresh database (a SQLite file in a temporary directory, or a new
PostgreSQL database `bench_scan_<random>` created through the admin `--pg-url` and dropped
afterwards), creates one item with a GTIN and `--scanners` stockroom locations, and starts
`ScannerIngest` in this process with one station per scanner in receive mode: its reader threads, its
bounded queue and its single consumer are what is measured, exactly as the `ingest` role runs them.

The scanners run in a separate process (`bench/_scan_sim.py`, `firmware_sim.scanner.PtyLink` +
`SimulatedScanner`), so they do not compete for this process's GIL. Once every port is open, each
scanner sends `--rate` scans/s for `--seconds` on a fixed schedule (staggered by
1 / (scanners x rate)); every frame is a unique GS1 label (`]d2 01<gtin> 17<expiry> 10<lot>` + CR).

Latency of a frame = the instant `on_recorded` runs (right after the scan's transaction committed)
minus the instant the simulator's write of the frame's last byte returned. Both are
`time.monotonic()` (CLOCK_MONOTONIC, one clock for every process on Linux). p50/p90/p99 are
nearest-rank percentiles. The breakdown splits each frame's latency into:

    pty+reader   last byte written -> reader framed it (ScanFrame.monotonic)
    queue        framed -> the consumer started the transaction that records it (the reader's parse
                 of the frame, then waiting behind earlier transactions)
    batch        that transaction's work up to COMMIT: parsing and recording every frame in it (the
                 consumer records all frames waiting when it starts, up to 50, in one transaction)
    commit       COMMIT issued -> on_recorded (COMMIT, fsync, session close)

It also prints how many frames each consumer transaction held, what parse_scan cost (in the reader
threads), the CPU used per frame and how busy the host was, hypervisor steal included: on a shared
virtual machine, other guests slow every CPU of this one down for tens of milliseconds at a time, and
the frames caught in such a window make most of p99.

(The breakdown comes from wrapping `parse_scan` and listening to engine/session events in this
process only; no service code is changed.) The run then checks that every frame became exactly one
`applied` scan with one movement and that the ledger chain verifies. PASS/FAIL (p99 < `--target-ms`)
is informational: the exit status is 0 unless something crashed. Linux only (ptys); loopback only.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import math
import os
import platform
import queue
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, event, func, select
from sqlalchemy import text as sql_text
from sqlalchemy.engine import make_url

import inventory_service.ingest.scanners as ingest_module
from devices.barcodes import ScanData
from devices.serial import PortState, ScanFrame, ScannerConfig
from inventory_service.db import migrate
from inventory_service.db.models import Movement, Scan, Scanner
from inventory_service.db.uow import Database
from inventory_service.ingest.heap import freeze_startup_heap
from inventory_service.ingest.scanners import ScannerIngest, consumer_database
from inventory_service.services import catalog, ledger
from inventory_service.services.context import Context, system_clock

SIM = Path(__file__).with_name("_scan_sim.py")
GTIN = "09501101530003"
TZ = "America/New_York"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BUSY_HOST_PERCENT = 25.0  # CPU use of other processes above which the report warns
SEGMENTS = ("pty+reader", "queue", "batch", "commit")

log = logging.getLogger("bench.scan_latency")


def say(msg: str = "") -> None:
    print(msg, flush=True)


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of `values` (p in 0..100); NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# --- host load (the figures mean little on a busy machine) -------------------------------------


def host_cpu() -> tuple[float, float, float]:
    """(busy, total, steal) CPU seconds of the whole host since boot, all CPUs summed. Steal is time
    the hypervisor gave this machine's CPUs to other guests (counted in busy, too)."""
    with open("/proc/stat", encoding="ascii") as f:
        values = [int(v) for v in f.readline().split()[1:9]]
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values) - values[3] - values[4]) / tick, sum(values) / tick, values[7] / tick


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) used by process `pid` so far; NaN when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Load:
    """CPU use over the measured window, as % of one CPU."""

    host_busy: float = math.nan
    ingest: float = math.nan
    simulator: float = math.nan
    server: float = 0.0  # PostgreSQL backends serving this benchmark's database
    steal: float = math.nan  # the hypervisor running other guests on this machine's CPUs
    loadavg_before: float = math.nan
    loadavg_after: float = math.nan

    @property
    def others(self) -> float:
        return self.host_busy - self.ingest - self.simulator - self.server


class LoadMeter:
    def __init__(self, sim_pid: int, server_pids: Callable[[], list[int]]) -> None:
        self.sim_pid, self.server_pids = sim_pid, server_pids
        self.loadavg = os.getloadavg()[0]
        self.server = {pid: process_cpu(pid) for pid in server_pids()}
        self.host = host_cpu()
        self.ingest = process_cpu(os.getpid())
        self.sim = process_cpu(sim_pid)
        self.wall = time.monotonic()

    def stop(self) -> Load:
        host = host_cpu()
        wall = time.monotonic() - self.wall
        ingest, sim = process_cpu(os.getpid()), process_cpu(self.sim_pid)
        server = 0.0
        for pid in self.server_pids():
            used = process_cpu(pid) - self.server.get(pid, 0.0)
            server += used if not math.isnan(used) else 0.0
        return Load(host_busy=(host[0] - self.host[0]) / wall * 100, steal=(host[2] - self.host[2]) / wall * 100,
                    ingest=(ingest - self.ingest) / wall * 100,
                    simulator=(sim - self.sim) / wall * 100, server=server / wall * 100,
                    loadavg_before=self.loadavg, loadavg_after=os.getloadavg()[0])


def server_pids(db: Database) -> Callable[[], list[int]]:
    """PostgreSQL: the backend processes connected to this database (same host), for their CPU use."""
    if db.dialect != "postgresql":
        return list

    def pids() -> list[int]:
        with db.engine.connect() as conn:
            return list(conn.execute(sql_text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))
                        .scalars())

    return pids


# --- the scanner process ----------------------------------------------------------------------


class Simulator:
    """`bench/_scan_sim.py` in its own process; one JSON object per line on its stdin/stdout."""

    def __init__(self, links: Path, args: argparse.Namespace, expiry: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(SIM), "--links", str(links), "--scanners", str(args.scanners),
             "--rate", str(args.rate), "--seconds", str(args.seconds), "--gtin", GTIN, "--expiry", expiry],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        # Raw lines only (no JSON decoding here): reading is I/O and releases the GIL.
        self._reader = threading.Thread(target=self._read, name="sim-stdout", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def receive(self, timeout: float) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError(f"scanner simulator: no answer within {timeout:.0f} s") from None
        if line is None:
            raise RuntimeError(f"scanner simulator exited (status {self.proc.poll()})")
        return dict(json.loads(line))

    def tell(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.tell({"close": True})
        with contextlib.suppress(Exception):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


# --- measurement in the ingest process -----------------------------------------------------------


class Probe:
    """Per-frame instants, all time.monotonic(), taken on the consumer thread. The consumer records
    a batch of frames per transaction (one frame when only one is waiting): every frame of a batch
    starts with the batch and has its COMMIT issued with it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.inflight: list[str] = []
        self.started: dict[str, float] = {}
        self.commit_issued: dict[str, float] = {}
        self.committed: dict[str, float] = {}
        self.arrived: dict[str, float] = {}
        self.scan_ids: dict[str, int] = {}
        self.attempts: dict[str, int] = {}
        self.batch_sizes: list[int] = []
        self.parse_ms: list[float] = []
        self.duplicates = 0  # the same text recorded twice

    def begin(self, texts: list[str]) -> None:
        now = time.monotonic()
        self.inflight = list(texts)
        self.batch_sizes.append(len(texts))
        for text in texts:
            self.started[text] = now
            self.attempts[text] = self.attempts.get(text, 0) + 1

    def parsed(self, seconds: float) -> None:
        self.parse_ms.append(seconds * 1000)

    def mark_commit(self) -> None:
        now = time.monotonic()
        for text in self.inflight:
            self.commit_issued.setdefault(text, now)

    def recorded(self, scan_id: int, frame: ScanFrame) -> None:
        now = time.monotonic()
        with self.lock:
            if frame.text in self.committed:
                self.duplicates += 1
            self.committed[frame.text] = now
            self.arrived[frame.text] = frame.monotonic
            self.scan_ids[frame.text] = scan_id

    def count(self) -> int:
        with self.lock:
            return len(self.committed)


class MeasuredIngest(ScannerIngest):
    """The service's ScannerIngest, noting when the consumer starts on each batch (and on a frame
    retried alone after its batch failed)."""

    def __init__(self, *args: Any, probe: Probe, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.probe = probe

    def record_many(self, frames: list[ScanFrame], parsed: Sequence[ScanData | None] | None = None) -> list[int]:
        self.probe.begin([f.text for f in frames])
        return super().record_many(frames, parsed)

    def record(self, frame: ScanFrame, parsed: ScanData | None = None) -> int:
        self.probe.begin([frame.text])
        return super().record(frame, parsed)


def instrument(probe: Probe, engine: Any) -> contextlib.AbstractContextManager[None]:
    """Wrap parse_scan as the ingest module sees it and listen for COMMIT on this engine."""

    @contextlib.contextmanager
    def installed() -> Any:
        original = ingest_module.parse_scan

        def timed_parse(*a: Any, **kw: Any) -> Any:
            t0 = time.monotonic()
            result = original(*a, **kw)
            probe.parsed(time.monotonic() - t0)
            return result

        def on_commit(_conn: Any) -> None:
            if threading.current_thread().name == "scan-consumer":
                probe.mark_commit()

        ingest_module.parse_scan = timed_parse  # type: ignore[assignment]
        event.listen(engine, "commit", on_commit)
        try:
            yield
        finally:
            ingest_module.parse_scan = original  # type: ignore[assignment]
            event.remove(engine, "commit", on_commit)

    return installed()


# --- databases --------------------------------------------------------------------------------


@contextlib.contextmanager
def sqlite_database(workdir: Path) -> Any:
    yield f"sqlite:///{workdir / 'scan_latency.db'}", "SQLite (WAL, synchronous=NORMAL)"


@contextlib.contextmanager
def postgres_database(admin_url: str) -> Any:
    """A new database `bench_scan_<random>`, dropped afterwards."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"bench_scan_{secrets.token_hex(6)}"
    try:
        with admin.connect() as conn:
            version = conn.exec_driver_sql("SHOW server_version").scalar()
            sync = conn.exec_driver_sql("SHOW synchronous_commit").scalar()
            fsync = conn.exec_driver_sql("SHOW fsync").scalar()
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
            yield url, f"PostgreSQL {version} (synchronous_commit={sync}, fsync={fsync})"
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def seed(db: Database, n_locations: int) -> list[str]:
    ctx = Context(actor="bench", source="cli", now=system_clock(), tz=ZoneInfo(TZ))
    codes = [f"BENCH-SR-{i:02d}" for i in range(n_locations)]
    with db.unit_of_work() as uow:
        catalog.create_item(uow, ctx, name="Bench syringe 1 ml", sku="BENCH-SYR-1", gtins=[GTIN])
        for code in codes:
            catalog.create_location(uow, ctx, code=code, name=f"Bench stockroom {code[-2:]}", kind="stockroom")
        uow.commit()
    return codes


# --- one backend ------------------------------------------------------------------------------


@dataclass
class Result:
    backend: str
    server: str = ""
    sent: int = 0
    recorded: int = 0
    applied: int = 0
    movements: int = 0
    scans: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    ledger_ok: bool = False
    duplicates: int = 0
    retries: int = 0
    missing: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # ms
    segments: dict[str, list[float]] = field(default_factory=dict)  # ms
    batch_sizes: list[int] = field(default_factory=list)  # frames per transaction of the consumer
    parse_ms: list[float] = field(default_factory=list)  # parse_scan, per frame
    send_rate: float = math.nan
    commit_rate: float = math.nan
    lateness: list[float] = field(default_factory=list)  # ms, simulator behind its schedule
    cpu_per_frame_ms: float = math.nan
    max_queue: int = 0
    abandoned: int = 0  # still queued at the drain deadline, discarded
    delivered: int = 0  # frames the readers handed over (accepted + rejected)
    foreign: list[str] = field(default_factory=list)  # frames the simulator never sent (split or garbled)
    load: Load = field(default_factory=Load)
    error: str = ""

    @property
    def consistent(self) -> bool:
        return (not self.missing and self.recorded == self.sent == self.applied == self.movements == self.scans
                == self.delivered and self.ledger_ok and not self.duplicates and not self.foreign)


def wait_until(check: Any, timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


def ports_open(db: Database, ingest: ScannerIngest, ids: list[str]) -> bool:
    if not all(ingest.status.get(i) is not None and ingest.status[i].state is PortState.OPEN for i in ids):
        return False
    with db.unit_of_work(write=False) as uow:
        states = dict(uow.session.execute(select(Scanner.id, Scanner.port_state)).all())
    return all(states.get(i) == "open" for i in ids)


def run_backend(backend: str, args: argparse.Namespace, workdir: Path) -> Result:
    result = Result(backend)
    source = sqlite_database(workdir) if backend == "sqlite" else postgres_database(args.pg_url)
    with source as (url, server):
        result.server = server
        say(f"[{backend}] {server}: migrating a fresh database")
        migrate.upgrade(url)
        db = consumer_database(url)  # the engine the service gives the scanner ingest
        try:
            measure(db, args, workdir, result)
        finally:
            db.dispose()
    return result


def measure(db: Database, args: argparse.Namespace, workdir: Path, result: Result) -> None:
    codes = seed(db, args.scanners)
    expiry = (datetime.now(UTC).date() + timedelta(days=730)).strftime("%y%m%d")
    links = workdir / f"links-{result.backend}"
    links.mkdir()
    sim = Simulator(links, args, expiry)
    probe = Probe()
    ingest: MeasuredIngest | None = None
    total = round(args.seconds * args.rate) * args.scanners
    try:
        paths = sim.receive(timeout=30)["paths"]
        configs = tuple(ScannerConfig(id=f"bench-{i:02d}", url=path, location=codes[i], mode="receive")
                        for i, path in enumerate(paths))
        ids = [c.id for c in configs]
        ingest = MeasuredIngest(configs, db, system_clock, TZ, on_recorded=probe.recorded, probe=probe)
        with instrument(probe, db.engine):
            ingest.start()  # registers the stations (receive mode), then the consumer and the readers
            wait_until(lambda: ports_open(db, ingest, ids), 30, "every scanner port to be open")
            freeze_startup_heap()  # as the `run` and `ingest` roles do once started (cli)
            time.sleep(0.2)
            start_at = time.monotonic() + 0.5
            cpu0 = time.process_time()
            meter = LoadMeter(sim.proc.pid, server_pids(db))
            sim.tell({"start_at": start_at})
            say(f"[{result.backend}] {len(ids)} scanners open; sending {total} frames "
                f"({args.scanners} x {args.rate:g}/s x {args.seconds:g} s)")
            end_at = start_at + args.seconds
            max_queue = 0
            while time.monotonic() < end_at:  # watch the backlog while the scanners send
                max_queue = max(max_queue, ingest.queue.qsize())
                time.sleep(0.05)
            drain_deadline = time.monotonic() + args.drain_timeout
            while probe.count() < total and time.monotonic() < drain_deadline:
                max_queue = max(max_queue, ingest.queue.qsize())
                time.sleep(0.02)
            cpu = time.process_time() - cpu0
            result.load = meter.stop()
            result.max_queue = max_queue
            sent = sim.receive(timeout=30)["sent"]
            stopping, ingest = ingest, None
            discarded = shut_down(stopping)
            result.abandoned = len(discarded)
            result.delivered = sum(r.stats().frames + r.stats().rejected for r in stopping.readers)
    finally:
        if ingest is not None:  # failed half-way: clean up without hiding the original error
            try:
                shut_down(ingest)
            except Exception:
                log.exception("could not stop the scanner ingest cleanly")
        sim.close()
    collect(db, probe, sent, discarded, cpu, result)


def shut_down(ingest: MeasuredIngest) -> list[str]:
    """Stop the ingest without leaving its consumer running: frames still queued after the drain
    deadline are discarded (and counted), so the consumer ends after its current transaction and
    nothing touches the database once it is dropped. Returns the texts discarded."""
    discarded: list[str] = []
    for reader in ingest.readers:
        reader.stop()
    while True:
        try:
            queued = ingest.queue.get_nowait()
        except queue.Empty:
            break
        if queued is not None:
            discarded.append(queued[0].text)
    ingest.stop(timeout=60)
    if ingest._consumer.is_alive():  # the service has no accessor
        raise RuntimeError("the scan consumer did not stop within 60 s")
    return discarded


def collect(db: Database, probe: Probe, sent: list[list[Any]], discarded: list[str], cpu: float,
            result: Result) -> None:
    result.sent = len(sent)
    sent_texts = {text for text, _, _ in sent}
    result.foreign = [t for t in [*probe.committed, *discarded] if t not in sent_texts]
    result.recorded = sum(1 for text, _, _ in sent if text in probe.committed)
    result.duplicates = probe.duplicates
    result.retries = sum(n - 1 for n in probe.attempts.values())
    result.missing = [text for text, _, _ in sent if text not in probe.committed]
    result.cpu_per_frame_ms = cpu / max(1, result.recorded) * 1000
    segments: dict[str, list[float]] = {name: [] for name in SEGMENTS}
    for text, written, due in sent:
        result.lateness.append((written - due) * 1000)
        committed = probe.committed.get(text)
        if committed is None:
            continue
        result.latencies.append((committed - written) * 1000)
        arrived, started, issued = probe.arrived[text], probe.started.get(text), probe.commit_issued.get(text)
        if started is None or issued is None:
            continue
        for name, a, b in (("pty+reader", written, arrived), ("queue", arrived, started), ("batch", started, issued),
                           ("commit", issued, committed)):
            segments[name].append((b - a) * 1000)
    result.segments = segments
    result.batch_sizes = probe.batch_sizes
    result.parse_ms = probe.parse_ms
    writes = sorted(w for _, w, _ in sent)
    if len(writes) > 1:
        result.send_rate = (len(writes) - 1) / (writes[-1] - writes[0])
    commits = sorted(probe.committed.values())
    if len(commits) > 1:
        result.commit_rate = (len(commits) - 1) / (commits[-1] - commits[0])
    with db.unit_of_work(write=False) as uow:
        rows = uow.session.execute(select(Scan.raw, Scan.outcome, Scan.movement_ids)).all()
        result.scans = len(rows)
        for _, outcome, _ in rows:
            result.outcomes[outcome] = result.outcomes.get(outcome, 0) + 1
        result.applied = sum(1 for raw, outcome, mids in rows
                             if outcome == "applied" and raw in sent_texts and len(mids or []) == 1)
        result.movements = int(uow.session.scalar(select(func.count()).select_from(Movement)) or 0)
        result.ledger_ok = ledger.verify(uow) is None


# --- report -----------------------------------------------------------------------------------


def fmt(value: float, spec: str = ".1f") -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def stats_cells(values: Sequence[float], spec: str = ".1f", width: int = 8) -> str:
    """p50, p90, p99, max (and nothing else) as right-aligned cells."""
    cells = (pct(values, 50), pct(values, 90), pct(values, 99), max(values, default=math.nan))
    return "".join(f"{fmt(v, spec):>{width}}" for v in cells)


def checks_of(r: Result) -> str:
    if r.consistent:
        return "ok"
    problems = [
        f"{len(r.missing)} missing" if r.missing else "",
        f"{r.duplicates} duplicated" if r.duplicates else "",
        f"{len(r.foreign)} frames never sent (split?)" if r.foreign else "",
        f"readers delivered {r.delivered} frames" if r.delivered != r.sent else "",
        "ledger chain broken" if not r.ledger_ok else "",
        f"scans {r.scans} != sent" if r.scans != r.sent else "",
        f"applied {r.applied} != sent" if r.applied != r.sent else "",
        f"movements {r.movements} != sent" if r.movements != r.sent else "",
    ]
    return ", ".join(p for p in problems if p)


def print_report(results: list[Result], args: argparse.Namespace) -> None:
    say()
    say(f"Scan latency: {args.scanners} scanners x {args.rate:g} scans/s x {args.seconds:g} s on ptys; "
        f"latency = last byte written -> movement committed (ms); target p99 < {args.target_ms:g} ms")
    say(f"host: {platform.node()} {platform.platform()} cpus={os.cpu_count()} python={platform.python_version()}")
    say()
    head = (f"{'backend':<11}{'sent':>7}{'recorded':>10}{'applied':>9}{'moves':>7}{'send/s':>8}{'commit/s':>9}"
            f"{'p50':>8}{'p90':>8}{'p99':>8}{'max':>8}  {'result':<6}  checks")
    say(head)
    say("-" * len(head))
    for r in results:
        if r.error:
            say(f"{r.backend:<11}ERROR: {r.error}")
            continue
        p99 = pct(r.latencies, 99)
        verdict = "PASS" if r.latencies and p99 < args.target_ms and r.consistent else "FAIL"
        say(f"{r.backend:<11}{r.sent:>7}{r.recorded:>10}{r.applied:>9}{r.movements:>7}{fmt(r.send_rate):>8}"
            f"{fmt(r.commit_rate):>9}{stats_cells(r.latencies)}  {verdict:<6}  {checks_of(r)}")
    for r in results:
        if not r.error:
            print_details(r, args)


def print_details(r: Result, args: argparse.Namespace) -> None:
    say()
    say(f"[{r.backend}] {r.server}")
    say(f"  breakdown (ms) {'p50':>10}{'p90':>10}{'p99':>10}{'max':>10}{'mean':>10}")
    for name in SEGMENTS:
        values = r.segments.get(name, [])
        say(f"  {name:<14} {stats_cells(values, '.2f', 10)}{fmt(mean(values), '.2f'):>10}")
    say(f"  {'total':<14} {stats_cells(r.latencies, '.2f', 10)}{fmt(mean(r.latencies), '.2f'):>10}")
    sizes = r.batch_sizes
    say(f"  frames per consumer transaction: mean {fmt(mean(sizes), '.2f')}, max {max(sizes, default=0)}"
        f" ({len(sizes)} transactions); parse_scan mean {fmt(mean(r.parse_ms), '.2f')} ms,"
        f" p99 {fmt(pct(r.parse_ms, 99), '.2f')} ms")
    say(f"  ingest process CPU: {fmt(r.cpu_per_frame_ms, '.2f')} ms per frame; max queue depth {r.max_queue};"
        f" record retries {r.retries}")
    ld = r.load
    server = f" + postgres backends {fmt(ld.server, '.0f')}%" if r.backend == "postgresql" else ""
    say(f"  host CPU over the run (% of one CPU; {os.cpu_count()} CPUs): busy {fmt(ld.host_busy, '.0f')}%"
        f" = ingest {fmt(ld.ingest, '.0f')}% + simulator {fmt(ld.simulator, '.0f')}%"
        f"{server}"
        f" + other processes {fmt(ld.others, '.0f')}% (of which hypervisor steal {fmt(ld.steal, '.0f')}%);"
        f" load average {fmt(ld.loadavg_before, '.2f')} -> {fmt(ld.loadavg_after, '.2f')}")
    if ld.others > BUSY_HOST_PERCENT:
        say(f"  WARNING: other processes used {fmt(ld.others, '.0f')}% of a CPU during the run: the host was not"
            " quiet, latencies are overstated (run again on an idle machine)")
    say(f"  simulator behind schedule: p99 {fmt(pct(r.lateness, 99), '.2f')} ms,"
        f" max {fmt(max(r.lateness, default=math.nan), '.2f')} ms")
    say(f"  scans by outcome: {json.dumps(r.outcomes, sort_keys=True)};"
        f" ledger chain {'intact' if r.ledger_ok else 'BROKEN'}")
    if r.foreign:
        say(f"  frames the simulator never sent ({len(r.foreign)}), e.g. {r.foreign[:6]}: likely a scan cut in"
            " two by the reader's idle-gap framing")
    if r.missing:
        say(f"  missing ({len(r.missing)}; {r.abandoned} of them still queued at the drain deadline and discarded),"
            f" first: {', '.join(r.missing[:5])}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--scanners", type=int, default=10)
    ap.add_argument("--rate", type=float, default=10.0, help="scans per second per scanner")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--pg-url", default=os.environ.get("INVENTORY_TEST_PG_URL", DEFAULT_PG_URL),
                    help="admin URL; a database bench_scan_<random> is created through it and dropped")
    ap.add_argument("--target-ms", type=float, default=50.0, help="p99 target (default 50)")
    ap.add_argument("--drain-timeout", type=float, default=60.0,
                    help="seconds to wait after the last scan for every frame to be recorded")
    args = ap.parse_args(argv)
    if not 1 <= args.scanners <= 99:
        ap.error("--scanners must be 1..99")
    if args.rate <= 0 or args.seconds <= 0:
        ap.error("--rate and --seconds must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not sys.platform.startswith("linux"):
        say("scan_latency needs Linux (ptys, a system-wide CLOCK_MONOTONIC)")
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results: list[Result] = []
    crashed = False
    for backend in backends:
        workdir = Path(tempfile.mkdtemp(prefix=f"scan_latency_{backend}_"))
        try:
            results.append(run_backend(backend, args, workdir))
        except Exception as exc:
            logging.getLogger(__name__).exception("%s run failed", backend)
            results.append(Result(backend, error=f"{type(exc).__name__}: {exc}"))
            crashed = True
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
            gc.collect()
    print_report(results, args)
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
