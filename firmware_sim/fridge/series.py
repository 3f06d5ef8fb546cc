"""Scenarios as data, the series of readings a logger takes, and what it would publish.

A scenario is a set of windows (event, from minute, for minutes) on the simulated timeline. Model
events (door, faults, power) drive `FridgeModel`; `network_down` and `power_off` cut the logger's link,
so its readings are buffered and go out as one JSON array, oldest first, when the link returns (seq
numbers stay continuous; a full buffer drops its oldest readings, which shows as a gap in seq).
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from .model import COMPRESSOR_FAILURE, DOOR_OPEN, MODEL_EVENTS, POWER_OFF, THERMOSTAT_FAULT, FridgeModel

NETWORK_DOWN = "network_down"
LINK_EVENTS = frozenset({NETWORK_DOWN, POWER_OFF})
BUFFER_SIZE = 4000  # DDL requirement: memory for at least 4,000 readings

# scenario name -> its windows as (event, option giving the start minute, option giving the length)
SCENARIOS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "normal": (),
    "door_open": ((DOOR_OPEN, "door_at", "door_minutes"),),
    "compressor_failure": ((COMPRESSOR_FAILURE, "fault_at", "fault_minutes"),),
    "thermostat_fault": ((THERMOSTAT_FAULT, "fault_at", "fault_minutes"),),
    "outage": ((NETWORK_DOWN, "outage_at", "outage_minutes"),),
    "power_outage": ((POWER_OFF, "outage_at", "outage_minutes"),),
}
TIMING_DEFAULTS = {"door_at": 60.0, "door_minutes": 45.0, "fault_at": 60.0, "fault_minutes": math.inf,
                   "outage_at": 60.0, "outage_minutes": 60.0}


@dataclass(frozen=True)
class Window:
    event: str
    start_min: float
    minutes: float = math.inf

    def active(self, t_min: float) -> bool:
        return self.start_min <= t_min < self.start_min + self.minutes


@dataclass(frozen=True)
class Scenario:
    names: tuple[str, ...]
    windows: tuple[Window, ...] = ()

    @property
    def name(self) -> str:
        return "+".join(self.names) or "normal"

    def events_at(self, t_min: float) -> frozenset[str]:
        return frozenset(w.event for w in self.windows if w.active(t_min))


def make_scenario(names: str | Iterable[str] = "normal", **timing: float | None) -> Scenario:
    """Scenario from names (one, several, or "a,b"), timed by `door_at`, `door_minutes`, `fault_at`,
    `fault_minutes` (default: to the end), `outage_at`, `outage_minutes`, in simulated minutes."""
    if isinstance(names, str):
        names = names.split(",")
    names = tuple(dict.fromkeys(n.strip() for n in names if n.strip()))
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise ValueError(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    bad = set(timing) - set(TIMING_DEFAULTS)
    if bad:
        raise ValueError(f"unknown timing option(s) {', '.join(sorted(bad))}")
    values = {k: (v if (v := timing.get(k)) is not None else d) for k, d in TIMING_DEFAULTS.items()}
    if any(v < 0 for v in values.values()):
        raise ValueError("scenario times must be >= 0")
    windows = tuple(Window(event, values[at], values[length]) for n in names for event, at, length in SCENARIOS[n])
    return Scenario(names, windows)


def rfc3339(ts: datetime) -> str:
    """UTC with a `Z`, whole seconds unless the clock offset made them fractional."""
    ts = ts.astimezone(UTC)
    return ts.isoformat(timespec="milliseconds" if ts.microsecond else "seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Reading:
    seq: int
    ts: datetime  # the logger's clock: true time plus its offset
    temp_c: float
    battery_pct: float
    door_open: bool
    buffered: bool  # taken while the link was down: it goes out in a backfill array
    t_min: float = 0.0  # simulated minutes since the start (true time)
    air_c: float = field(default=0.0, compare=False)  # the model's true air temperature, for tests

    def payload(self) -> dict[str, object]:
        return {"seq": self.seq, "ts": rfc3339(self.ts), "temp_c": self.temp_c, "battery_pct": self.battery_pct,
                "door_open": self.door_open}


def generate(scenario: str | Iterable[str] | Scenario = "normal", start: datetime | None = None,
             duration: timedelta = timedelta(days=1), interval: timedelta = timedelta(minutes=5),
             seed: int | None = 0, *, model: FridgeModel | None = None, seq_start: int = 0,
             clock_offset_s: float = 0.0, battery_pct: float = 100.0, battery_drain_pct_per_day: float = 1.0,
             ) -> list[Reading]:
    """The readings a logger takes every `interval` over `duration` (first at `start`, default now minus
    the duration), without any MQTT. Physics advance in steps of at most a minute, so short door
    openings between two readings still count."""
    if not isinstance(scenario, Scenario):
        scenario = make_scenario(scenario)
    if interval <= timedelta(0) or duration < timedelta(0):
        raise ValueError("interval must be > 0 and duration >= 0")
    start = start if start is not None else datetime.now(UTC) - duration
    if start.tzinfo is None:
        raise ValueError("start must carry a time zone")
    model = model if model is not None else FridgeModel(seed=seed)
    interval_s = interval.total_seconds()
    count = int(duration.total_seconds() // interval_s)
    readings: list[Reading] = []
    t_s = 0.0
    for i in range(count):
        target_s = i * interval_s
        while t_s < target_s:  # advance to this reading, splitting at minute marks where windows can change
            chunk = min(60.0 - t_s % 60.0, target_s - t_s)
            model.advance(chunk, scenario.events_at(t_s / 60) & MODEL_EVENTS)
            t_s += chunk
        events = scenario.events_at(target_s / 60)
        battery = max(0.0, battery_pct - battery_drain_pct_per_day * target_s / 86400)
        readings.append(Reading(
            seq=seq_start + i, ts=start + timedelta(seconds=target_s + clock_offset_s), temp_c=model.read(),
            battery_pct=round(battery, 1), door_open=DOOR_OPEN in events, buffered=bool(events & LINK_EVENTS),
            t_min=target_s / 60, air_c=model.air_c))
    return readings


@dataclass(frozen=True)
class Batch:
    """One MQTT message: a single reading, or a backfill array (oldest first)."""

    readings: tuple[Reading, ...]
    backfill: bool = False

    def payload(self) -> bytes:
        if self.backfill:
            return json.dumps([r.payload() for r in self.readings]).encode()
        return json.dumps(self.readings[0].payload()).encode()


@dataclass(frozen=True)
class Tick:
    """What happens at one reading (`reading` None: the end of the run): the link goes `down` or comes
    back `up` (or neither: None), then `publish` goes out in order."""

    reading: Reading | None
    link: str | None = None
    publish: tuple[Batch, ...] = ()
    dropped: int = 0  # readings the full buffer lost at this tick


def ticks(readings: Iterable[Reading], buffer_size: int = BUFFER_SIZE) -> Iterator[Tick]:
    """The logger's store-and-forward: live readings go out one by one; buffered ones wait for the link and
    go out as one array before the first live reading. A run that ends with the link down ends with a
    final tick where the link returns and the buffer is flushed."""
    if buffer_size < 1:
        raise ValueError("buffer_size must be >= 1")
    buffer: deque[Reading] = deque(maxlen=buffer_size)
    up = True
    for r in readings:
        if r.buffered:
            dropped = int(len(buffer) == buffer_size)
            buffer.append(r)
            yield Tick(r, "down" if up else None, (), dropped)
            up = False
            continue
        out = (Batch(tuple(buffer), backfill=True),) if buffer else ()
        buffer.clear()
        yield Tick(r, None if up else "up", (*out, Batch((r,))))
        up = True
    if not up:
        yield Tick(None, "up", (Batch(tuple(buffer), backfill=True),) if buffer else ())


def batches(readings: Iterable[Reading], buffer_size: int = BUFFER_SIZE) -> list[Batch]:
    """Every message the logger would publish for `readings`, in order."""
    return [b for tick in ticks(readings, buffer_size) for b in tick.publish]
