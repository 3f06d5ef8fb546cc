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
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..mqtt_device import MqttDevice
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


class SimulatedFridge(MqttDevice):
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
        super().__init__(host=broker_host, port=port, username=username, password=password, tls=tls,
                         keepalive=keepalive, client_id=client_id or f"fridge-{sensor_id}", timeout_s=timeout_s,
                         status_topic=f"coldchain/{sensor_id}/status")
        self.sensor_id = sensor_id
        self.interval, self.start, self.speed = timedelta(seconds=interval_s), start, speed
        self.buffer_size = buffer_size
        self.reading_topic = f"coldchain/{sensor_id}/reading"
        self.summary = Summary()

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
    def _idle_until(self, deadline: float) -> None:
        """Wait on the wall clock while answering the broker (keepalive) if connected."""
        while (left := deadline - time.monotonic()) > 0:
            if self.connected:
                with contextlib.suppress(TimeoutError):
                    self._pump(lambda: False, "", timeout=min(left, 1.0))
            else:
                time.sleep(min(left, 1.0))

