"""Simulated steam autoclave: the device side of ARCHITECTURE §4 MQTT `equipment/<id>/cycle`.

It imports neither `devices` nor `inventory_service`, so the simulator and the service's parser cannot
share a bug. Layers, each usable alone:

- `PROGRAMS`: the sterilization programs of a benchtop steam sterilizer (set point and holding time);
- `generate()`: the cycles a sterilizer reports, as data, without MQTT: the lifetime counter goes up by
  one per cycle, seq is continuous, the timestamps are `interval` apart and end at `end` (default now,
  so nothing is stamped in the future). Each cycle's program and readings depend only on the seed and
  the cycle number, so a run of 50 followed by a run of 1 reports what one run of 51 would;
- `SimulatedAutoclave`: paho 2.x client with the retained `equipment/<id>/status` (`online`, Last Will
  `offline`) and the cycles at QoS 1, each waited for until the broker acknowledged it (PUBACK);
- the CLI: `python -m firmware_sim autoclave --device ac-1 --broker mqtt://127.0.0.1:1883 --cycles 50 \\
  --fail-at 45 --start-cycle 0`.

A failed cycle is one that did not reach the program's sterilization conditions: the chamber stayed too
cold (air left in the load, a steam supply fault) or the holding time was cut short (a door seal or
pressure fault aborting the plateau). Its `max_temp_c` or `hold_min` says which, and `result` is `fail`.
Passing cycles reach the set point plus a small overshoot (EN 13060 allows up to +3 °C) and hold at
least the programmed time.

    python -m firmware_sim autoclave --device ac-1 --broker mqtt://127.0.0.1:1883 --cycles 50 --fail-at 45
    python -m firmware_sim autoclave --device ac-1 --cycles 1 --start-cycle 50 --fail-at 51    # continues
    python -m firmware_sim autoclave --device ac-2 --cycles 200 --fail-every 97 --dry-run     # JSON lines
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from .fridge.cli import parse_broker
from .mqtt_device import MqttDevice

ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
LOW_TEMPERATURE = "low_temperature"
SHORT_HOLD = "short_hold"
FAULTS = (LOW_TEMPERATURE, SHORT_HOLD)


@dataclass(frozen=True)
class Program:
    """A sterilization program: the chamber must reach `temp_c` and hold it `hold_min` minutes."""

    name: str
    temp_c: float
    hold_min: float
    weight: float = 1.0  # how often a clinic runs it, relative to the others


#: What a clinic's benchtop steam sterilizer runs (CDC 2008 Guideline, table 7; EN 13060 class B cycles).
PROGRAMS: tuple[Program, ...] = (
    Program("134C-3.5min", 134.0, 3.5, 6.0),  # pre-vacuum, wrapped instruments: the everyday cycle
    Program("132C-4min", 132.0, 4.0, 2.0),  # pre-vacuum, wrapped (US practice)
    Program("121C-20min", 121.0, 20.0, 2.0),  # gravity / heat-sensitive loads, textiles
    Program("121C-30min", 121.0, 30.0, 1.0),  # gravity, wrapped packs
    Program("134C-18min", 134.0, 18.0, 0.5),  # extended "prion" cycle
)


def program_named(name: str, programs: Sequence[Program] = PROGRAMS) -> Program:
    for p in programs:
        if p.name == name:
            return p
    raise ValueError(f"unknown program {name!r}; known: {', '.join(p.name for p in programs)}")


def rfc3339(ts: datetime) -> str:
    """UTC with a `Z`, whole seconds (a sterilizer's printer log has no fractions)."""
    return ts.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Cycle:
    seq: int
    ts: datetime  # when the cycle ended and was reported
    cycle: int  # the lifetime counter after this cycle
    program: str
    result: str  # "pass" | "fail"
    max_temp_c: float
    hold_min: float
    fault: str | None = field(default=None, compare=False)  # why it failed, for tests; not on the wire

    def payload(self) -> dict[str, object]:
        return {"seq": self.seq, "ts": rfc3339(self.ts), "cycle": self.cycle, "program": self.program,
                "result": self.result, "max_temp_c": self.max_temp_c, "hold_min": self.hold_min}

    def message(self) -> bytes:
        return json.dumps(self.payload()).encode()


def fails(cycle: int, fail_at: Iterable[int] = (), fail_every: int | None = None) -> bool:
    """Whether lifetime cycle number `cycle` is an injected failure."""
    return cycle in set(fail_at) or bool(fail_every and cycle % fail_every == 0)


def run_cycle(cycle: int, seed: int, *, fail: bool = False, programs: Sequence[Program] = PROGRAMS,
              ) -> tuple[Program, float, float, str | None]:
    """(program, max_temp_c, hold_min, fault) of lifetime cycle `cycle`: a function of (seed, cycle) only."""
    rng = random.Random(f"{seed}:{cycle}")
    program = rng.choices(programs, weights=[p.weight for p in programs])[0]
    overshoot = rng.uniform(0.3, 2.5)  # °C above the set point at the plateau
    extra_hold = rng.uniform(0.0, 0.5)  # the controller rounds up to its next check
    fault_draw, shortfall_c, cut = rng.random(), rng.uniform(1.5, 6.0), rng.uniform(0.3, 0.8)
    max_temp, hold = program.temp_c + overshoot, program.hold_min + extra_hold
    fault = None
    if fail:
        fault = LOW_TEMPERATURE if fault_draw < 0.5 else SHORT_HOLD
        if fault == LOW_TEMPERATURE:
            max_temp = program.temp_c - shortfall_c  # held the time, but never reached the set point
        else:
            hold = program.hold_min * cut  # reached the set point, plateau aborted
    return program, round(max_temp, 1), round(hold, 1), fault


def generate(count: int, *, start_cycle: int = 0, seq_start: int | None = None, fail_at: Iterable[int] = (),
             fail_every: int | None = None, seed: int = 0, end: datetime | None = None,
             interval: timedelta = timedelta(minutes=60), programs: Sequence[Program] = PROGRAMS) -> list[Cycle]:
    """The next `count` cycles of an autoclave whose lifetime counter stands at `start_cycle`: counters
    start_cycle+1 .. start_cycle+count, seq from `seq_start` (default `start_cycle`), the last one stamped
    `end` (default now, whole seconds) and each `interval` after the one before."""
    seq_start = start_cycle if seq_start is None else seq_start
    if count < 0 or start_cycle < 0 or seq_start < 0:
        raise ValueError("count, start_cycle and seq_start must be >= 0")
    if interval <= timedelta(0):
        raise ValueError("interval must be > 0")
    if fail_every is not None and fail_every < 1:
        raise ValueError("fail_every must be >= 1")
    if not programs:
        raise ValueError("no programs to choose from")
    end = end if end is not None else datetime.now(UTC).replace(microsecond=0)
    if end.tzinfo is None:
        raise ValueError("end must carry a time zone")
    fail_at = frozenset(fail_at)
    out = []
    for i in range(count):
        number = start_cycle + 1 + i
        failed = fails(number, fail_at, fail_every)
        program, max_temp, hold, fault = run_cycle(number, seed, fail=failed, programs=programs)
        out.append(Cycle(seq=seq_start + i, ts=end - (count - 1 - i) * interval, cycle=number, program=program.name,
                         result="fail" if failed else "pass", max_temp_c=max_temp, hold_min=hold, fault=fault))
    return out


@dataclass
class Summary:
    published: int = 0
    failed: list[int] = field(default_factory=list)  # lifetime numbers of the failed cycles published
    first_seq: int | None = None
    last_seq: int | None = None
    first_cycle: int | None = None
    last_cycle: int | None = None
    killed: bool = False

    def line(self) -> str:
        if self.last_seq is None:
            return "no cycles published"
        failed = f"{len(self.failed)} failed ({', '.join(map(str, self.failed))})" if self.failed else "0 failed"
        plural = "s" if self.published != 1 else ""
        return (f"{self.published} cycle{plural} published, {failed}, cycle {self.first_cycle}..{self.last_cycle}, "
                f"seq {self.first_seq}..{self.last_seq}, {'killed (Last Will)' if self.killed else 'clean disconnect'}")


class SimulatedAutoclave(MqttDevice):
    """An autoclave on the wire. `run(n)` reports its next n cycles and advances its counter and seq;
    `replay(cycles)` sends given cycles again (a device re-sending after a lost PUBACK)."""

    def __init__(self, device_id: str, broker_host: str = "127.0.0.1", port: int = 1883,
                 username: str | None = None, password: str | None = None, *, start_cycle: int = 0,
                 seq_start: int | None = None, fail_every: int | None = None, fail_at: Iterable[int] = (),
                 seed: int | None = None, interval_min: float = 60.0, programs: Sequence[Program] = PROGRAMS,
                 tls: bool = False, keepalive: int = 30, client_id: str | None = None, timeout_s: float = 10.0) -> None:
        if not ID.match(device_id):
            raise ValueError(f"device id {device_id!r} is not [A-Za-z0-9._-]{{1,64}}")
        if interval_min <= 0:
            raise ValueError("interval_min must be > 0")
        if start_cycle < 0 or (seq_start is not None and seq_start < 0):
            raise ValueError("start_cycle and seq_start must be >= 0")
        if fail_every is not None and fail_every < 1:
            raise ValueError("fail_every must be >= 1")
        super().__init__(host=broker_host, port=port, username=username, password=password, tls=tls,
                         keepalive=keepalive, client_id=client_id or f"autoclave-{device_id}", timeout_s=timeout_s,
                         status_topic=f"equipment/{device_id}/status")
        self.device_id = device_id
        self.cycle = start_cycle  # lifetime counter: the number of the last cycle run
        self.seq = start_cycle if seq_start is None else seq_start  # the next message's seq
        self.fail_every, self.fail_at = fail_every, frozenset(fail_at)
        self.seed = seed if seed is not None else zlib.crc32(device_id.encode())
        self.interval, self.programs = timedelta(minutes=interval_min), tuple(programs)
        self.cycle_topic = f"equipment/{device_id}/cycle"
        self.summary = Summary()

    def series(self, count: int, end: datetime | None = None) -> list[Cycle]:
        """The next `count` cycles (last one at `end`, default now) without sending or advancing anything."""
        return generate(count, start_cycle=self.cycle, seq_start=self.seq, fail_at=self.fail_at,
                        fail_every=self.fail_every, seed=self.seed, end=end, interval=self.interval,
                        programs=self.programs)

    def run(self, count: int, *, end: datetime | None = None, kill: bool = False) -> Summary:
        return self.replay(self.series(count, end), kill=kill)

    def replay(self, cycles: Iterable[Cycle], *, kill: bool = False) -> Summary:
        """Connect, publish each cycle and wait for its PUBACK, then close (or kill: the Will fires)."""
        try:
            self.connect()
            for c in cycles:
                self.publish(c)
        except BaseException:
            self.kill()
            raise
        if kill:
            self.summary.killed = True
            self.kill()
        else:
            self.close()
        return self.summary

    # -- publishing -------------------------------------------------------------------------------------
    def publish(self, c: Cycle) -> None:
        """One cycle, QoS 1, not retained; returns once the broker acknowledged it."""
        self._publish(self.cycle_topic, c.message())
        s = self.summary
        s.published += 1
        if c.result == "fail":
            s.failed.append(c.cycle)
        s.first_seq = c.seq if s.first_seq is None else s.first_seq
        s.first_cycle = c.cycle if s.first_cycle is None else s.first_cycle
        s.last_seq, s.last_cycle = c.seq, c.cycle
        self.cycle, self.seq = max(self.cycle, c.cycle), max(self.seq, c.seq + 1)

# -- `python -m firmware_sim autoclave ...` (entry `autoclave` of firmware_sim.__main__) -----------------
def _cycle_numbers(text: str) -> set[int]:
    try:
        numbers = {int(part) for part in text.split(",") if part.strip()}
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected cycle numbers like 45 or 45,47, got {text!r}") from exc
    if any(n < 1 for n in numbers):
        raise argparse.ArgumentTypeError("cycle numbers start at 1")
    return numbers


def _aware(text: str) -> datetime:
    try:
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not RFC 3339") from exc
    if ts.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone offset")
    return ts


def add_autoclave_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", required=True, help="device id: topics equipment/<id>/cycle and /status")
    parser.add_argument("--broker", default="mqtt://127.0.0.1:1883", help="mqtt://user:pass@host:port or mqtts://")
    parser.add_argument("--cycles", type=int, default=10, help="cycles to run and report (default 10)")
    parser.add_argument("--start-cycle", type=int, default=0,
                        help="lifetime counter before the first cycle; the first reported is this + 1 (default 0)")
    parser.add_argument("--seq-start", type=int,
                        help="seq of the first message (default: --start-cycle, so a continued run continues seq)")
    parser.add_argument("--fail-at", type=_cycle_numbers, action="append", default=[], metavar="N[,N]",
                        help="lifetime cycle numbers that fail (too cold or hold cut short); repeatable")
    parser.add_argument("--fail-every", type=int, help="every Nth lifetime cycle fails")
    parser.add_argument("--interval-min", type=float, default=60.0,
                        help="simulated minutes between cycles; the last one is stamped now (default 60)")
    parser.add_argument("--end", type=_aware, help="the last cycle's time, RFC 3339 with zone (default now); "
                        "the same --end and seed reproduce the same messages")
    parser.add_argument("--program", action="append", metavar="NAME",
                        help=f"only these programs (repeatable); known: {', '.join(p.name for p in PROGRAMS)}")
    parser.add_argument("--seed", type=int, help="seed (default: derived from the device id)")
    parser.add_argument("--client-id", help="MQTT client id (default autoclave-<device>)")
    parser.add_argument("--kill", action="store_true", help="end without DISCONNECT, so the Last Will fires")
    parser.add_argument("--dry-run", action="store_true", help="print the payloads as JSON lines; no broker")


def run_autoclave(args: argparse.Namespace) -> int:
    programs = tuple(program_named(name) for name in args.program) if args.program else PROGRAMS
    fail_at = set().union(*args.fail_at)
    host, port, username, password, tls = parse_broker(args.broker)
    autoclave = SimulatedAutoclave(args.device, host, port, username, password, start_cycle=args.start_cycle,
                                   seq_start=args.seq_start, fail_every=args.fail_every, fail_at=fail_at,
                                   seed=args.seed, interval_min=args.interval_min, programs=programs, tls=tls,
                                   client_id=args.client_id)
    cycles = autoclave.series(args.cycles, args.end)
    if args.dry_run:
        for c in cycles:
            print(json.dumps(c.payload()))
        return 0
    print(f"autoclave {args.device}: {len(cycles)} cycles every {args.interval_min:g} min to {host}:{port}",
          file=sys.stderr, flush=True)
    try:
        summary = autoclave.replay(cycles, kill=args.kill)
    except (OSError, TimeoutError) as exc:  # ConnectionError is an OSError
        s = autoclave.summary
        print(f"autoclave {args.device}: {exc} ({s.published} cycles published, last seq {s.last_seq})",
              file=sys.stderr)
        return 1
    print(f"autoclave {args.device}: {summary.line()}", flush=True)
    return 0
