"""The logger on the wire: ARCHITECTURE §4 MQTT, device side, with paho-mqtt 2.x.

- `coldchain/<id>/status`: Last Will `offline` (retained, QoS 1); `online` (retained, QoS 1) on every
  connect; `offline` published before a clean disconnect.
- `coldchain/<id>/reading`: QoS 1, not retained; one object per reading, a JSON array for a backfill.
- A network or power outage really cuts the link: the socket is closed without DISCONNECT, the broker
  publishes the Will, and the logger reconnects (fresh clean session) when the link returns.
- Accelerated clock: simulated time moves one interval per reading while wall time moves interval/speed;
  speed 0 runs as fast as the broker acknowledges. Every publish waits for its PUBACK, so order is kept.

paho is driven from this thread (loop_read/loop_write/loop_misc around select), without loop_start: no
background thread, no wake-up socket pair, and nothing left open after close() or kill().
"""

from __future__ import annotations

import contextlib
import re
import select
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from .model import FridgeModel
from .series import BUFFER_SIZE, Batch, Reading, Scenario, Tick, generate, ticks

ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass
class Summary:
    readings: int = 0  # taken by the logger
    published: int = 0  # of those, sent (alone or in arrays)
    messages: int = 0  # reading messages sent
    arrays: int = 0  # of those, backfill arrays
    dropped: int = 0  # lost to a full buffer (a gap in seq)
    link_drops: int = 0  # outages that cut the connection
    first_seq: int | None = None
    last_seq: int | None = None
    killed: bool = False

    def line(self) -> str:
        seqs = f"seq {self.first_seq}..{self.last_seq}" if self.last_seq is not None else "no seq"
        return (f"{self.published} readings published in {self.messages} messages ({self.arrays} backfill arrays), "
                f"{seqs}, {self.link_drops} link drops, {self.dropped} dropped, "
                f"{'killed (Last Will)' if self.killed else 'clean disconnect'}")


def default_start(count: int, interval: timedelta, speed: float, now: datetime | None = None) -> datetime:
    """First reading's time such that the last one is stamped when it is sent: with speed 0 a run replays
    the past up to now; with speed 1 it runs live from now. Nothing is ever stamped in the future."""
    now = now or datetime.now(UTC).replace(microsecond=0)
    factor = 1.0 if speed <= 0 else max(0.0, 1.0 - 1.0 / speed)
    return now - max(0, count - 1) * interval * factor


