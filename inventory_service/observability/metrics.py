"""The metric families of one process, on a `CollectorRegistry` of its own (README, "Metrics").

One `Metrics` object per process: the console script builds it for its role and passes it to the
MQTT and scanner ingest, the scheduler and the app, so `run` (everything in one process) has one
registry for all. A component given none builds a private one (tests, benchmarks), so recording never
needs an `if`. Components reach their part through `metrics.mqtt`, `.scans`, `.jobs`, `.deliveries`
and `.http`; a part is created when first asked for, so a process shows only the families of what it
runs (an `api` process has no MQTT counters standing at zero).

Label values are bounded: job ids come from the job table, scanner ids from INVENTORY_SCANNERS,
channels, outcomes and reasons from fixed sets in the code. Sensor and device ids are never labels:
there is no bound on how many publish.

Recording is cheap on purpose: the MQTT consumer adds its counts once per batch, not per message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from .. import __version__

#: Transaction latencies: a scan batch is a few ms, an MQTT batch of 2,000 readings tens to hundreds.
BATCH_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: Jobs run from milliseconds (an idle delivery run) to minutes (a reorder check over many par levels).
JOB_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: HTTP methods counted under their own name; anything else a client sends is `other`.
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

#: Why an MQTT message was stored as rejected: its payload failed validation, or its transaction kept
#: failing and it was stored alone as rejected so the stream goes on (ingest.mqtt, _reject_unprocessable).
INVALID_PAYLOAD, NOT_STORABLE = "invalid_payload", "not_storable"
#: Delivery results: sent, failed and to be tried again, failed for good (retries used up).
SENT, RETRY, FAILED = "sent", "retry", "failed"


class _HasTopic(Protocol):
    topic: str


class _HasResult(Protocol):
    result: str


class _ScanOutcome(Protocol):
    outcome: str
    reason: str | None


class _ReaderStats(Protocol):
    suppressed: int
    reopens: int
    errors: int
    is_open: bool


class _ScannerConfig(Protocol):
    id: str


class _Reader(Protocol):
    config: _ScannerConfig

    def stats(self) -> _ReaderStats: ...


def mqtt_kind(topic: str) -> str:
    """`cycle`, `status` or `reading`: which of the ingest's three subscriptions a topic came in on,
    decided as the consumer decides it (ingest.mqtt, _process)."""
    if topic.startswith("equipment/"):
        return "cycle"
    if topic.endswith("/status"):
        return "status"
    return "reading"


class MqttMetrics:
    """The MQTT ingest: readings, sensor status and equipment cycles in; its inbox; its batches."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.readings_received = Counter(
            "inventory_readings_received", "Reading messages (coldchain/<id>/reading) taken from the inbox by the "
            "consumer; a backfill array is one message", registry=r)
        self.readings_rejected = Counter(
            "inventory_readings_rejected", "Reading messages stored as rejected, by reason", ["reason"], registry=r)
        self.readings_committed = Counter(
            "inventory_readings_committed", "Readings in committed batches, each element of a backfill array "
            "counted (a redelivered reading counts again; it is stored once)", registry=r)
        self.status_received = Counter(
            "inventory_sensor_status_received", "Sensor status messages (coldchain/<id>/status) taken from the inbox",
            registry=r)
        self.status_rejected = Counter(
            "inventory_sensor_status_rejected", "Sensor status messages stored as rejected, by reason", ["reason"],
            registry=r)
        self.cycles_received = Counter(
            "inventory_cycles_received", "Equipment cycle messages (equipment/<id>/cycle) taken from the inbox",
            registry=r)
        self.cycles_rejected = Counter(
            "inventory_cycles_rejected", "Equipment cycle messages stored as rejected, by reason", ["reason"],
            registry=r)
        self.cycles_committed = Counter(
            "inventory_cycles_committed", "Equipment cycles in committed batches, by the cycle's result",
            ["result"], registry=r)
        self.batch_seconds = Histogram(
            "inventory_readings_batch_commit_seconds", "Time to validate, store, evaluate and commit one MQTT batch "
            "(readings, statuses and cycles in one transaction), for batches that committed",
            buckets=BATCH_BUCKETS, registry=r)
        self.batch_failures = Counter(
            "inventory_mqtt_batch_failures", "MQTT batch transactions that failed and were tried again (nothing "
            "is acknowledged meanwhile)", registry=r)
        self.inbox_messages = Gauge("inventory_mqtt_inbox_messages", "Messages waiting in the MQTT inbox",
                                    registry=r)
        self.inbox_bytes = Gauge("inventory_mqtt_inbox_bytes", "Payload bytes waiting in the MQTT inbox", registry=r)
        self.connected = Gauge("inventory_mqtt_connected", "1 while the ingest is connected to the broker",
                               registry=r)
        for reason in (INVALID_PAYLOAD, NOT_STORABLE):
            for family in (self.readings_rejected, self.status_rejected, self.cycles_rejected):
                family.labels(reason)
        self._rejected = {"reading": self.readings_rejected, "status": self.status_rejected,
                          "cycle": self.cycles_rejected}

    def watch(self, inbox_messages: Callable[[], int], inbox_bytes: Callable[[], int],
              connected: Callable[[], bool]) -> None:
        """Read the inbox's depth and the connection at each scrape (the last ingest to call this wins)."""
        self.inbox_messages.set_function(lambda: float(inbox_messages()))
        self.inbox_bytes.set_function(lambda: float(inbox_bytes()))
        self.connected.set_function(lambda: 1.0 if connected() else 0.0)

    def taken(self, batch: Sequence[_HasTopic]) -> None:
        """The consumer took `batch` from the inbox. Classified inline, as mqtt_kind does: this runs on
        the consumer's thread for every batch of up to 2,000 messages."""
        cycles = statuses = 0
        for m in batch:
            topic = m.topic
            if topic.startswith("equipment/"):
                cycles += 1
            elif topic.endswith("/status"):
                statuses += 1
        if readings := len(batch) - cycles - statuses:
            self.readings_received.inc(readings)
        if statuses:
            self.status_received.inc(statuses)
        if cycles:
            self.cycles_received.inc(cycles)

    def committed(self, rejected: Sequence[_HasTopic], readings: int, cycles: Sequence[_HasResult],
                  seconds: float) -> None:
        """A batch committed in `seconds`: `readings` readings, `cycles`, and `rejected` messages stored as
        rejected (counted here, once their rows are committed, so a retried batch does not count twice)."""
        self.batch_seconds.observe(seconds)
        if readings:
            self.readings_committed.inc(readings)
        for result, n in _count(c.result for c in cycles).items():
            self.cycles_committed.labels(result).inc(n)
        for kind, n in _count(mqtt_kind(m.topic) for m in rejected).items():
            self._rejected[kind].labels(INVALID_PAYLOAD).inc(n)

    def not_storable(self, message: _HasTopic) -> None:
        """A message whose transaction kept failing was stored alone as rejected."""
        self._rejected[mqtt_kind(message.topic)].labels(NOT_STORABLE).inc()

    def batch_failed(self) -> None:
        self.batch_failures.inc()


