"""MQTT ingest benchmark: `inventory-service ingest` against a private Mosquitto on loopback, on SQLite
and on PostgreSQL. Prints figures; not run in CI.

    .venv/bin/python bench/ingest.py                          # full scale, SQLite then PostgreSQL
    .venv/bin/python bench/ingest.py --scale 0.05             # quick check (5 % of the readings)
    .venv/bin/python bench/ingest.py --backend postgresql --only throughput,backfill
    .venv/bin/python bench/ingest.py --only throughput --rounds 3   # a shared, busy host
    .venv/bin/python bench/ingest.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Every scenario gets its own Mosquitto (a free loopback port, `max_queued_messages 1000000`,
`max_inflight_messages 1000`, persistence off) and its own freshly migrated database (a SQLite file in
a temporary directory, or a PostgreSQL database `bench_ingest_<random>` created through the admin
`--pg-url` and dropped afterwards) with 200 refrigerators, each with one sensor reporting every
5 minutes, assigned 60 days ago. The service runs as `python -m inventory_service.cli ingest` in a
subprocess (INVENTORY_DATABASE_URL, INVENTORY_MQTT_URL, INVENTORY_INSTANCE, INVENTORY_TIMEZONE), so
its RSS is read from /proc/<pid>/status. Load comes from `bench/_mqtt_load.py` processes (QoS 1,
MQTT 5, 1,000 messages in flight per client, `--publishers` clients in parallel for the bulk streams).
Readings are in range (3.0 .. 6.9 °C), seq continuous, ts spaced by 5 minutes per sensor and ending
about now.

throughput  200,000 readings (x --scale) from 200 sensors, one message per reading. First a bare paho
            QoS 1 subscriber (MQTT 5, its own process, Receive Maximum 4,000 like the ingest, which
            holds two of its batches in flight because it acknowledges only after commit) counts the
            stream: rate = messages / (last received - first received). Then, on the same broker, the
            same stream into the ingest: rate = readings committed / (last commit - first commit),
            both instants found by polling the committed readings every 100 ms (see "Counting" below).
            Target: the ingest rate is at least 0.9 of the bare rate. Also printed: CPU per message of
            the bare subscriber and per reading of the ingest process (its own threads; a PostgreSQL
            server's work is not in it), which a busy host disturbs less than the rates.
            --rounds N (N > 1): bare, ingest, bare, ... (N ingest runs between N + 1 bare runs); each
            ingest run is compared with the mean of the bare runs just before and after it, and the
            ratio is the median of those, so that other load that comes and goes on a shared host
            weighs on both sides alike.
backfill    200 sensors each publish one JSON array of 4,000 readings (x --scale) at once. RSS of the
            ingest process sampled every 50 ms: growth = peak during the run - RSS at rest before it.
            Target: growth under 100 MB and exactly 200 x 4,000 readings stored, none rejected.
latency     1,000 readings/s of in-range background load on 170 sensors while the other 30 sensors
            (x --scale, at least 5) each complete one alarm, one every 2 s: an in-range history, then
            six readings at 10 °C stamped T-30 min .. T-5 min sent 1.5 s before T, and at T the
            seventh, stamped now, which makes 30 consecutive minutes above 8 °C (the default rule).
            Latency = that publish instant -> the `excursion` alert row seen committed (the alerts
            table is polled every 10 ms; one poll costs about a millisecond). An alert that appears
            before the seventh reading was published counts as "premature" and is left out. Target:
            p99 < 1 s (with ~30 samples the nearest-rank p99 is the maximum).

Counting committed readings (throughput, backfill): each poll counts only the rows above the highest
id seen so far (`SELECT count(*), max(id) FROM readings WHERE id > :seen`, a short primary-key range)
and adds them up, instead of `SELECT count(*)` over the whole table, whose cost grows with the table
and which, running ten times a second on the same two CPUs, took database CPU from the measured run
that the bare run never paid. The sum is exact as long as rows become visible in id order, which holds
here: one ingest consumer thread commits its batches one after another. It is checked: when the
target is reached, a full `count(*)` must equal the sum, or the scenario fails ("the incremental
count missed rows") rather than report a rate.

The exit status is 0 unless something crashed: PASS/FAIL are informational. Linux only.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import math
import os
import platform
import queue
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.engine import make_url

from inventory_service.db import migrate
from inventory_service.db.engine import make_engine
from inventory_service.db.models import Alarm, Alert, Reading, RejectedInput, SeqGap
from inventory_service.db.uow import Database
from inventory_service.services import storage_units
from inventory_service.services.context import Context

REPO = Path(__file__).resolve().parents[1]
LOAD = Path(__file__).with_name("_mqtt_load.py")
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TZ = "America/New_York"
SENSORS = 200
INTERVAL_S = 300.0  # 5-minute readings
THROUGHPUT_READINGS = 200_000
BACKFILL_PER_SENSOR = 4_000
LATENCY_SAMPLES = 30
BACKGROUND_RATE = 1_000.0
SAMPLE_SPACING_S = 2.0
PRECURSOR_LEAD_S = 1.5
WARMUP_S = 5.0
RATIO_TARGET = 0.9
RSS_TARGET_MB = 100.0
LATENCY_TARGET_MS = 1000.0
BUSY_HOST_PERCENT = 25.0


def say(msg: str = "") -> None:
    print(msg, flush=True)


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of `values` (p in 0..100); NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def fmt(value: float | None, spec: str = ",.0f") -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


def sensor_id(i: int) -> str:
    return f"bench-s{i:03d}"


# --- processes and the host ----------------------------------------------------------------------


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) used by process `pid` so far; NaN when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def host_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole host since boot, all CPUs summed."""
    with open("/proc/stat", encoding="ascii") as f:
        values = [int(v) for v in f.readline().split()[1:9]]
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values) - values[3] - values[4]) / tick, sum(values) / tick


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return math.nan