class SimulatedFridge:
    def __init__(self, sensor_id: str, broker_host: str = "127.0.0.1", port: int = 1883,
                 username: str | None = None, password: str | None = None, *, interval_s: float = 300,
                 start: datetime | None = None, speed: float = 0.0, tls: bool = False, keepalive: int = 30,
                 client_id: str | None = None, timeout_s: float = 10.0, buffer_size: int = BUFFER_SIZE) -> None:
        if not ID.match(sensor_id):
            raise ValueError(f"sensor id {sensor_id!r} is not [A-Za-z0-9._-]{{1,64}}")
        if interval_s <= 0 or speed < 0:
            raise ValueError("interval_s must be > 0 and speed >= 0")
        if start is not None and start.tzinfo is None:
            raise ValueError("start must carry a time zone")
        self.sensor_id, self.host, self.port = sensor_id, broker_host, port
        self.username, self.password, self.tls = username, password, tls
        self.interval, self.start, self.speed = timedelta(seconds=interval_s), start, speed
        self.keepalive, self.timeout_s, self.buffer_size = keepalive, timeout_s, buffer_size
        self.client_id = client_id or f"fridge-{sensor_id}"
        self.reading_topic = f"coldchain/{sensor_id}/reading"
        self.status_topic = f"coldchain/{sensor_id}/status"
        self.summary = Summary()
        self._client: mqtt.Client | None = None
        self._connack: object = None

    # -- connection -------------------------------------------------------------------------------------
    def __enter__(self) -> SimulatedFridge:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.socket() is not None

    def connect(self) -> None:
        """Connect with the Last Will set, then publish `online` (retained) and wait for its PUBACK."""
        if self.connected:
            return
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, reconnect_on_failure=False)
        if self.username:
            client.username_pw_set(self.username, self.password)
        if self.tls:
            client.tls_set()
        client.will_set(self.status_topic, "offline", qos=1, retain=True)
        self._connack = None
        client.on_connect = lambda _c, _u, _f, reason, _p: setattr(self, "_connack", reason)
        self._client = client
        try:
            client.connect(self.host, self.port, keepalive=self.keepalive)
            self._pump(lambda: self._connack is not None, "CONNACK")
            if getattr(self._connack, "is_failure", False):
                raise ConnectionError(f"broker refused the connection: {self._connack}")
            self._publish(self.status_topic, b"online", retain=True)
        except BaseException:
            self.kill()
            raise

    def close(self) -> None:
        """Clean end: `offline` (retained), then DISCONNECT; the Will is discarded."""
        client = self._client
        if client is None:
            return
        try:
            if self.connected:
                self._publish(self.status_topic, b"offline", retain=True)
                client.disconnect()
                self._pump(lambda: client.socket() is None, "the socket to close", timeout=2.0)
        finally:
            self.kill()

    def kill(self) -> None:
        """End without DISCONNECT, like a logger losing power or its network: the broker publishes the Will."""
        client, self._client = self._client, None
        sock = client.socket() if client is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    # -- publishing -------------------------------------------------------------------------------------
    def publish(self, batch: Batch) -> None:
        """One reading message, QoS 1, not retained; returns once the broker acknowledged it."""
        self._publish(self.reading_topic, batch.payload())
        s = self.summary
        s.messages += 1
        s.arrays += batch.backfill
        s.published += len(batch.readings)
        s.last_seq = batch.readings[-1].seq
        if s.first_seq is None:
            s.first_seq = batch.readings[0].seq

    def run(self, scenario: str | Iterable[str] | Scenario = "normal", duration: timedelta = timedelta(days=1), *,
            seed: int | None = 0, seq_start: int = 0, clock_offset_s: float = 0.0, kill: bool = False,
            model: FridgeModel | None = None, **generate_options: float) -> Summary:
        """Generate the scenario's readings on this logger's clock and replay them."""
        start = self.start or default_start(int(duration / self.interval), self.interval, self.speed)
        readings = generate(scenario, start, duration, self.interval, seed, model=model, seq_start=seq_start,
                            clock_offset_s=clock_offset_s, **generate_options)
        return self.replay(readings, kill=kill)

    def replay(self, readings: Iterable[Reading], *, kill: bool = False,
               on_tick: Callable[[Tick], None] | None = None) -> Summary:
        """Publish readings paced by the accelerated clock, cutting and restoring the link around outages.
        Ends with close(), or with kill() (the Will fires) when `kill` is true."""
        wall0, t0 = time.monotonic(), None
        try:
            self.connect()
            for tick in ticks(readings, self.buffer_size):
                if tick.reading is not None:
                    t0 = tick.reading.t_min if t0 is None else t0
                    self.summary.readings += 1
                    if self.speed > 0:
                        self._idle_until(wall0 + (tick.reading.t_min - t0) * 60 / self.speed)
                self.summary.dropped += tick.dropped
                if tick.link == "down":
                    self.summary.link_drops += 1
                    self.kill()
                elif tick.link == "up":
                    self.connect()
                for batch in tick.publish:
                    self.publish(batch)
                if on_tick is not None:
                    on_tick(tick)
        except BaseException:
            self.kill()
            raise
        if kill:
            self.summary.killed = True
            self.kill()
        else:
            self.close()
        return self.summary

    # -- driving paho from this thread ------------------------------------------------------------------
    def _publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        if self._client is None:
            raise ConnectionError("not connected")
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_AGAIN):
            raise ConnectionError(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")
        self._pump(info.is_published, f"PUBACK on {topic}")

    def _idle_until(self, deadline: float) -> None:
        """Wait on the wall clock while answering the broker (keepalive) if connected."""
        while (left := deadline - time.monotonic()) > 0:
            if self.connected:
                with contextlib.suppress(TimeoutError):
                    self._pump(lambda: False, "", timeout=min(left, 1.0))
            else:
                time.sleep(min(left, 1.0))

    def _pump(self, done: Callable[[], bool], what: str, timeout: float | None = None) -> None:
        client = self._client
        deadline = time.monotonic() + (self.timeout_s if timeout is None else timeout)
        while not done():
            sock = client.socket() if client is not None else None
            if sock is None:
                raise ConnectionError(f"connection lost waiting for {what}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {what} within the timeout")
            pending = getattr(sock, "pending", lambda: 0)()
            readable, writable, _ = select.select([sock], [sock] if client.want_write() else [], [],
                                                  0 if pending else min(left, 0.5))
            rc = MQTTErrorCode.MQTT_ERR_SUCCESS
            if readable or pending:
                rc = client.loop_read()
            if writable and rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
                rc = client.loop_write()
            if rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
                rc = client.loop_misc()
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS and not done():
                raise ConnectionError(f"waiting for {what}: {mqtt.error_string(rc)}")