class _ScannerCollector(Collector):
    """The serial readers' own counters (devices.serial.ReaderStats), read at each scrape."""

    def __init__(self) -> None:
        self.readers: Callable[[], Iterable[Any]] = tuple

    def collect(self) -> Iterator[Metric]:
        port_open = GaugeMetricFamily("inventory_scanner_port_open", "1 while the scanner's serial port is open",
                                      labels=["scanner"])
        reopens = CounterMetricFamily("inventory_scanner_reopens", "Times the scanner's port was opened again "
                                      "after it was lost (unplugged and back)", labels=["scanner"])
        errors = CounterMetricFamily("inventory_scanner_port_errors", "Failed opens and lost ports",
                                     labels=["scanner"])
        suppressed = CounterMetricFamily("inventory_scanner_rereads_suppressed", "Presentation re-reads of the "
                                         "same label suppressed by the reader", labels=["scanner"])
        for reader in list(self.readers()):
            stats_of = getattr(reader, "stats", None)
            if stats_of is None:  # a stand-in reader (tests)
                continue
            stats: _ReaderStats = stats_of()
            scanner = [reader.config.id]
            port_open.add_metric(scanner, 1.0 if stats.is_open else 0.0)
            reopens.add_metric(scanner, stats.reopens)
            errors.add_metric(scanner, stats.errors)
            suppressed.add_metric(scanner, stats.suppressed)
        yield from (port_open, reopens, errors, suppressed)

    def describe(self) -> Iterator[Metric]:
        return iter(())


class ScanMetrics:
    """The scanner ingest: frames in, scans committed by outcome, its queue and its batches."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.received = Counter("inventory_scans_received", "Frames from the serial readers queued for recording",
                                ["scanner"], registry=r)
        self.committed_scans = Counter(
            "inventory_scans_committed", "Scans committed, by outcome (applied, command, rejected, pending)",
            ["scanner", "outcome"], registry=r)
        self.rejected = Counter("inventory_scans_rejected", "Committed scans whose outcome is rejected, by reason "
                                "code (lot_expired, insufficient_stock, noise, ...)", ["scanner", "reason"],
                                registry=r)
        self.batch_seconds = Histogram(
            "inventory_scans_batch_commit_seconds", "Time to record and commit one batch of scans (one transaction, "
            "including a second pass with savepoints when an action was refused)", buckets=BATCH_BUCKETS,
            registry=r)
        self.batch_failures = Counter(
            "inventory_scans_batch_failures", "Scan transactions that failed (the frames are then recorded one by "
            "one, each retried until it is stored)", registry=r)
        self.queue_frames = Gauge("inventory_scans_queue_frames", "Frames waiting in the scanner queue", registry=r)
        self._readers = _ScannerCollector()
        r.register(self._readers)

    def watch(self, queue_depth: Callable[[], int], readers: Callable[[], Iterable[_Reader]]) -> None:
        """Read the queue's depth and the readers' counters at each scrape (the last ingest wins)."""
        self.queue_frames.set_function(lambda: float(queue_depth()))
        self._readers.readers = readers

    def frame_received(self, scanner_id: str) -> None:
        self.received.labels(scanner_id).inc()

    def committed(self, scanner_ids: Sequence[str], scans: Sequence[_ScanOutcome], seconds: float) -> None:
        """One transaction committed `scans` (from the scanners `scanner_ids`, in order) in `seconds`."""
        self.batch_seconds.observe(seconds)
        for scanner_id, scan in zip(scanner_ids, scans, strict=True):
            self.committed_scans.labels(scanner_id, scan.outcome).inc()
            if scan.outcome == "rejected":
                self.rejected.labels(scanner_id, scan.reason or "unknown").inc()

    def batch_failed(self) -> None:
        self.batch_failures.inc()


class DeliveryMetrics:
    """Alert delivery attempts, by channel and result."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.attempts = Counter(
            "inventory_alert_deliveries", "Alert delivery attempts by channel (email, webhook, mqtt) and result "
            "(sent; retry: failed, tried again later; failed: failed for the last time)", ["channel", "result"],
            registry=registry)

    def attempted(self, channel: str, result: str) -> None:
        """The recorder `services.delivery.attempt` is given."""
        self.attempts.labels(channel, result).inc()


