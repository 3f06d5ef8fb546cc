"""MQTT ingest: readings and sensor status in, committed before they are acknowledged.

ARCHITECTURE §4 ingest rules, with paho-mqtt 2.x:
- persistent session: stable client id, MQTT 5 clean_start=False and a session expiry longer than any
  outage (Mosquitto ends v5 sessions at disconnect unless an expiry is set);
- manual acknowledgement: a QoS 1 message is PUBACKed only after its rows are committed, so a crash
  between receipt and commit means redelivery, and (sensor_id, seq) uniqueness makes that harmless;
- backpressure: on_message only translates and enqueues into an inbox bounded by messages and by
  bytes; when it is full the network thread blocks, unacknowledged messages pile up at the broker's
  inflight limit (our Receive Maximum), and the broker stops sending instead of our memory growing;
- a committed batch's PUBACKs are queued together through paho's public `ack()` and written by the
  network thread in one wake-up; that thread is ours, driving paho through its external-loop API
  (see _network_loop), so the ingest uses paho's public API only (STYLE 13);
- the Receive Maximum holds two full batches: acknowledgements wait for the commit, so with a window
  of one batch the broker would stop sending while every batch commits;
- subscriptions are made in on_connect (so they come back after a reconnect), the service's own
  Last Will marks it offline, and a shared subscription lets several instances split the load;
- the consumer remembers its units' recent readings between batches (domain.coldchain.recent), so
  a batch re-reads from the database only the windows that something else changed.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import ssl
import sys
import threading
import time
from collections import deque
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy.exc import DataError, IntegrityError

from devices.mqtt import (
    EquipmentCycle,
    PayloadError,
    TemperatureReading,
    parse_cycle_payload,
    parse_reading_payload,
    parse_status_payload,
)

from ..db.engine import make_engine
from ..db.uow import Database
from ..domain.coldchain.recent import RecentReadings
from ..observability.metrics import Metrics
from ..services import cold_evaluation, cycles, readings
from ..services.context import Clock, Context
from .broker import BrokerAddress

log = logging.getLogger(__name__)

SESSION_EXPIRY_S = 7 * 24 * 3600
BATCH_SIZE = 2000
RECEIVE_MAXIMUM = 2 * BATCH_SIZE  # one batch committing, the next one arriving meanwhile
QUEUE_SIZE = RECEIVE_MAXIMUM + 1000  # never full by count: the broker sends at most RECEIVE_MAXIMUM unacked
BATCH_BYTES = 1_000_000
QUEUE_BYTES = 32_000_000  # large backfill arrays (up to 10,000 readings each) are bounded by this instead
READING_TOPIC = "coldchain/+/reading"
STATUS_TOPIC = "coldchain/+/status"
CYCLE_TOPIC = "equipment/+/cycle"
READ_BURST = 200  # packets read per wake-up of the network thread, at most
SELECT_TIMEOUT_S = 1.0  # the network thread looks at the keep-alive at least this often
RECONNECT_MIN_S, RECONNECT_MAX_S = 1.0, 30.0


def readings_database(url: str) -> Database:
    """The readings ingest's own engine. On SQLite its connections checkpoint the WAL every 10,000
    pages (40 MB) instead of SQLite's 1,000: a stream of readings rewrites the same few hundred index
    pages (each sensor's newest entries) in every batch, and with the default nearly every commit ran
    a checkpoint that copied them again, about a quarter of the consumer's CPU. Fewer checkpoints copy
    each page once for many commits. The price: under sustained load a power cut can lose a few more
    seconds of commits (synchronous=NORMAL syncs the WAL at checkpoints; a crash of the process loses
    nothing). Only this engine's connections checkpoint that rarely: a checkpoint of 40 MB stalls the
    commit that runs it, which the scanner ingest, whose target is latency, must not wait on."""
    return Database(make_engine(url, wal_autocheckpoint=10_000))


class Message(NamedTuple):
    """A paho message translated at the boundary (paho's objects are not to be kept). A NamedTuple:
    as immutable as a frozen dataclass, and cheaper to build on paho's thread, once per message."""

    topic: str
    payload: bytes
    mid: int
    qos: int


_NOBODY = sys.maxsize  # Inbox._wanted when the consumer is not waiting


class Inbox:
    """Messages from paho's network thread to the consumer, bounded by count and by bytes.

    One lock guards a deque (rather than queue.Queue plus a byte budget, two locks and a
    notification per message): `put` runs on paho's thread for every message, where each lock
    round and wake-up is taken from the GIL the consumer shares. The consumer takes a whole batch
    under one acquisition and is woken only when what it waits for is there (its first message,
    or enough to fill its batch); the producer is woken only when it waits for room.
    """

    def __init__(self, max_messages: int = QUEUE_SIZE, max_bytes: int = QUEUE_BYTES) -> None:
        self.max_messages, self.max_bytes = max_messages, max_bytes
        self._items: deque[Message] = deque()
        self._bytes = 0
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._room = threading.Condition(self._lock)
        self._wanted = _NOBODY  # wake the consumer once this many messages are in
        self._wanted_bytes = _NOBODY  # ... or this many bytes
        self._blocked = False  # the producer waits for room
        self._closed = False

    def put(self, m: Message) -> None:
        """Append `m`, waiting while the inbox is full (a message larger than the whole byte budget
        is let in alone)."""
        size = len(m.payload)
        with self._lock:
            while self._items and (len(self._items) >= self.max_messages
                                   or self._bytes + size > self.max_bytes):
                self._blocked = True
                self._room.wait()
            self._items.append(m)
            self._bytes += size
            if len(self._items) >= self._wanted or self._bytes >= self._wanted_bytes:
                self._wanted = self._wanted_bytes = _NOBODY
                self._arrived.notify()

    def close(self) -> None:
        """No more messages: `take` returns what is left, then an empty batch."""
        with self._lock:
            self._closed = True
            self._arrived.notify()

    def take(self, max_messages: int, max_bytes: int, wait_s: float) -> list[Message]:
        """The next batch: waits for a first message, then up to `wait_s` more for the batch to fill
        (up to `max_messages`, or until it reaches `max_bytes`). Empty only once closed and drained."""
        batch: list[Message] = []
        size = 0
        deadline = None
        with self._lock:
            while True:
                items = self._items
                taken = size
                while items and len(batch) < max_messages and size < max_bytes:
                    m = items.popleft()
                    batch.append(m)
                    size += len(m.payload)
                self._bytes -= size - taken
                if self._blocked:
                    self._blocked = False
                    self._room.notify()
                if len(batch) >= max_messages or size >= max_bytes or self._closed:
                    break
                if not batch:
                    self._wanted, self._wanted_bytes = 1, 1
                    self._arrived.wait()
                    continue
                if deadline is None:
                    deadline = time.monotonic() + wait_s
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._wanted, self._wanted_bytes = max_messages - len(batch), max_bytes - size
                self._arrived.wait(remaining)
            self._wanted = self._wanted_bytes = _NOBODY
        return batch

    def __len__(self) -> int:
        return len(self._items)

    @property
    def nbytes(self) -> int:
        """Payload bytes waiting (for the metrics)."""
        return self._bytes


_REFUSED_DATA = (DataError, IntegrityError, UnicodeError, OverflowError)


def _refused_data(exc: BaseException) -> bool:
    """The database (or its driver) refused the data itself: the same batch would fail again."""
    return isinstance(exc, _REFUSED_DATA) or isinstance(getattr(exc, "orig", None), _REFUSED_DATA)


class MqttIngest:
    def __init__(self, broker_url: str, db: Database, clock: Clock, tz_name: str, *, instance: str = "default",
                 shared: bool = False, batch_size: int = BATCH_SIZE, batch_wait_s: float = 0.02,
                 sweep_every_s: float = 60.0, metrics: Metrics | None = None) -> None:
        self.address = BrokerAddress.parse(broker_url)
        self.db, self.clock, self.tz = db, clock, ZoneInfo(tz_name)
        self.instance, self.shared = instance, shared
        self.batch_size, self.batch_wait_s = batch_size, batch_wait_s
        self.inbox = Inbox()
        self.status_topic = f"inventory/ingest/{instance}/status"
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"inventory-ingest-{instance}",
                                  protocol=mqtt.MQTTv5, manual_ack=True)
        if self.address.username:
            self.client.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:
            self.client.tls_set()
        self.client.will_set(self.status_topic, "offline", qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        # Packets queued from other threads (acknowledgements, status) wake the network thread;
        # setting this also keeps paho from writing to the socket on the queuing thread.
        self.client.on_socket_register_write = self._wake_network
        self._wake_r: socket.socket | None = None  # made by start(): the network thread's wake-up
        self._wake_w: socket.socket | None = None
        self._delivered = 0  # messages handed to on_message, counted by the network thread
        self._network = threading.Thread(target=self._network_loop, name="mqtt-network", daemon=True)
        self._consumer = threading.Thread(target=self._consume, name="mqtt-consumer", daemon=True)
        self._sweeper = threading.Thread(target=self._sweep_loop, name="no-data-sweep", daemon=True)
        self._stopping = threading.Event()
        self.sweep_every_s = sweep_every_s
        self.stats = {"messages": 0, "readings": 0, "rejected": 0, "batches": 0, "errors": 0, "acknowledged": 0}
        self.recent = RecentReadings()  # used by the consumer thread only
        self.metrics = metrics or Metrics()
        self.metrics.mqtt.watch(self.inbox.__len__, lambda: self.inbox.nbytes, self.connected)

    def topics(self) -> list[str]:
        prefix = "$share/inventory/" if self.shared else ""
        return [prefix + READING_TOPIC, prefix + STATUS_TOPIC, prefix + CYCLE_TOPIC]

    def connected(self) -> bool:
        return bool(self.client.is_connected())

    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        props.ReceiveMaximum = RECEIVE_MAXIMUM
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._consumer.start()
        self._sweeper.start()
        self.client.connect_async(self.address.host, self.address.port, keepalive=30, clean_start=False,
                                  properties=props)
        self._network.start()
        log.info("mqtt ingest %s connecting to %s", self.instance, self.address.redacted())

    def stop(self, timeout: float = 10.0) -> None:
        """Publish offline, disconnect, then let the consumer finish what it holds (what it commits
        from now on is not acknowledged: the broker sends it again to the next session)."""
        self._stopping.set()
        if self.client.is_connected():
            self.client.publish(self.status_topic, "offline", qos=1, retain=True).wait_for_publish(2)
        self.client.disconnect()
        self._wake_network()
        self._network.join(timeout)
        self.inbox.close()
        self._consumer.join(timeout)
        if not self._network.is_alive() and self._wake_r is not None and self._wake_w is not None:
            self._wake_r.close()
            self._wake_w.close()

    def _wake_network(self, *_: object) -> None:
        """Break the network thread out of select() (paho's on_socket_register_write, and stop())."""
        if self._wake_w is not None:
            with contextlib.suppress(OSError):  # BlockingIOError: a wake-up is pending already
                self._wake_w.send(b"\0")

    def _network_loop(self) -> None:
        """paho's network traffic, driven through its external-loop API (socket, loop_read, loop_write,
        loop_misc, reconnect) rather than loop_start(), whose loop calls select() before every packet
        it reads and is woken through a socket pair for every packet another thread queues, i.e. for
        every acknowledgement. Here one wake-up reads packets while each read hands over a message
        (up to READ_BURST), then writes whatever is queued, e.g. a whole batch's acknowledgements,
        which woke the loop once (paho calls on_socket_register_write again only after a write).
        Draining 40,000 queued messages without a database, this took about a fifth less CPU per
        message than loop_start() with the same acknowledgements.

        Reconnects after 1 s, doubling to 30 s while the broker stays away. Ends once stop() asked
        and the connection is closed. Never raises: an error is logged and the loop goes on."""
        client, wake = self.client, self._wake_r
        assert wake is not None  # start() made it
        delay = 0.0  # before the next connection attempt: none for the first one
        while True:
            sock = client.socket()
            if sock is None:
                if self._stopping.wait(delay):
                    return
                try:
                    client.reconnect()
                except Exception as exc:  # OSError mostly: the broker may be away for a while
                    log.warning("mqtt ingest %s: cannot connect to %s: %s", self.instance, self.address.redacted(),
                                exc)
                delay = min(max(delay * 2, RECONNECT_MIN_S), RECONNECT_MAX_S)
                continue
            try:
                # TLS: bytes already decrypted wait in the SSL object, where select() does not see them.
                pending = sock.pending() if isinstance(sock, ssl.SSLSocket) else 0
                readable, _, _ = select.select([sock, wake], [sock] if client.want_write() else [], [],
                                               0.0 if pending else SELECT_TIMEOUT_S)
                if pending and sock not in readable:
                    readable.append(sock)
                if wake in readable:
                    with contextlib.suppress(BlockingIOError):
                        wake.recv(4096)
                rc = self._read_burst() if sock in readable else mqtt.MQTT_ERR_SUCCESS
                if rc == mqtt.MQTT_ERR_SUCCESS and client.want_write():
                    rc = client.loop_write()
                if rc == mqtt.MQTT_ERR_SUCCESS:
                    client.loop_misc()
                if client.is_connected():
                    delay = RECONNECT_MIN_S
            except Exception:
                log.exception("mqtt ingest %s: network loop error", self.instance)
                time.sleep(0.1)

    def _read_burst(self) -> mqtt.MQTTErrorCode:
        """Read packets while each read hands a message to on_message, at most READ_BURST (then writes
        and keep-alive get their turn). A read that hands over none found no complete packet, or one
        of another kind (a SUBACK, a PINGRESP): back to select()."""
        client = self.client
        for _ in range(READ_BURST):
            before = self._delivered
            rc = client.loop_read()
            if rc != mqtt.MQTT_ERR_SUCCESS or self._delivered == before:
                return rc
        return mqtt.MQTT_ERR_SUCCESS

    def _sweep_loop(self) -> None:
        """Every `sweep_every_s`: no-data alarms for sensors that went silent (see sweep_no_data)."""
        while not self._stopping.wait(self.sweep_every_s):
            try:
                ctx = Context(actor=f"ingest:{self.instance}", source="job", now=self.clock(), tz=self.tz)
                with self.db.unit_of_work() as uow:
                    cold_evaluation.sweep_no_data(uow, ctx)
                    uow.commit()
            except Exception:
                log.exception("no-data sweep failed; trying again in %.0fs", self.sweep_every_s)

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason: object,
                    properties: object) -> None:
        if getattr(reason, "is_failure", False):
            log.error("mqtt ingest: connection refused: %s", reason)
            return
        client.subscribe([(t, 1) for t in self.topics()])
        client.publish(self.status_topic, "online", qos=1, retain=True)
        log.info("mqtt ingest %s connected; subscribed to %s", self.instance, ", ".join(self.topics()))

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: object, reason: object,
                       properties: object) -> None:
        log.warning("mqtt ingest %s disconnected: %s", self.instance, reason)

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        # Never raise here: paho would pass the exception up through loop_read.
        self._delivered += 1
        try:
            self.inbox.put(Message(msg.topic, bytes(msg.payload), msg.mid, msg.qos))
        except Exception:
            log.exception("mqtt ingest: could not enqueue a message on %s", msg.topic)

    def _consume(self) -> None:
        while True:
            # Capped by messages and by bytes: a burst of backfill arrays (4,000 readings each) must not
            # become one huge transaction held in memory.
            batch = self.inbox.take(self.batch_size, BATCH_BYTES, self.batch_wait_s)
            if not batch:  # closed and drained
                return
            self.metrics.mqtt.taken(batch)
            self._commit_with_retry(batch)

    def _commit_with_retry(self, batch: list[Message]) -> None:
        """Commit, then acknowledge. A failing batch is retried with backoff (the database may be
        down: nothing is acknowledged meanwhile); after repeated failures, or at once when the
        database refuses the data itself (a constraint or a value it cannot take: retrying cannot
        help), it is split in halves, committed in order, so a poison message is found in a few
        steps; a single message that still fails is stored as rejected with the error. One poison
        message cannot stall the stream, nothing disappears, and the PUBACKs keep the order the
        messages came in (MQTT 3.1.1 §4.6)."""
        delay, attempts = 0.2, 0
        while True:
            try:
                self.process(batch)
                break
            except Exception as exc:
                self.stats["errors"] += 1
                self.metrics.mqtt.batch_failed()
                attempts += 1
                give_up = attempts >= 3 or _refused_data(exc)
                log.exception("mqtt ingest: batch of %d failed%s (not acknowledged)", len(batch),
                              "; splitting it" if give_up and len(batch) > 1 else
                              "" if give_up else f"; retrying in {delay:.1f}s")
                if give_up and len(batch) > 1:
                    half = len(batch) // 2
                    self._commit_with_retry(batch[:half])
                    self._commit_with_retry(batch[half:])
                    return
                if give_up and self._reject_unprocessable(batch[0], exc):
                    break
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
        self._acknowledge(batch)

    def _acknowledge(self, batch: list[Message]) -> None:
        """PUBACK the batch's messages (called only once its rows are committed)."""
        ack = self.client.ack
        n = 0
        for m in batch:
            if m.qos:
                ack(m.mid, m.qos)
                n += 1
        self.stats["acknowledged"] += n

    def _reject_unprocessable(self, m: Message, exc: Exception) -> bool:
        ctx = Context(actor=f"ingest:{self.instance}", source="mqtt", now=self.clock(), tz=self.tz)
        try:
            with self.db.unit_of_work() as uow:
                readings.reject(uow, ctx, source="mqtt", topic=m.topic, payload=m.payload,
                                reason=f"could not be stored: {type(exc).__name__}: {exc}"[:500])
                uow.commit()
            self.stats["rejected"] += 1
            self.metrics.mqtt.not_storable(m)
            return True
        except Exception:
            log.exception("mqtt ingest: cannot even store the rejection (database down?)")
            return False

    def process(self, batch: list[Message]) -> None:
        """Validate, store and evaluate one batch in one transaction. The windows remembered while
        evaluating are kept only once the transaction has committed (domain.coldchain.recent)."""
        try:
            self._process(batch)
        except BaseException:
            self.recent.discard()
            raise
        self.recent.commit()

    def _process(self, batch: list[Message]) -> None:
        ctx = Context(actor=f"ingest:{self.instance}", source="mqtt", now=self.clock(), tz=self.tz)
        started, rejected = time.perf_counter(), list[Message]()  # for the metrics
        good: list[TemperatureReading] = []
        cycle_msgs: list[EquipmentCycle] = []
        added: dict[int, list[tuple[datetime, float]]] = {}
        with self.db.unit_of_work() as uow:
            for m in batch:
                try:
                    if m.topic.startswith("equipment/"):
                        cycle_msgs.append(parse_cycle_payload(m.topic, m.payload, now=ctx.now))
                    elif m.topic.endswith("/status"):
                        sensor_id, status = parse_status_payload(m.topic, m.payload)
                        readings.set_status(uow, ctx, sensor_id, status)
                    else:
                        good += parse_reading_payload(m.topic, m.payload, now=ctx.now)
                except PayloadError as exc:
                    readings.reject(uow, ctx, source="mqtt", topic=m.topic, payload=m.payload, reason=str(exc))
                    self.stats["rejected"] += 1
                    rejected.append(m)
            cold_evaluation.evaluate_many(uow, ctx, readings.store(uow, ctx, good, added), recent=self.recent,
                                          added=added)
            cycles.store(uow, ctx, cycle_msgs)
            uow.commit()
        self.stats["messages"] += len(batch)
        self.stats["readings"] += len(good)
        self.stats["batches"] += 1
        self.metrics.mqtt.committed(rejected, len(good), cycle_msgs, time.perf_counter() - started)
