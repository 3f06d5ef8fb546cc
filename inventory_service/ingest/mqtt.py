"""MQTT ingest: readings and sensor status in, committed before they are acknowledged.

ARCHITECTURE §4 ingest rules, with paho-mqtt 2.x:
- persistent session: stable client id, MQTT 5 clean_start=False and a session expiry longer than any
  outage (Mosquitto ends v5 sessions at disconnect unless an expiry is set);
- manual acknowledgement: a QoS 1 message is PUBACKed only after its rows are committed, so a crash
  between receipt and commit means redelivery, and (sensor_id, seq) uniqueness makes that harmless;
- backpressure: on_message only translates and enqueues into a queue bounded by messages and by
  bytes; when it is full the network thread blocks, unacknowledged messages pile up at the broker's
  inflight limit (our Receive Maximum), and the broker stops sending instead of our memory growing;
- the Receive Maximum holds two full batches: acknowledgements wait for the commit, so with a window
  of one batch the broker would stop sending while every batch commits;
- subscriptions are made in on_connect (so they come back after a reconnect), the service's own
  Last Will marks it offline, and a shared subscription lets several instances split the load;
- the consumer remembers its units' recent readings between batches (domain.coldchain.recent), so
  a batch re-reads from the database only the windows that something else changed.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from devices.mqtt import (
    EquipmentCycle,
    PayloadError,
    TemperatureReading,
    parse_cycle_payload,
    parse_reading_payload,
    parse_status_payload,
)

from ..db.uow import Database
from ..domain.coldchain.recent import RecentReadings
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


class Message(NamedTuple):
    """A paho message translated at the boundary (paho's objects are not to be kept). A NamedTuple:
    as immutable as a frozen dataclass, and cheaper to build on paho's thread, once per message."""

    topic: str
    payload: bytes
    mid: int
    qos: int


class MqttIngest:
    def __init__(self, broker_url: str, db: Database, clock: Clock, tz_name: str, *, instance: str = "default",
                 shared: bool = False, batch_size: int = BATCH_SIZE, batch_wait_s: float = 0.02,
                 sweep_every_s: float = 60.0) -> None:
        self.address = BrokerAddress.parse(broker_url)
        self.db, self.clock, self.tz = db, clock, ZoneInfo(tz_name)
        self.instance, self.shared = instance, shared
        self.batch_size, self.batch_wait_s = batch_size, batch_wait_s
        self.queue: queue.Queue[Message | None] = queue.Queue(maxsize=QUEUE_SIZE)
        self._queued_bytes = 0
        self._room = threading.Condition()
        self.status_topic = f"inventory/ingest/{instance}/status"
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"inventory-ingest-{instance}",
                                  protocol=mqtt.MQTTv5, manual_ack=True)
        if self.address.username:
            self.client.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:
            self.client.tls_set()
        self.client.will_set(self.status_topic, "offline", qos=1, retain=True)
        self.client.reconnect_delay_set(1, 30)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        self._consumer = threading.Thread(target=self._consume, name="mqtt-consumer", daemon=True)
        self._sweeper = threading.Thread(target=self._sweep_loop, name="no-data-sweep", daemon=True)
        self._stopping = threading.Event()
        self.sweep_every_s = sweep_every_s
        self.stats = {"messages": 0, "readings": 0, "rejected": 0, "batches": 0, "errors": 0}
        self.recent = RecentReadings()  # used by the consumer thread only

    def topics(self) -> list[str]:
        prefix = "$share/inventory/" if self.shared else ""
        return [prefix + READING_TOPIC, prefix + STATUS_TOPIC, prefix + CYCLE_TOPIC]

    def connected(self) -> bool:
        return bool(self.client.is_connected())

    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        props.ReceiveMaximum = RECEIVE_MAXIMUM
        self._consumer.start()
        self._sweeper.start()
        self.client.connect_async(self.address.host, self.address.port, keepalive=30, clean_start=False,
                                  properties=props)
        self.client.loop_start()
        log.info("mqtt ingest %s connecting to %s", self.instance, self.address.redacted())

    def stop(self, timeout: float = 10.0) -> None:
        """Publish offline, disconnect, then let the consumer finish what it holds."""
        self._stopping.set()
        if self.client.is_connected():
            self.client.publish(self.status_topic, "offline", qos=1, retain=True).wait_for_publish(2)
        self.client.disconnect()
        self.client.loop_stop()
        self.queue.put(None)
        self._consumer.join(timeout)

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
        # Never raise here: an exception would kill paho's network thread.
        try:
            payload = bytes(msg.payload)
            self._reserve(len(payload))
            self.queue.put(Message(msg.topic, payload, msg.mid, msg.qos))
        except Exception:
            log.exception("mqtt ingest: could not enqueue a message on %s", msg.topic)

    def _reserve(self, size: int) -> None:
        """Wait until `size` more bytes fit in the queue's byte budget (a message larger than the
        whole budget is let in alone)."""
        with self._room:  # the loop rather than wait_for(lambda): this runs for every message, on paho's thread
            while self._queued_bytes and self._queued_bytes + size > QUEUE_BYTES:
                self._room.wait()
            self._queued_bytes += size

    def _release(self, size: int) -> None:
        with self._room:
            self._queued_bytes -= size
            self._room.notify_all()

    def _consume(self) -> None:
        while True:
            first = self.queue.get()
            if first is None:
                return
            batch = [first]
            size = len(first.payload)
            deadline = time.monotonic() + self.batch_wait_s
            stop = False
            # Capped by messages and by bytes: a burst of backfill arrays (4,000 readings each) must not
            # become one huge transaction held in memory.
            while len(batch) < self.batch_size and size < BATCH_BYTES:
                try:
                    nxt = self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
                size += len(nxt.payload)
            self._release(size)  # the batch's bytes back to the budget at once, not message by message
            self._commit_with_retry(batch)
            if stop:
                return

    def _commit_with_retry(self, batch: list[Message]) -> None:
        """Commit, then acknowledge. A failing batch is retried with backoff (the database may be
        down: nothing is acknowledged meanwhile); after repeated failures it is split, and a single
        message that still fails is stored as rejected with the error, so one poison message
        cannot stall the stream and nothing disappears."""
        delay, attempts = 0.2, 0
        while True:
            try:
                self.process(batch)
                break
            except Exception as exc:
                self.stats["errors"] += 1
                attempts += 1
                log.exception("mqtt ingest: batch of %d failed; retrying in %.1fs (not acknowledged)",
                              len(batch), delay)
                if attempts >= 3 and len(batch) > 1:
                    for m in batch:
                        self._commit_with_retry([m])
                    return
                if attempts >= 3 and self._reject_unprocessable(batch[0], exc):
                    break
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
        for m in batch:
            if m.qos > 0:
                self.client.ack(m.mid, m.qos)

    def _reject_unprocessable(self, m: Message, exc: Exception) -> bool:
        ctx = Context(actor=f"ingest:{self.instance}", source="mqtt", now=self.clock(), tz=self.tz)
        try:
            with self.db.unit_of_work() as uow:
                readings.reject(uow, ctx, source="mqtt", topic=m.topic, payload=m.payload,
                                reason=f"could not be stored: {type(exc).__name__}: {exc}"[:500])
                uow.commit()
            self.stats["rejected"] += 1
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
            cold_evaluation.evaluate_many(uow, ctx, readings.store(uow, ctx, good, added), recent=self.recent,
                                          added=added)
            cycles.store(uow, ctx, cycle_msgs)
            uow.commit()
        self.stats["messages"] += len(batch)
        self.stats["readings"] += len(good)
        self.stats["batches"] += 1
