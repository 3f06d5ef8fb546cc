"""MQTT side of `bench/ingest.py`: publishers and a bare counting subscriber, each run as its own
process so they never share a GIL with the ingest being measured or with each other.

    python bench/_mqtt_load.py '<job as JSON>'

Protocol (one JSON object per line; stdout is the channel, diagnostics go to stderr):

1. The child connects (and, for a subscriber, subscribes), builds every payload it will send, and
   prints {"ready": ...}.
2. The parent writes {"go": T} to the child's stdin, T a `time.monotonic()` instant (CLOCK_MONOTONIC
   is system-wide on Linux, so every process shares the time base). The child starts at T.
3. The child prints events (alarm mode: one line per timed reading) and at the end {"done": {...}}.
   {"stop": true} (or EOF) on stdin ends a subscriber or a paced publisher early.

Modes (field "mode" of the job; all publish at QoS 1, MQTT 5, with up to 1,000 messages in flight
and never wait for a PUBACK before sending the next message):

- stream: every reading of `sensors` x `per_sensor` as fast as possible, one message per reading,
  round robin over the sensors (reading i of every sensor, then reading i + 1); with "backfill": true
  one JSON array of `per_sensor` readings per sensor instead (a logger emptying its buffer).
- paced: `rate` readings/s for `duration` s on a fixed schedule, round robin over `sensors`.
- alarms: one alarm per sensor of `sensors`: an in-range history at T, then for sample k at
  T_k = T + warmup + k * spacing, six readings at 10 °C stamped T_k - 30 min .. T_k - 5 min sent at
  T_k - lead, and at T_k the seventh, stamped with the current time, whose publish instant is printed.
- count: the bare baseline: subscribe to coldchain/+/reading at QoS 1 and only count messages.

Readings: seq continuous per sensor from `seq0`, ts spaced by `interval_s` per sensor, in range
(3.0 .. 6.9 °C) unless stated.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

INFLIGHT = 1000
RECEIVE_MAXIMUM = 4000  # the ingest's (inventory_service.ingest.mqtt.RECEIVE_MAXIMUM): a fair comparison
HIGH_C = 10.0


def send(line: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def in_range(seq: int) -> float:
    return 3.0 + (seq * 7 % 40) / 10


def reading(seq: int, epoch: float, temp_c: float) -> str:
    return f'{{"seq":{seq},"ts":"{stamp(epoch)}","temp_c":{temp_c:.1f},"battery_pct":90}}'


class Control:
    """The parent's instructions on stdin, read by a thread."""

    def __init__(self) -> None:
        self.go_at: float | None = None
        self.started = threading.Event()
        self.stopped = threading.Event()
        threading.Thread(target=self._read, name="control", daemon=True).start()

    def _read(self) -> None:
        for line in sys.stdin:
            msg = json.loads(line)
            if "go" in msg:
                self.go_at = float(msg["go"])
                self.started.set()
            if msg.get("stop"):
                break
        self.stopped.set()
        self.started.set()

    def wait_go(self) -> float:
        self.started.wait()
        if self.go_at is None:
            raise SystemExit(0)
        delay = self.go_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        return self.go_at