class JobMetrics:
    """Scheduled jobs and the scheduler's leadership."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.runs = Counter("inventory_job_runs", "Job runs finished, successful or not", ["job"], registry=r)
        self.failures = Counter("inventory_job_failures", "Job runs that raised (the job runs again at its next "
                                "time)", ["job"], registry=r)
        self.duration = Histogram("inventory_job_duration_seconds", "How long each job run took", ["job"],
                                  buckets=JOB_BUCKETS, registry=r)
        self.last_success = Gauge("inventory_job_last_success_timestamp_seconds", "Unix time of the job's last "
                                  "successful run in this process", ["job"], registry=r)
        self.leader = Gauge("inventory_scheduler_leader", "1 while this process's scheduler leads (holds the "
                            "PostgreSQL advisory lock; always on SQLite), 0 while it stands by", registry=r)

    def declare(self, job_ids: Iterable[str]) -> None:
        """Show every job's counters at zero before its first run."""
        for job_id in job_ids:
            self.runs.labels(job_id)
            self.failures.labels(job_id)

    def ran(self, job_id: str, seconds: float, *, ok: bool, finished_at: float) -> None:
        """A run of `job_id` ended after `seconds` (`finished_at`: Unix time)."""
        self.runs.labels(job_id).inc()
        self.duration.labels(job_id).observe(seconds)
        if ok:
            self.last_success.labels(job_id).set(finished_at)
        else:
            self.failures.labels(job_id).inc()

    def leading(self, leads: bool) -> None:
        self.leader.set(1.0 if leads else 0.0)


class HttpMetrics:
    """Requests the app answered (every path: the API, the pages, /metrics)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter("inventory_http_requests", "HTTP requests answered, by method and status code",
                                ["method", "status"], registry=registry)
        self.duration = Histogram("inventory_http_request_duration_seconds", "Time to answer an HTTP request",
                                  buckets=HTTP_BUCKETS, registry=registry)

    def answered(self, method: str, status: int, seconds: float) -> None:
        self.requests.labels(method if method in HTTP_METHODS else "other", str(status)).inc()
        self.duration.observe(seconds)


P = TypeVar("P")


class Metrics:
    """Every metric family of one process on `registry` (a new one unless given).

    `process=True` adds prometheus-client's process, platform and garbage-collector collectors (the
    console script's processes; a test's registry does without). `role` is shown in
    `inventory_build_info` beside the version.
    """

    def __init__(self, registry: CollectorRegistry | None = None, *, role: str = "", process: bool = False) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.role = role
        self._lock = threading.Lock()
        self._parts: dict[str, Any] = {}
        if process:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)
        info = Gauge("inventory_build_info", "Always 1: the service's version and this process's role",
                     ["version", "role"], registry=self.registry)
        info.labels(__version__, role or "none").set(1)

    @classmethod
    def for_process(cls, role: str) -> Metrics:
        """The registry of a process started by the console script in `role` (run, api, ingest, scheduler)."""
        return cls(role=role, process=True)

    def _part(self, name: str, make: Callable[[CollectorRegistry], P]) -> P:
        with self._lock:
            if name not in self._parts:
                self._parts[name] = make(self.registry)
            return self._parts[name]  # type: ignore[no-any-return]

    @property
    def mqtt(self) -> MqttMetrics:
        return self._part("mqtt", MqttMetrics)

    @property
    def scans(self) -> ScanMetrics:
        return self._part("scans", ScanMetrics)

    @property
    def deliveries(self) -> DeliveryMetrics:
        return self._part("deliveries", DeliveryMetrics)

    @property
    def jobs(self) -> JobMetrics:
        return self._part("jobs", JobMetrics)

    @property
    def http(self) -> HttpMetrics:
        return self._part("http", HttpMetrics)


def _count(keys: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for key in keys:
        counts[key] = counts.get(key, 0) + 1
    return counts