class CpuMeter:
    """CPU use (% of one CPU) of named processes and of the whole host over a window."""

    def __init__(self, pids: dict[str, list[int]]) -> None:
        self.pids = pids
        self.before = {name: sum(process_cpu(p) for p in ps) for name, ps in pids.items()}
        self.host = host_cpu()[0]
        self.wall = time.monotonic()
        self.seconds = math.nan  # the window, once stopped
        self.result: dict[str, float] = {}

    def stop(self) -> dict[str, float]:
        wall = time.monotonic() - self.wall
        self.seconds = wall
        out = {name: (sum(process_cpu(p) for p in ps) - self.before[name]) / wall * 100
               for name, ps in self.pids.items()}
        out["host"] = (host_cpu()[0] - self.host) / wall * 100
        out["others"] = out["host"] - sum(v for k, v in out.items() if k != "host" and not math.isnan(v))
        self.result = out
        return out


class RssSampler:
    """VmRSS of one process every `every` seconds, in a thread; keeps the peak and its instant."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        self.pid, self.every = pid, every
        self.peak, self.peak_at, self.samples = 0.0, 0.0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss", daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            value = rss_mb(self.pid)
            if not math.isnan(value):
                self.samples += 1
                if value > self.peak:
                    self.peak, self.peak_at = value, time.monotonic()
            self._stop.wait(self.every)


# --- Mosquitto ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


@dataclass
class Broker:
    host: str
    port: int
    pid: int
    version: str

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"


@contextlib.contextmanager
def mosquitto(workdir: Path, tag: str) -> Iterator[Broker]:
    """A private Mosquitto on a free loopback port, running as the current user."""
    binary = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    if binary is None:
        raise RuntimeError("no mosquitto binary on PATH (Debian package 'mosquitto')")
    version = subprocess.run([binary, "-h"], capture_output=True, text=True, check=False).stdout.split("\n")[0]
    port = free_port()
    bdir = workdir / f"mosquitto-{tag}"
    bdir.mkdir()
    conf = bdir / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nuser {getpass.getuser()}\nallow_anonymous true\npersistence false\n"
        "max_queued_messages 1000000\nmax_inflight_messages 1000\n"
        f"log_dest file {bdir}/mosquitto.log\nlog_type error\nlog_type warning\nlog_type notice\n"
    )
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait_for_port("127.0.0.1", port):
            log = bdir / "mosquitto.log"
            raise RuntimeError(f"Mosquitto did not start on port {port}: {log.read_text() if log.exists() else ''}")
        yield Broker("127.0.0.1", port, proc.pid, version.replace("mosquitto version ", "Mosquitto "))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def wait_retained(broker: Broker, topic: str, value: str, timeout: float = 30.0) -> bool:
    """Wait until retained/published `value` is seen on `topic` (the ingest's "online" status)."""
    seen = threading.Event()

    def on_connect(client: mqtt.Client, *_: Any) -> None:
        client.subscribe(topic, qos=1)

    def on_message(client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.payload.decode(errors="replace") == value:
            seen.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-watch-{secrets.token_hex(4)}",
                         protocol=mqtt.MQTTv5)
    client.on_connect, client.on_message = on_connect, on_message
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        return seen.wait(timeout)
    finally:
        client.disconnect()
        client.loop_stop()


# --- load processes ----------------------------------------------------------------------------


class LoadProc:
    """`bench/_mqtt_load.py` with a job; JSON lines both ways (see that file)."""

    def __init__(self, job: dict[str, Any], log: Path) -> None:
        self.job = job
        self._err = log.open("ab")
        self.proc = subprocess.Popen([sys.executable, str(LOAD), json.dumps(job)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._err, text=True, bufsize=1, cwd=REPO)
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.done: dict[str, Any] | None = None
        self.ready: dict[str, Any] = {}
        threading.Thread(target=self._read, name=f"load-{job['cid']}", daemon=True).start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))
        self.lines.put(None)

    def next(self, timeout: float) -> dict[str, Any]:
        try:
            msg = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError(f"load process {self.job['cid']}: nothing within {timeout:.0f} s") from None
        if msg is None:
            raise RuntimeError(f"load process {self.job['cid']} exited (status {self.proc.wait()}); "
                               f"see {self._err.name}")
        if "done" in msg:
            self.done = msg["done"]
        return msg

    def wait_ready(self, timeout: float = 120) -> dict[str, Any]:
        self.ready = self.next(timeout)["ready"]
        return self.ready

    def wait_done(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while self.done is None:
            self.next(max(0.1, deadline - time.monotonic()))
        return self.done

    def tell(self, msg: dict[str, Any]) -> None:
        with contextlib.suppress(OSError, ValueError):
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps(msg) + "\n")
            self.proc.stdin.flush()

    def close(self) -> None:
        if self._err.closed:
            return
        self.tell({"stop": True})
        with contextlib.suppress(OSError, ValueError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self._err.close()


def go(procs: Sequence[LoadProc], delay: float = 0.3) -> float:
    """Tell every load process to start at the same instant; return it."""
    at = time.monotonic() + delay
    for p in procs:
        p.tell({"go": at})
    return at


def split(items: Sequence[str], parts: int) -> list[list[str]]:
    return [list(items[i::parts]) for i in range(parts) if items[i::parts]]


# --- databases and the service -------------------------------------------------------------------


@contextlib.contextmanager
def fresh_database(backend: str, args: argparse.Namespace, workdir: Path, tag: str) -> Iterator[tuple[str, str]]:
    """(url, description) of a new, empty database; PostgreSQL ones are dropped afterwards."""
    if backend == "sqlite":
        import sqlite3

        yield (f"sqlite:///{workdir / f'{tag}.db'}",
               f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL), file on {workdir}")
        return
    admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
    name = f"bench_ingest_{secrets.token_hex(6)}"
    try:
        with admin.connect() as conn:
            version = conn.exec_driver_sql("SHOW server_version").scalar()
            sync = conn.exec_driver_sql("SHOW synchronous_commit").scalar()
            fsync = conn.exec_driver_sql("SHOW fsync").scalar()
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            url = make_url(args.pg_url).set(database=name).render_as_string(hide_password=False)
            host = make_url(args.pg_url).host
            yield url, f"PostgreSQL {version} on {host} (synchronous_commit={sync}, fsync={fsync})"
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def seed(url: str) -> tuple[Engine, dict[int, str]]:
    """Migrate; 200 refrigerators with one 5-minute sensor each, assigned 60 days ago (so every
    reading of the benchmark falls inside the assignment). Returns the engine and unit id -> sensor."""
    migrate.upgrade(url)
    engine = make_engine(url)
    db = Database(engine)
    ctx = Context(actor="bench", source="cli", now=datetime.now(UTC) - timedelta(days=60), tz=ZoneInfo(TZ))
    units: dict[int, str] = {}
    with db.unit_of_work() as uow:
        for i in range(SENSORS):
            unit = storage_units.create_unit(uow, ctx, name=f"Bench fridge {i:03d}", kind="refrigerator")
            storage_units.assign_sensor(uow, ctx, sensor_id=sensor_id(i), storage_unit_id=unit.id, interval_min=5)
            units[unit.id] = sensor_id(i)
        uow.commit()
    return engine, units


def scalar(engine: Engine, sql: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(sql).scalar()


def count_readings(engine: Engine) -> int:
    return int(scalar(engine, select(func.count()).select_from(Reading)) or 0)


class CommittedReadings:
    """Readings committed so far, counted incrementally (see the module docstring): a poll costs a
    primary-key range over the rows committed since the last poll, not a scan of the whole table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.total = 0
        self.seen_id = 0

    def poll(self) -> int:
        with self.engine.connect() as conn:
            n, top = conn.execute(select(func.count(), func.max(Reading.id)).where(Reading.id > self.seen_id)).one()
        if n:
            self.total += int(n)
            self.seen_id = int(top)
        return self.total

    def verify(self) -> None:
        """The sum must be the table's count: a row that became visible below `seen_id` after a
        poll passed it would have been missed, and the rate would be wrong."""
        full = count_readings(self.engine)
        if full != self.total:
            raise RuntimeError(f"the incremental count missed rows: {self.total:,} counted, {full:,} stored")


class IngestProcess:
    """`python -m inventory_service.cli ingest` with its settings in the environment."""

    def __init__(self, url: str, broker: Broker, instance: str, log: Path, py_spy: str | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_")}
        env.update(INVENTORY_DATABASE_URL=url, INVENTORY_MQTT_URL=broker.url, INVENTORY_INSTANCE=instance,
                   INVENTORY_TIMEZONE=TZ, INVENTORY_DATA_DIR=str(log.parent), INVENTORY_LOG_LEVEL="INFO",
                   PYTHONUNBUFFERED="1")
        self.log = log
        self._out = log.open("ab")
        self.started = time.monotonic()  # the no-data sweep runs every 60 s from about here
        self.proc = subprocess.Popen([sys.executable, "-m", "inventory_service.cli", "ingest"], env=env, cwd=REPO,
                                     stdout=self._out, stderr=subprocess.STDOUT)
        self.instance = instance
        self.profiler: subprocess.Popen[bytes] | None = None
        if not wait_retained(broker, f"inventory/ingest/{instance}/status", "online", timeout=60):
            self.stop()
            raise RuntimeError(f"the ingest never came online; its log:\n{self.tail()}")
        if py_spy:
            # Collapsed stacks of every thread (idle frames dropped), 100 samples/s, without pausing the process.
            self.profile = log.with_suffix(".pyspy.txt")
            self.profiler = subprocess.Popen([py_spy, "record", "--nonblocking", "--format", "raw", "--threads",
                                              "--rate", "100", "-o", str(self.profile), "--pid", str(self.pid)],
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def errors(self) -> int:
        """Batches the service logged as failed (each is retried)."""
        try:
            return self.log.read_text(errors="replace").count("failed; retrying")
        except OSError:
            return 0

    def stop(self) -> None:
        if self.profiler is not None:  # SIGINT: py-spy writes its output and exits
            self.profiler.send_signal(signal.SIGINT)
            try:
                self.profiler.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.profiler.kill()
            say(f"    py-spy profile of the ingest: {self.profile}")
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._out.close()


def side_effects(engine: Engine) -> dict[str, Any]:
    """What else the ingest wrote: alerts and alarms by kind, sequence gaps, rejected inputs."""
    with engine.connect() as conn:
        alerts = dict(conn.execute(select(Alert.kind, func.count()).group_by(Alert.kind)).all())
        alarms = dict(conn.execute(select(Alarm.kind, func.count()).group_by(Alarm.kind)).all())
        gaps = conn.execute(select(func.count()).select_from(SeqGap)).scalar()
        rejected = conn.execute(select(func.count()).select_from(RejectedInput)).scalar()
    return {"alerts": alerts, "alarms": alarms, "seq_gaps": int(gaps or 0), "rejected": int(rejected or 0)}


# --- results ------------------------------------------------------------------------------------


@dataclass
class Throughput:
    readings: int = 0
    publish_rate: float = math.nan  # messages handed to paho per second, all publishers
    bare_received: int = 0
    bare_seconds: float = math.nan
    bare_rate: float = math.nan
    ingest_committed: int = 0
    ingest_seconds: float = math.nan  # first -> last commit
    ingest_rate: float = math.nan
    end_to_end_seconds: float = math.nan  # first publish -> last commit
    peak_rss: float = math.nan
    cpu_bare: dict[str, float] = field(default_factory=dict)
    cpu_ingest: dict[str, float] = field(default_factory=dict)
    bare_cpu_us: float = math.nan  # CPU of the bare subscriber per message, microseconds
    ingest_cpu_us: float = math.nan  # CPU of the ingest process per reading committed
    bare_rates: list[float] = field(default_factory=list)  # every bare run, in order (--rounds)
    ingest_rates: list[float] = field(default_factory=list)  # every ingest run, between two bare runs
    extra: dict[str, Any] = field(default_factory=dict)
    errors: int = 0
    error: str = ""

    @property
    def round_ratios(self) -> list[float]:
        """Each ingest run against the bare runs just before and after it (their mean), so that a
        host whose other load drifts during the scenario weighs on both sides alike."""
        out = []
        for i, rate in enumerate(self.ingest_rates):
            around = self.bare_rates[i:i + 2]
            out.append(rate / (sum(around) / len(around)) if around else math.nan)
        return out

    @property
    def ratio(self) -> float:
        """One round: ingest / bare. Several: the median of the round ratios."""
        if len(self.ingest_rates) > 1:
            ratios = sorted(self.round_ratios)
            mid = len(ratios) // 2
            return ratios[mid] if len(ratios) % 2 else (ratios[mid - 1] + ratios[mid]) / 2
        return self.ingest_rate / self.bare_rate if self.bare_rate else math.nan

    @property
    def passed(self) -> bool:
        return not self.error and self.ingest_committed == self.readings and self.ratio >= RATIO_TARGET


@dataclass
class Backfill:
    expected: int = 0
    messages: int = 0
    payload_mb: float = math.nan
    committed: int = 0
    rss_before: float = math.nan
    rss_peak: float = math.nan
    rss_after: float = math.nan
    seconds: float = math.nan  # first publish -> all committed
    cpu: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    errors: int = 0
    error: str = ""

    @property
    def growth(self) -> float:
        return self.rss_peak - self.rss_before

    @property
    def lossless(self) -> bool:
        return self.committed == self.expected and self.extra.get("rejected", 0) == 0

    @property
    def passed(self) -> bool:
        return not self.error and self.lossless and self.growth < RSS_TARGET_MB


@dataclass
class Latency:
    samples: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    service_ms: list[float] = field(default_factory=list)  # alert opened_at - publish wall time
    slowest: list[tuple[float, float]] = field(default_factory=list)  # (latency ms, s since the ingest started)
    premature: int = 0
    missed: int = 0
    publisher_late_ms: float = math.nan
    background_sent: int = 0
    background_rate: float = math.nan
    background_late_ms: float = math.nan
    committed_at_end: int = 0
    published_total: int = 0
    cpu: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    errors: int = 0
    error: str = ""

    @property
    def p50(self) -> float:
        return pct(self.latencies_ms, 50)

    @property
    def p99(self) -> float:
        return pct(self.latencies_ms, 99)

    @property
    def passed(self) -> bool:
        return (not self.error and not self.missed and len(self.latencies_ms) > 0
                and self.p99 < LATENCY_TARGET_MS)


@dataclass
class BackendResult:
    backend: str
    server: str = ""
    broker: str = ""
    throughput: Throughput | None = None
    backfill: Backfill | None = None
    latency: Latency | None = None


# --- scenarios ----------------------------------------------------------------------------------


def wait_count(engine: Engine, target: int, *, every: float, stall: float, ingest: IngestProcess,
               on_poll: Callable[[], None] | None = None) -> tuple[int, float | None, int, float]:
    """Poll the committed readings (CommittedReadings) until `target`. Returns (count at first non-zero
    poll, its instant, final count, instant of the final poll); the final count is checked against a
    full count(*). Gives up when nothing moved for `stall` seconds or the ingest died."""
    first_count, first_at = 0, None
    last, last_change = -1, time.monotonic()
    committed = CommittedReadings(engine)
    while True:
        n = committed.poll()
        now = time.monotonic()
        if on_poll is not None:
            on_poll()
        if n > 0 and first_at is None:
            first_count, first_at = n, now
        if n != last:
            last, last_change = n, now
        if n >= target:
            committed.verify()
            return first_count, first_at, n, now
        if now - last_change > stall:
            raise RuntimeError(f"readings stuck at {n:,} of {target:,} for {stall:.0f} s")
        if not ingest.alive():
            raise RuntimeError(f"the ingest process exited (status {ingest.proc.poll()}):\n{ingest.tail()}")
        time.sleep(every)


def stream_jobs(broker: Broker, tag: str, publishers: int, per_sensor: int, *, backfill: bool) -> list[dict[str, Any]]:
    t_end = time.time() - 60
    return [{"mode": "stream", "host": broker.host, "port": broker.port, "cid": f"bench-{tag}-pub{i}",
             "sensors": group, "per_sensor": per_sensor, "seq0": 0, "t_end": t_end, "interval_s": INTERVAL_S,
             "backfill": backfill}
            for i, group in enumerate(split([sensor_id(i) for i in range(SENSORS)], publishers))]


def start_publishers(jobs: list[dict[str, Any]], workdir: Path) -> list[LoadProc]:
    procs = [LoadProc(job, workdir / f"{job['cid']}.log") for job in jobs]
    for p in procs:
        p.wait_ready(300)
    return procs


def publish_rate(done: Sequence[dict[str, Any]]) -> float:
    first = min(d["t_first"] for d in done)
    last = max(d["t_handed"] for d in done)
    return sum(d["messages"] for d in done) / (last - first) if last > first else math.nan


def run_bare(backend: str, args: argparse.Namespace, workdir: Path, broker: Broker, t: Throughput, tag: str,
             per_sensor: int) -> None:
    """One bare run: a plain paho subscriber counts the stream (see the module docstring)."""
    say(f"[{backend}] throughput: bare QoS 1 subscriber counting {t.readings:,} messages")
    counter = LoadProc({"mode": "count", "host": broker.host, "port": broker.port, "cid": f"bench-bare{tag}",
                        "expected": t.readings}, workdir / f"bare{tag}.log")
    pubs: list[LoadProc] = []
    try:
        counter.wait_ready(30)
        pubs = start_publishers(stream_jobs(broker, f"bare{tag}", args.publishers, per_sensor, backfill=False),
                                workdir)
        meter = CpuMeter({"subscriber": [counter.pid], "publishers": [p.pid for p in pubs],
                          "mosquitto": [broker.pid]})
        go(pubs)
        done = counter.wait_done(args.max_wait)
        t.cpu_bare = meter.stop()
        pub_done = [p.wait_done(300) for p in pubs]
    finally:
        for p in [counter, *pubs]:
            p.close()
    t.bare_received = int(done["messages"])
    t.bare_seconds = done["t_last"] - done["t_first"]
    rate = t.bare_received / t.bare_seconds if t.bare_seconds > 0 else math.nan
    t.bare_rates.append(rate)
    t.bare_cpu_us = t.cpu_bare["subscriber"] / 100 * meter.seconds / t.bare_received * 1e6
    say(f"[{backend}]   bare: {t.bare_received:,} in {t.bare_seconds:.2f} s = {fmt(rate)}/s "
        f"(publishers handed over {fmt(publish_rate(pub_done))}/s; subscriber CPU {t.bare_cpu_us:.0f} µs/message)")
    if t.bare_received != t.readings:
        raise RuntimeError(f"bare subscriber got {t.bare_received:,} of {t.readings:,}")


def run_ingest_stream(backend: str, args: argparse.Namespace, workdir: Path, res: BackendResult, broker: Broker,
                      t: Throughput, tag: str, per_sensor: int) -> None:
    """One ingest run: the same stream into `inventory-service ingest` on a fresh database."""
    with fresh_database(backend, args, workdir, f"throughput{tag}") as (url, server):
        res.server = server
        engine, _ = seed(url)
        ingest = IngestProcess(url, broker, f"bench-throughput{tag}",
                               workdir / f"ingest-{backend}-throughput{tag}.log", args.py_spy)
        pubs = []
        try:
            pubs = start_publishers(stream_jobs(broker, f"ingest{tag}", args.publishers, per_sensor, backfill=False),
                                    workdir)
            say(f"[{backend}] throughput: same stream into `inventory-service ingest` (pid {ingest.pid})")
            meter = CpuMeter({"ingest": [ingest.pid], "publishers": [p.pid for p in pubs],
                              "mosquitto": [broker.pid]})
            with RssSampler(ingest.pid, every=0.2) as rss:
                started = go(pubs)
                progress = Progress(backend, t.readings)
                c0, t0, n, t1 = wait_count(engine, t.readings, every=0.1, stall=args.stall, ingest=ingest,
                                           on_poll=lambda: progress.show(engine))
            t.cpu_ingest = meter.stop()
            pub_done = [p.wait_done(300) for p in pubs]
            for p in pubs:
                p.close()
            t.publish_rate = publish_rate(pub_done)
            t.ingest_committed = n
            if t0 is not None and t1 > t0:
                t.ingest_seconds = t1 - t0
                t.ingest_rate = (n - c0) / (t1 - t0)
            t.ingest_rates.append(t.ingest_rate)
            t.ingest_cpu_us = t.cpu_ingest["ingest"] / 100 * meter.seconds / n * 1e6 if n else math.nan
            t.end_to_end_seconds = t1 - started
            t.peak_rss = rss.peak
            t.extra = side_effects(engine)
            t.errors = ingest.errors()
        finally:
            for p in pubs:
                p.close()
            ingest.stop()
            engine.dispose()
    say(f"[{backend}]   ingest: {t.ingest_committed:,} committed at {fmt(t.ingest_rate)}/s "
        f"(ingest CPU {t.ingest_cpu_us:.0f} µs/reading)")


def run_throughput(backend: str, args: argparse.Namespace, workdir: Path, res: BackendResult) -> Throughput:
    """Bare, then ingest; with --rounds N > 1: bare, ingest, bare, ... N ingest runs between N + 1 bare
    runs, all on one broker, each ingest run on a fresh database."""
    t = Throughput()
    per_sensor = max(1, round(THROUGHPUT_READINGS * args.scale / SENSORS))
    t.readings = per_sensor * SENSORS
    with mosquitto(workdir, f"{backend}-throughput") as broker:
        res.broker = broker.version
        for i in range(args.rounds):
            tag = f"-{i}" if args.rounds > 1 else ""
            run_bare(backend, args, workdir, broker, t, tag, per_sensor)
            run_ingest_stream(backend, args, workdir, res, broker, t, tag, per_sensor)
        if args.rounds > 1:
            run_bare(backend, args, workdir, broker, t, f"-{args.rounds}", per_sensor)
    t.bare_rate, t.ingest_rate = statistics.median(t.bare_rates), statistics.median(t.ingest_rates)
    rounds = (f"; rounds {', '.join(fmt(r, '.3f') for r in t.round_ratios)}" if args.rounds > 1 else "")
    say(f"[{backend}]   ratio {fmt(t.ratio, '.3f')}{rounds}")
    return t


class Progress:
    """A line every 10 s while a long wait runs."""

    def __init__(self, backend: str, target: int) -> None:
        self.backend, self.target = backend, target
        self.next = time.monotonic() + 10
        self.start = time.monotonic()

    def show(self, engine: Engine) -> None:
        if time.monotonic() >= self.next:
            self.next += 10
            n = count_readings(engine)
            say(f"[{self.backend}]   ... {n:,} / {self.target:,} committed after {time.monotonic() - self.start:.0f} s")


def run_backfill(backend: str, args: argparse.Namespace, workdir: Path, res: BackendResult) -> Backfill:
    b = Backfill()
    per_sensor = max(1, round(BACKFILL_PER_SENSOR * args.scale))
    b.expected = per_sensor * SENSORS
    with mosquitto(workdir, f"{backend}-backfill") as broker, \
            fresh_database(backend, args, workdir, "backfill") as (url, _):
        res.broker = broker.version
        engine, _ = seed(url)
        ingest = IngestProcess(url, broker, "bench-backfill", workdir / f"ingest-{backend}-backfill.log", args.py_spy)
        pubs: list[LoadProc] = []
        try:
            pubs = start_publishers(stream_jobs(broker, "backfill", args.publishers, per_sensor, backfill=True),
                                    workdir)
            b.messages = sum(int(p.ready["messages"]) for p in pubs)
            b.payload_mb = sum(int(p.ready["bytes"]) for p in pubs) / 1e6
            time.sleep(2.0)  # at rest: connected, idle
            b.rss_before = rss_mb(ingest.pid)
            say(f"[{backend}] backfill: {SENSORS} sensors x one array of {per_sensor:,} readings "
                f"({b.payload_mb / b.messages * 1000:.0f} kB each); ingest RSS at rest {b.rss_before:.1f} MB")
            meter = CpuMeter({"ingest": [ingest.pid], "publishers": [p.pid for p in pubs],
                              "mosquitto": [broker.pid]})
            with RssSampler(ingest.pid, every=0.05) as rss:
                started = go(pubs)
                progress = Progress(backend, b.expected)
                _, _, _, t1 = wait_count(engine, b.expected, every=0.25, stall=args.stall, ingest=ingest,
                                         on_poll=lambda: progress.show(engine))
                b.seconds = t1 - started
                time.sleep(2.0)  # anything still growing after the last commit
            b.cpu = meter.stop()
            b.rss_peak = rss.peak
            b.rss_after = rss_mb(ingest.pid)
            pub_done = [p.wait_done(300) for p in pubs]
            for p in pubs:
                p.close()
            b.committed = count_readings(engine)
            b.extra = side_effects(engine)
            b.extra["published"] = sum(d["messages"] for d in pub_done)
            b.errors = ingest.errors()
        finally:
            for p in pubs:
                p.close()
            ingest.stop()
            engine.dispose()
    say(f"[{backend}]   backfill: {b.committed:,} / {b.expected:,} committed in {b.seconds:.1f} s; "
        f"RSS {b.rss_before:.0f} -> peak {b.rss_peak:.0f} MB (+{b.growth:.0f} MB)")
    return b


def run_latency(backend: str, args: argparse.Namespace, workdir: Path, res: BackendResult) -> Latency:
    lat = Latency()
    samples = min(SENSORS // 2, max(5, round(LATENCY_SAMPLES * args.scale)))
    lat.samples = samples
    alarm_sensors = [sensor_id(i) for i in range(SENSORS - samples, SENSORS)]
    background = [sensor_id(i) for i in range(SENSORS - samples)]
    duration = WARMUP_S + samples * SAMPLE_SPACING_S + 3.0
    per_bg_sensor = math.ceil(args.background_rate * duration / len(background))
    with mosquitto(workdir, f"{backend}-latency") as broker, \
            fresh_database(backend, args, workdir, "latency") as (url, _):
        res.broker = broker.version
        engine, units = seed(url)
        unit_of = {s: u for u, s in units.items()}
        ingest = IngestProcess(url, broker, "bench-latency", workdir / f"ingest-{backend}-latency.log", args.py_spy)
        procs: list[LoadProc] = []
        try:
            bg = LoadProc({"mode": "paced", "host": broker.host, "port": broker.port, "cid": "bench-background",
                           "sensors": background, "rate": args.background_rate, "duration": duration,
                           "interval_s": INTERVAL_S, "ts0": time.time() - (per_bg_sensor + 3) * INTERVAL_S},
                          workdir / "background.log")
            procs.append(bg)
            al = LoadProc({"mode": "alarms", "host": broker.host, "port": broker.port, "cid": "bench-alarms",
                           "sensors": alarm_sensors, "warmup": WARMUP_S, "spacing": SAMPLE_SPACING_S,
                           "lead": PRECURSOR_LEAD_S, "interval_s": INTERVAL_S}, workdir / "alarms.log")
            procs.append(al)
            for p in procs:
                p.wait_ready(120)
            say(f"[{backend}] alert latency: {args.background_rate:,.0f} readings/s on {len(background)} sensors for "
                f"{duration:.0f} s; {samples} alarms, one every {SAMPLE_SPACING_S:g} s after {WARMUP_S:g} s")
            meter = CpuMeter({"ingest": [ingest.pid], "load": [p.pid for p in procs], "mosquitto": [broker.pid]})
            published: dict[str, tuple[float, float]] = {}  # sensor -> (monotonic, wall) of the 7th reading
            seen: dict[str, tuple[float, datetime]] = {}  # sensor -> (monotonic when seen, opened_at)
            late: list[float] = []
            start = go(procs)
            last_id = 0
            deadline = start + duration + args.latency_drain
            alarms_done = False
            while time.monotonic() < deadline and not (alarms_done and len(seen) >= samples):
                while True:
                    try:
                        msg = al.lines.get_nowait()
                    except queue.Empty:
                        break
                    if msg is None:
                        alarms_done = True
                        break
                    if "sample" in msg:
                        published[msg["sensor"]] = (msg["mono"], msg["wall"])
                        late.append(msg["late_s"] * 1000)
                    if "done" in msg:
                        al.done = msg["done"]
                        alarms_done = True
                with engine.connect() as conn:
                    rows = conn.execute(select(Alert.id, Alert.details, Alert.opened_at).where(
                        Alert.kind == "excursion", Alert.id > last_id).order_by(Alert.id)).all()
                now = time.monotonic()
                for alert_id, details, opened_at in rows:
                    last_id = max(last_id, alert_id)
                    s = units.get(int((details or {}).get("storage_unit_id", -1)))
                    if s is not None and s not in seen:
                        seen[s] = (now, opened_at)
                if not ingest.alive():
                    raise RuntimeError(f"the ingest process exited:\n{ingest.tail()}")
                time.sleep(0.01)
            lat.cpu = meter.stop()
            bg_done = bg.wait_done(120)
            if al.done is None:
                al.wait_done(120)
            time.sleep(1.0)
            lat.committed_at_end = count_readings(engine)
            lat.published_total = int(bg_done["messages"]) + int(al.done["messages"] if al.done else 0)
            lat.background_sent = int(bg_done["messages"])
            span = bg_done["t_last"] - bg_done["t_first"]
            lat.background_rate = lat.background_sent / span if span > 0 else math.nan
            lat.background_late_ms = bg_done["max_late_s"] * 1000
            lat.publisher_late_ms = max(late, default=math.nan)
            for s in alarm_sensors:
                if s not in published or s not in seen:
                    lat.missed += 1
                    continue
                mono, wall = published[s]
                seen_at, opened_at = seen[s]
                if seen_at < mono:
                    lat.premature += 1
                    continue
                lat.latencies_ms.append((seen_at - mono) * 1000)
                lat.service_ms.append((opened_at.timestamp() - wall) * 1000)
                lat.slowest.append(((seen_at - mono) * 1000, mono - ingest.started))
            lat.slowest = sorted(lat.slowest, reverse=True)[:3]
            lat.extra = side_effects(engine)
            lat.extra["unit_of"] = len(unit_of)
            lat.errors = ingest.errors()
        finally:
            for p in procs:
                p.close()
            ingest.stop()
            engine.dispose()
    say(f"[{backend}]   alert latency: {len(lat.latencies_ms)} samples, p50 {fmt(lat.p50, '.0f')} ms, "
        f"p99 {fmt(lat.p99, '.0f')} ms ({lat.premature} premature, {lat.missed} missed)")
    return lat


def run_backend(backend: str, args: argparse.Namespace, workdir: Path) -> BackendResult:
    res = BackendResult(backend)
    if backend != "sqlite":
        with fresh_database(backend, args, workdir, "probe") as (_, server):
            res.server = server
    else:
        import sqlite3

        res.server = f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL)"
    for name in args.only:
        try:
            if name == "throughput":
                res.throughput = run_throughput(backend, args, workdir, res)
            elif name == "backfill":
                res.backfill = run_backfill(backend, args, workdir, res)
            elif name == "latency":
                res.latency = run_latency(backend, args, workdir, res)
        except Exception as exc:
            say(f"[{backend}] {name} FAILED: {type(exc).__name__}: {exc}")
            error = f"{type(exc).__name__}: {exc}"
            if name == "throughput":
                res.throughput = Throughput(error=error)
            elif name == "backfill":
                res.backfill = Backfill(error=error)
            else:
                res.latency = Latency(error=error)
    return res


# --- report -------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def cpu_line(cpu: dict[str, float]) -> str:
    parts = [f"{k} {fmt(v, '.0f')}%" for k, v in cpu.items() if k not in ("host", "others")]
    return (f"{', '.join(parts)}; host busy {fmt(cpu.get('host'), '.0f')}% "
            f"(other processes {fmt(cpu.get('others'), '.0f')}%)")


def kinds(d: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(d.items())) or "none"


def print_backend(r: BackendResult, args: argparse.Namespace) -> None:
    row = "  {:<15}{:<44}{:>22}  {:<16}{}"
    say()
    say(f"== {r.backend}: {r.server}; {r.broker} ==")
    say(row.format("scenario", "figure", "value", "target", "result"))
    t = r.throughput
    if t is not None:
        if t.error:
            say(row.format("throughput", "ERROR", "", "", t.error))
        else:
            say(row.format("throughput", f"readings ({SENSORS} sensors, QoS 1, 1 per message)", f"{t.readings:,}",
                           "", ""))
            say(row.format("", "bare subscriber, messages/s", fmt(t.bare_rate), "", ""))
            say(row.format("", "  (first -> last message)", f"{t.bare_seconds:.2f} s", "", ""))
            say(row.format("", "  subscriber CPU per message", f"{t.bare_cpu_us:.0f} µs", "", ""))
            say(row.format("", "ingest, readings committed/s", fmt(t.ingest_rate), "", ""))
            say(row.format("", "  (first -> last commit)", f"{t.ingest_seconds:.2f} s", "", ""))
            say(row.format("", "  ingest CPU per reading", f"{t.ingest_cpu_us:.0f} µs", "", ""))
            say(row.format("", "  committed", f"{t.ingest_committed:,}", "all", ""))
            if len(t.ingest_rates) > 1:
                say(row.format("", f"  {len(t.ingest_rates)} rounds: rates (medians shown above)",
                               "bare " + " / ".join(fmt(r) for r in t.bare_rates), "", ""))
                say(row.format("", "", "ingest " + " / ".join(fmt(r) for r in t.ingest_rates), "", ""))
                say(row.format("", "  ratio of each round (to the bare runs around it)",
                               " / ".join(fmt(r, ".3f") for r in t.round_ratios), "", ""))
            say(row.format("", "ratio ingest / bare" + (" (median)" if len(t.ingest_rates) > 1 else ""),
                           fmt(t.ratio, ".3f"), f">= {RATIO_TARGET}", verdict(t.passed)))
    b = r.backfill
    if b is not None:
        if b.error:
            say(row.format("backfill", "ERROR", "", "", b.error))
        else:
            say(row.format("backfill", f"{SENSORS} x one array of {b.expected // SENSORS:,} readings",
                           f"{b.expected:,}", "", ""))
            say(row.format("", "readings committed (rejected)", f"{b.committed:,} ({b.extra.get('rejected', 0)})",
                           f"= {b.expected:,} (0)", verdict(b.lossless)))
            say(row.format("", "ingest RSS at rest / peak (MB)", f"{b.rss_before:.1f} / {b.rss_peak:.1f}", "", ""))
            say(row.format("", "RSS growth (MB)", f"{b.growth:.1f}", f"< {RSS_TARGET_MB:.0f}",
                           verdict(b.growth < RSS_TARGET_MB)))
            say(row.format("", "first publish -> all committed", f"{b.seconds:.1f} s", "", ""))
            say(row.format("", "", "", "", f"backfill {verdict(b.passed)}"))
    lat = r.latency
    if lat is not None:
        if lat.error:
            say(row.format("alert latency", "ERROR", "", "", lat.error))
        else:
            say(row.format("alert latency", "background readings/s (achieved)", fmt(lat.background_rate),
                           fmt(args.background_rate), ""))
            say(row.format("", "alarms timed (premature, missed)",
                           f"{len(lat.latencies_ms)} ({lat.premature}, {lat.missed})", f"{lat.samples} (0, 0)", ""))
            say(row.format("", "publish -> alert row seen, p50 (ms)", fmt(lat.p50, ".0f"), "", ""))
            say(row.format("", "publish -> alert row seen, p99 (ms)", fmt(lat.p99, ".0f"),
                           f"< {LATENCY_TARGET_MS:.0f}", verdict(lat.passed)))
    print_details(r)


def print_details(r: BackendResult) -> None:
    t, b, lat = r.throughput, r.backfill, r.latency
    say("  details:")
    if t is not None and not t.error:
        say(f"    throughput: publishers handed {fmt(t.publish_rate)} msg/s to paho; first publish -> last commit "
            f"{t.end_to_end_seconds:.1f} s; ingest peak RSS {t.peak_rss:.0f} MB; failed batches logged {t.errors}")
        say(f"      CPU (% of one CPU, {os.cpu_count()} CPUs) bare run: {cpu_line(t.cpu_bare)}")
        say(f"      CPU ingest run: {cpu_line(t.cpu_ingest)}")
        say(f"      written besides readings: alerts {kinds(t.extra.get('alerts', {}))}; alarms "
            f"{kinds(t.extra.get('alarms', {}))}; seq gaps {t.extra.get('seq_gaps')}; rejected "
            f"{t.extra.get('rejected')}")
    if b is not None and not b.error:
        rate = b.committed / b.seconds if b.seconds else math.nan
        say(f"    backfill: {fmt(rate)} readings/s; RSS 2 s after the last commit {b.rss_after:.0f} MB; "
            f"failed batches logged {b.errors}")
        say(f"      CPU: {cpu_line(b.cpu)}")
        say(f"      written besides readings: alerts {kinds(b.extra.get('alerts', {}))}; seq gaps "
            f"{b.extra.get('seq_gaps')}")
    if lat is not None and not lat.error:
        say(f"    alert latency: service clock (alert opened_at - publish wall time) p50 "
            f"{fmt(pct(lat.service_ms, 50), '.0f')} ms, p99 {fmt(pct(lat.service_ms, 99), '.0f')} ms; "
            f"all samples (ms): {', '.join(f'{v:.0f}' for v in sorted(lat.latencies_ms))}")
        say("      slowest: " + ", ".join(f"{ms:.0f} ms published {at:.1f} s after the ingest process started"
                                        for ms, at in lat.slowest) + " (its no-data sweep runs every 60 s)")
        say(f"      publishers behind schedule: alarms max {fmt(lat.publisher_late_ms, '.1f')} ms, background max "
            f"{fmt(lat.background_late_ms, '.1f')} ms; readings committed {lat.committed_at_end:,} of "
            f"{lat.published_total:,} published; failed batches logged {lat.errors}")
        say(f"      CPU: {cpu_line(lat.cpu)}")
        say(f"      written besides readings: alerts {kinds(lat.extra.get('alerts', {}))}")
    for cpu in (t.cpu_ingest if t and not t.error else {}, b.cpu if b and not b.error else {},
                lat.cpu if lat and not lat.error else {}):
        if cpu.get("others", 0) > BUSY_HOST_PERCENT:
            say(f"    WARNING: other processes used {cpu['others']:.0f}% of a CPU during a run: the host was not "
                "quiet; figures are pessimistic")
            break


def print_summary(results: list[BackendResult]) -> None:
    say()
    head = f"{'backend':<12}{'bare/s':>10}{'ingest/s':>10}{'ratio':>7}  {'':<5}{'backfill':>20}{'RSS +MB':>9}  " \
           f"{'':<5}{'alert p50':>10}{'p99 ms':>8}  {'':<5}"
    say(head)
    say("-" * len(head))
    for r in results:
        t, b, lat = r.throughput, r.backfill, r.latency
        cells = f"{r.backend:<12}"
        if t is None or t.error:
            cells += f"{'-':>10}{'-':>10}{'-':>7}  {'-' if t is None else 'ERROR':<5}"
        else:
            cells += f"{fmt(t.bare_rate):>10}{fmt(t.ingest_rate):>10}{fmt(t.ratio, '.2f'):>7}  {verdict(t.passed):<5}"
        if b is None or b.error:
            cells += f"{'-':>20}{'-':>9}  {'-' if b is None else 'ERROR':<5}"
        else:
            cells += f"{f'{b.committed:,}/{b.expected:,}':>20}{b.growth:>9.0f}  {verdict(b.passed):<5}"
        if lat is None or lat.error:
            cells += f"{'-':>10}{'-':>8}  {'-' if lat is None else 'ERROR':<5}"
        else:
            cells += f"{fmt(lat.p50, '.0f'):>10}{fmt(lat.p99, '.0f'):>8}  {verdict(lat.passed):<5}"
        say(cells)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="fraction of the readings (throughput, backfill) and of the alarm samples (min 5)")
    ap.add_argument("--only", default="throughput,backfill,latency",
                    help="comma-separated scenarios: throughput, backfill, latency")
    ap.add_argument("--publishers", type=int, default=2, help="parallel publisher processes for the bulk streams")
    ap.add_argument("--rounds", type=int, default=1,
                    help="throughput: ingest runs, each between two bare runs when more than 1 (a busy host)")
    ap.add_argument("--pg-url", default=os.environ.get("INVENTORY_TEST_PG_URL", DEFAULT_PG_URL),
                    help="admin URL; databases bench_ingest_<random> are created through it and dropped")
    ap.add_argument("--stall", type=float, default=600.0,
                    help="give up when the readings count has not moved for this many seconds")
    ap.add_argument("--max-wait", type=float, default=1800.0, help="longest wait for the bare subscriber")
    ap.add_argument("--latency-drain", type=float, default=300.0,
                    help="seconds after the load ends to wait for the last alerts")
    ap.add_argument("--background-rate", type=float, default=BACKGROUND_RATE,
                    help="readings/s of background load in the latency scenario (the target is stated for 1,000)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs, SQLite files)")
    ap.add_argument("--py-spy", metavar="PATH", help="py-spy binary: record the ingest process of every scenario "
                    "(collapsed stacks next to its log; implies --keep)")
    args = ap.parse_args(argv)
    if args.py_spy:
        args.keep = True
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    if bad := set(args.only) - {"throughput", "backfill", "latency"}:
        ap.error(f"unknown scenario(s) {', '.join(sorted(bad))}")
    if not 0 < args.scale <= 1 or args.publishers < 1 or args.rounds < 1:
        ap.error("--scale must be in (0, 1], --publishers and --rounds >= 1")
    return args


def revision() -> str:
    """The commit the service code comes from, and whether its files differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "inventory_service", "devices", "migrations"],
                               cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{head}{' + uncommitted changes' if dirty else ''}"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not sys.platform.startswith("linux"):
        say("bench/ingest.py needs Linux (/proc, a system-wide CLOCK_MONOTONIC)")
        return 2
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    say(f"MQTT ingest benchmark: scale {args.scale:g}, {args.publishers} publisher process(es), scenarios "
        f"{', '.join(args.only)}")
    say(f"host: {platform.node()} {platform.platform()} cpus={os.cpu_count()} python={platform.python_version()} "
        f"load average {os.getloadavg()[0]:.2f}")
    start_rev = revision()
    say(f"service code: {start_rev} (each scenario starts a new ingest process, which imports the code as it is then)")
    results: list[BackendResult] = []
    for backend in backends:
        workdir = Path(tempfile.mkdtemp(prefix=f"bench_ingest_{backend}_"))
        try:
            results.append(run_backend(backend, args, workdir))
        finally:
            if args.keep:
                say(f"[{backend}] work directory kept: {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)
    for r in results:
        print_backend(r, args)
    print_summary(results)
    if (end_rev := revision()) != start_rev:
        say(f"WARNING: the service code changed during the run ({start_rev} -> {end_rev}): scenarios may have "
            "measured different code")
    crashed = any(x is not None and x.error for r in results for x in (r.throughput, r.backfill, r.latency))
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