class Publisher:
    """A QoS 1 publisher that keeps up to INFLIGHT messages in flight and counts PUBACKs.

    The window is kept here (a semaphore released by each PUBACK) rather than by paho's own queue:
    paho 2.2 scans its whole message dict on every PUBACK to find the next queued message
    (`Client._update_inflight`), which caps a publisher that hands it 100,000 messages at once at a
    few thousand messages per second.
    """

    def __init__(self, job: dict[str, Any]) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=job["cid"], protocol=mqtt.MQTTv5)
        self.client.max_inflight_messages_set(INFLIGHT)
        self.client.max_queued_messages_set(0)  # no limit: paho queues what is beyond the inflight window
        self.acked = 0
        self.published = 0
        self._lock = threading.Lock()
        self._all_acked = threading.Event()
        self._all_acked_wanted = False
        self._window = threading.BoundedSemaphore(INFLIGHT)
        self._connected = threading.Event()
        self.client.on_publish = self._on_publish
        self.client.on_connect = lambda *a: self._connected.set()
        self.client.connect(job["host"], job["port"], keepalive=60)
        self.client.loop_start()
        if not self._connected.wait(10):
            raise SystemExit(f"publisher {job['cid']}: no CONNACK within 10 s")

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        with self._lock:
            self.acked += 1
            if self.acked >= self.published and self._all_acked_wanted:
                self._all_acked.set()
        self._window.release()

    def publish(self, topic: str, payload: str | bytes) -> None:
        self._window.acquire()
        self.published += 1
        self.client.publish(topic, payload, qos=1)

    def wait_acked(self, timeout: float = 600) -> bool:
        with self._lock:
            self._all_acked_wanted = True
            if self.acked >= self.published:
                self._all_acked.set()
        return self._all_acked.wait(timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def run_stream(job: dict[str, Any], control: Control) -> None:
    sensors, per_sensor, seq0 = job["sensors"], int(job["per_sensor"]), int(job.get("seq0", 0))
    interval, t_end = float(job["interval_s"]), float(job["t_end"])
    first_ts = t_end - (per_sensor - 1) * interval
    messages: list[tuple[str, bytes]] = []
    if job.get("backfill"):
        for s in sensors:
            items = ",".join(reading(seq0 + i, first_ts + i * interval, in_range(seq0 + i)) for i in range(per_sensor))
            messages.append((f"coldchain/{s}/reading", f"[{items}]".encode()))
    else:
        for i in range(per_sensor):
            for s in sensors:
                messages.append((f"coldchain/{s}/reading",
                                 reading(seq0 + i, first_ts + i * interval, in_range(seq0 + i)).encode()))
    pub = Publisher(job)
    send({"ready": {"messages": len(messages), "bytes": sum(len(p) for _, p in messages)}})
    control.wait_go()
    t_first = time.monotonic()
    for topic, payload in messages:
        pub.publish(topic, payload)
    t_handed = time.monotonic()
    ok = pub.wait_acked()
    t_acked = time.monotonic()
    pub.close()
    send({"done": {"messages": len(messages), "acked": pub.acked, "complete": ok, "t_first": t_first,
                   "t_handed": t_handed, "t_acked": t_acked}})


def run_paced(job: dict[str, Any], control: Control) -> None:
    sensors, rate, duration = job["sensors"], float(job["rate"]), float(job["duration"])
    interval, ts0 = float(job["interval_s"]), float(job["ts0"])
    total = round(rate * duration)
    n = len(sensors)
    messages = [(f"coldchain/{sensors[j % n]}/reading",
                 reading(j // n, ts0 + (j // n) * interval, in_range(j // n)).encode()) for j in range(total)]
    pub = Publisher(job)
    send({"ready": {"messages": total}})
    start = control.wait_go()
    sent, worst_late = 0, 0.0
    while sent < total and not control.stopped.is_set():
        now = time.monotonic()
        due = min(total, int((now - start) * rate) + 1)
        if due > sent:
            worst_late = max(worst_late, now - (start + sent / rate))
        while sent < due:
            pub.publish(*messages[sent])
            sent += 1
        time.sleep(0.002)
    t_last = time.monotonic()
    ok = pub.wait_acked(60)
    pub.close()
    send({"done": {"messages": sent, "acked": pub.acked, "complete": ok, "t_first": start, "t_last": t_last,
                   "max_late_s": worst_late}})


def run_alarms(job: dict[str, Any], control: Control) -> None:
    sensors = job["sensors"]
    warmup, spacing, lead = float(job["warmup"]), float(job["spacing"]), float(job["lead"])
    interval = float(job["interval_s"])
    pub = Publisher(job)
    send({"ready": {"samples": len(sensors)}})
    start = control.wait_go()
    wall0 = time.time() + (start - time.monotonic())
    history = int(job.get("history", 12))
    due = [start + warmup + k * spacing for k in range(len(sensors))]
    planned = [wall0 + (d - start) for d in due]  # T_k on the wall clock, for the timestamps
    # In-range history up to T_k - 35 min, so each run of high readings starts from a known state.
    for k, s in enumerate(sensors):
        for j in range(history):
            ts = planned[k] - 7 * interval - (history - 1 - j) * interval
            pub.publish(f"coldchain/{s}/reading", reading(j, ts, 4.0))
    events: list[tuple[float, int, str]] = []
    for k in range(len(sensors)):
        events.append((due[k] - lead, 0, sensors[k]))
        events.append((due[k], 1, sensors[k]))
    events.sort()
    index = {s: k for k, s in enumerate(sensors)}
    for at, kind, s in events:
        if control.stopped.is_set():
            break
        delay = at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        k = index[s]
        topic = f"coldchain/{s}/reading"
        if kind == 0:  # six readings at 10 °C: T_k - 30 min .. T_k - 5 min (still < 30 min of breach)
            for j in range(6):
                pub.publish(topic, reading(history + j, planned[k] - (6 - j) * interval, HIGH_C))
        else:  # the seventh completes 30 minutes: timed
            wall = time.time()
            mono = time.monotonic()
            pub.publish(topic, reading(history + 6, wall, HIGH_C))
            send({"sample": k, "sensor": s, "mono": mono, "wall": wall, "late_s": mono - at})
    ok = pub.wait_acked(60)
    pub.close()
    send({"done": {"messages": pub.published, "acked": pub.acked, "complete": ok}})


def run_count(job: dict[str, Any], control: Control) -> None:
    expected = int(job["expected"])
    state = {"n": 0, "first": 0.0, "last": 0.0}
    finished = threading.Event()
    subscribed = threading.Event()

    def on_connect(client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        client.subscribe(job.get("topic", "coldchain/+/reading"), qos=1)

    def on_subscribe(*_: Any) -> None:
        subscribed.set()

    def on_message(client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        now = time.monotonic()
        if state["n"] == 0:
            state["first"] = now
        state["n"] += 1
        state["last"] = now
        if state["n"] >= expected:
            finished.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=job["cid"], protocol=mqtt.MQTTv5)
    client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message
    props = Properties(PacketTypes.CONNECT)
    props.ReceiveMaximum = RECEIVE_MAXIMUM  # as the ingest does
    client.connect(job["host"], job["port"], keepalive=60, clean_start=True, properties=props)
    client.loop_start()
    if not subscribed.wait(10):
        raise SystemExit("counter: no SUBACK within 10 s")
    send({"ready": {"subscribed": True}})
    while not finished.wait(0.2):
        if control.stopped.is_set():
            break
    client.disconnect()
    client.loop_stop()
    send({"done": {"messages": state["n"], "t_first": state["first"], "t_last": state["last"]}})


def main() -> int:
    job = json.loads(sys.argv[1])
    control = Control()
    {"stream": run_stream, "paced": run_paced, "alarms": run_alarms, "count": run_count}[job["mode"]](job, control)
    return 0


if __name__ == "__main__":
    sys.exit(main())
