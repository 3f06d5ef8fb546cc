"""Device input fuzzing through the real broker and a real pty (issue point 6).

Acceptance (issue text): "hypothesis-generated payloads on every subscribed topic (arbitrary bytes,
invalid UTF-8, deeply nested JSON, NaN/Infinity, 1e308, negative and huge `seq`, 256 KB payloads, arrays
of 10,000 readings, wrong types) and frames on a scanner port. The ingest keeps running; every message
is stored or rejected with a reason and acknowledged; the counts add up exactly; memory stays bounded
(RSS growth printed)."

MQTT (`test_fuzzed_mqtt_messages_...`): each hypothesis example is a batch of messages on the three
topics `inventory_service.ingest.mqtt` subscribes to (`coldchain/+/reading`, `coldchain/+/status`,
`equipment/+/cycle`), with ordinary, odd ("." "-" "_", 64 characters) and invalid ids, published at
QoS 1 through the session's Mosquitto to a real `inventory-service ingest` process (the harness of
test_ingest_robustness.py) and followed by a sentinel reading: once the sentinel is stored, the one
consumer has processed everything published before it. Whether a message meets the contract
(ARCHITECTURE §4, README "Wiring a real logger") is decided here, by construction: every generated
value is judged by the contract's rules (a reading object has only seq/ts/temp_c/battery_pct/door_open;
seq an integer 0..2**63-1; ts RFC 3339 with a zone, at most 10 minutes ahead; temp_c a finite number in
-150..150; battery_pct null or 0..100; door_open null/true/false; at most 10,000 readings per array; a
cycle exactly its seven fields, `cycle` 0..2**63-1, `program` 1-64 characters without control
characters, result pass/fail). The accounting, after every example and over the whole run:

- a *reading message* that meets the contract is stored: each of its readings is *new* (one `readings`
  row, holding the values first sent for its (sensor_id, seq)) or a *duplicate* (its (sensor_id, seq)
  came in an earlier message, or earlier in the same array), which adds no row;
- a *status message* that meets the contract sets its sensor's status (the last one per sensor wins);
- a *cycle* that meets the contract is new (one `equipment_cycles` row) or a duplicate (device, seq);
- any other message is *rejected*: exactly one `rejected_inputs` row with its topic and payload (as
  kept: cut at 300 / 2,000 characters) and a non-empty reason that validation gave, never the
  poison-message path's "could not be stored".

So: messages published = reading messages stored + statuses + cycles + rejected; `readings` rows =
readings in stored messages - duplicates; `equipment_cycles` rows = cycles - duplicates;
`rejected_inputs` rows = rejected messages. Then the ingest must be alive, its RSS growth (VmRSS from
/proc, printed with the peak VmHWM) under MEMORY_LIMIT_MB, and nothing left unacknowledged: two seconds
after the last commit the ingest is killed (SIGKILL, so nothing is flushed at shutdown), one probe
message is published for its session, and a plain client that resumes that session (same client id,
clean_start=False) must get exactly the probe, no redelivery.

Scanner (`test_fuzzed_frames_...`): hypothesis-generated frames written to a real pty read by the
real ScannerIngest (reader thread, consumer, scans service) on the test database: arbitrary bytes,
NULs, GS, bytes above 0x7f (not UTF-8: the reader decodes latin-1), AIM identifiers, valid and broken
GS1 / HIBC / GTIN / Digital Link labels for known and unknown items, command cards, lines over the
4,096-byte cap, blank lines, presentation re-reads, terminated by CR, LF, CRLF (split across writes),
LF CR, or the idle gap, and written in random chunks. A model of the framing contract (ARCHITECTURE §4
"Serial scanners", devices/serial/framing.py's docstring) says what each frame must become: exactly
one `scans` row, in order, with its escaped text (rejected `too_long` / `noise` by the reader, else
applied, command, pending, or rejected with a reason by the station), or a re-read counted in the
`rereads` of the row it repeats. Then: the reader thread is alive and its counters agree, the ledger
verifies (`services.ledger.verify`), no balance is negative and each equals the sum of its movements,
and every movement belongs to exactly one scan.

Both run on SQLite and PostgreSQL, with `derandomize=True` and no shrinking (a failing batch is
reported whole, with the ingest's log where there is one). The examples follow from the test
function's source and from the constants hypothesis collects from the product's modules: the same
commit, run the same way, tests the same inputs; an edit to either draws others.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import os
import re
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from devices.serial import PortState, ScannerConfig
from firmware_sim.scanner import PtyLink
from inventory_service.db.engine import make_engine
from inventory_service.db.models import Balance, EquipmentCycle, Movement, Reading, RejectedInput, Scan, Sensor
from inventory_service.db.uow import Database
from inventory_service.ingest.broker import BrokerAddress
from inventory_service.ingest.scanners import ScannerIngest, consumer_database
from inventory_service.services import catalog, equipment, ledger
from inventory_service.services.context import Context
from inventory_service.services.scans import OUTCOMES, READER_REJECTIONS
from tests.e2e.scan_script import (
    GS,
    HIBC_CHARSET,
    MAX_FRAME,
    ean13,
    element_string,
    escape_raw,
    gtin_check_digit,
    hibc_check,
    yymmdd,
)
from tests.e2e.test_ingest_robustness import (
    CLI,
    SITE_TZ,
    IngestProcess,
    Publisher,
    Service,
    Watcher,
    forget_session,
    rejected_text,
    start_listening,
)
from tests.support.services import postgres_database
from tests.support.wait import wait_for

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]

pytestmark = [pytest.mark.mqtt, pytest.mark.slow]

MQTT_EXAMPLES = 60  # batches of 4-16 messages (see the figures printed)
# RSS growth of the ingest over the run. By design its inbox holds at most 32 MB of payloads (QUEUE_BYTES)
# and a batch at most 1 MB; measured: 14-20 MB, once the allocator has seen the 10,000-reading arrays.
MEMORY_LIMIT_MB = 64

# --------------------------------------------------------------------------------------------------
# The contract's rules, as the oracle applies them
# --------------------------------------------------------------------------------------------------

ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
KNOWN_FIELDS = frozenset({"seq", "ts", "temp_c", "battery_pct", "door_open"})
CYCLE_FIELDS = frozenset({"seq", "ts", "cycle", "program", "result", "max_temp_c", "hold_min"})
MAX_ARRAY = 10_000
SEQ_END = 2**63
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")  # control characters and lone surrogates


class Raw:
    """A JSON token written as it is (`NaN`, `1e309`, 5,000 digits, 100,000 brackets)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:  # hypothesis prints a failing batch: keep 100,000 brackets out of it
        return f"Raw({self.text[:40]!r}{'...' if len(self.text) > 40 else ''})"


def finite_number(value: Any) -> float | None:
    """The value as a float if the contract takes it as a finite number (not a bool), else None."""
    if isinstance(value, Raw):
        try:
            value = json.loads(value.text)
        except (ValueError, RecursionError):
            return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def plain_int(value: Any) -> int | None:
    if isinstance(value, Raw):
        try:
            value = json.loads(value.text)
        except (ValueError, RecursionError):
            return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def seq_ok(value: Any) -> bool:
    seq = plain_int(value)
    return seq is not None and 0 <= seq < SEQ_END


# --------------------------------------------------------------------------------------------------
# What hypothesis draws: recipes, turned into payloads by the Factory below
# --------------------------------------------------------------------------------------------------

NUMBER_TOKENS = ("NaN", "Infinity", "-Infinity", "1e308", "-1e308", "1e309", "-1E400", "-0", "0e0", "4.9e-324",
                 "150.0000000001", "-150.0000000001", "1" + "0" * 30, "9" * 400, "1" * 5000)
BAD_SEQS = (-1, -(2**63), 2**63, 2**64 + 7, 10**30, 1.0, 2.5, "1", True, False, None, [1], {"seq": 1},
            Raw("1e3"), Raw("-0.0"), Raw("1" * 5000), Raw("NaN"))
GOOD_SEQS = (0, 1, SEQ_END - 1, SEQ_END - 2)
TS_LITERALS = (  # (text, meets the contract)
    ("0001-01-01T00:00:00Z", True), ("1970-01-01T00:00:00.000001+00:00", True),
    ("2000-02-29T23:59:59.999999-12:00", True),
    ("2020-06-01T12:00:00z", True), ("", False), ("yesterday", False), ("2026-13-01T00:00:00Z", False),
    ("2026-01-01T25:00:00Z", False), ("2026-01-01", False), ("2026-01-01T00:00:00", False),
    ("9999-12-31T23:59:59Z", False), ("0001-01-01T00:30:00+01:00", False), ("2026-01-01T00:00:00\x00Z", False),
    ("2026-01-01T00:00:00\ud800Z", False), ("2026-01-01T00:00:00+25:00", False), ("1" * 5000, False),
)
ZONES = (UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-10)), timezone(timedelta(hours=14)),
         ZoneInfo("America/New_York"))
WRONG_TYPES = st.one_of(
    st.none(), st.booleans(), st.text(max_size=12), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2), st.sampled_from(NUMBER_TOKENS).map(Raw),
    st.integers(1, 100_000).map(lambda d: Raw("[" * d + "]" * d)),
    st.integers(1, 3_000).map(lambda d: Raw('{"a":' * d + "1" + "}" * d)),
)


ODD_FIELD_NAMES = ("\ud800", "a\udfffb", "\x00", "a\x00b", "Temp_C", "seq ", "", "x" * 3000, "ünïcødé")


@dataclass(frozen=True)
class TsSpec:
    """`recent`: `seconds` before now in zone `zone` (as Z, z or +00:00 when UTC); `future`: `seconds`
    ahead (20 minutes at least: over the 10-minute limit however late the ingest looks); `literal`:
    TS_LITERALS[index]; `value`: a non-string."""

    kind: str
    seconds: float = 0.0
    zone: int = 0
    index: int = 0
    value: Any = None


@dataclass(frozen=True)
class ObjSpec:
    """One reading object: seq (`fresh`, `reuse` one of the sensor's earlier numbers, or `value`),
    ts, temp_c, optional battery_pct and door_open, and one `mutation` that may break it."""

    seq: tuple[str, Any]
    ts: TsSpec
    temp: Any
    battery: Any = ...
    door: Any = ...
    mutation: str = ""
    extra: tuple[str, Any] | None = None


@dataclass(frozen=True)
class SensorPick:
    """`registered` (in a fridge), `plain`, `odd` (valid but odd ids), `bad` (BAD_IDS), `drawn` (any text)."""

    kind: str
    index: int = 0
    text: str = ""


@dataclass(frozen=True)
class ReadingMsg:
    """An object (`items[0]`), or an array of `size` readings made from `items` in turn (each with its own
    sequence number when `fresh`), with `repeat_item` once more at the end (a duplicate within it)."""

    sensor: SensorPick
    items: tuple[ObjSpec, ...]
    array: bool
    style: int
    repeat_item: int | None = None
    size: int = 0


@dataclass(frozen=True)
class BulkMsg:
    """A large array: `size` readings (10,000 is the limit), one broken at `broken_at`, or an object or
    array padded to `pad_kb` KB (`pad`: whitespace, `field`: in an unknown field, `items`: readings)."""

    sensor: SensorPick
    size: int = 0
    broken_at: int | None = None
    pad_kb: int = 0
    pad: str = ""


@dataclass(frozen=True)
class JunkMsg:
    """Never a valid payload: `bytes` (arbitrary), `utf8` (a valid payload with an invalid UTF-8
    sequence spliced in), `nested` (depth), `scalar`, `bom`, `trailing`, `empty`, `random_kb`."""

    topic: str  # reading / status / cycle
    sensor: SensorPick
    shape: str
    data: bytes = b""
    depth: int = 0
    at: int = 0


@dataclass(frozen=True)
class StatusMsg:
    sensor: SensorPick
    payload: bytes


@dataclass(frozen=True)
class CycleMsg:
    device: SensorPick
    seq: tuple[str, Any]
    ts: TsSpec
    cycle: Any
    program: Any
    result: Any
    max_temp: Any
    hold: Any
    mutation: str = ""


# Each field has values the contract takes and values it refuses. A message is drawn valid and then,
# more often than not, broken in one place (one field of one reading, its topic, its framing): the
# oracle judges the result whatever was drawn, so a "broken" value that happens to be valid is fine.


@functools.cache
def ts_specs(registered: bool, valid: bool) -> st.SearchStrategy[TsSpec]:
    if valid:
        recent = st.builds(TsSpec, kind=st.just("recent"), seconds=st.floats(0, 6 * 3600 if registered else 3 * 86400),
                           zone=st.integers(0, len(ZONES) * 3 - 1))
        good = [i for i, (_, ok) in enumerate(TS_LITERALS) if ok]
        return recent if registered else st.one_of(
            recent, recent, recent, st.builds(TsSpec, kind=st.just("literal"), index=st.sampled_from(good)))
    bad = [i for i, (_, ok) in enumerate(TS_LITERALS) if not ok]
    return st.one_of(st.builds(TsSpec, kind=st.just("future"), seconds=st.floats(1200, 10**8)),
                     st.builds(TsSpec, kind=st.just("literal"), index=st.sampled_from(bad)),
                     st.builds(TsSpec, kind=st.just("value"), value=WRONG_TYPES))


@functools.cache
def seq_specs(valid: bool) -> st.SearchStrategy[tuple[str, Any]]:
    if valid:
        return st.one_of(st.just(("fresh", None)), st.just(("fresh", None)), st.just(("fresh", None)),
                         st.tuples(st.just("reuse"), st.integers(0, 50)),
                         st.tuples(st.just("value"), st.sampled_from(GOOD_SEQS)))
    return st.tuples(st.just("value"), st.sampled_from(BAD_SEQS))


@functools.cache
def temps(registered: bool, valid: bool) -> st.SearchStrategy[Any]:
    if valid:
        usual = st.floats(2, 8).map(lambda t: round(t, 2))
        if registered:  # realistic: the unit's evaluation stays cheap
            return st.one_of(usual, usual, st.floats(-30, 30))
        return st.one_of(usual, st.floats(-150, 150), st.integers(-150, 150),
                         st.sampled_from([150, -150.0, -0.0, 0, Raw("-0"), Raw("4.9e-324"), Raw("1.5E2")]))
    return st.one_of(st.sampled_from([1e308, -1e308, 150.0001, -151, 10**20, float("nan"), float("inf")]),
                     st.floats(), WRONG_TYPES)


BROKEN_FIELDS = ("seq", "ts", "temp_c", "battery_pct", "door_open", "drop seq", "drop ts", "drop temp_c", "extra",
                 "not an object")


BATTERIES = st.one_of(st.just(...), st.none(), st.integers(0, 100), st.floats(0, 100))
BAD_BATTERIES = st.one_of(st.sampled_from([-1, 101, 100.5, 1e9, float("nan")]), st.floats(), WRONG_TYPES)
DOORS = st.one_of(st.just(...), st.none(), st.booleans())
BAD_DOORS = st.one_of(st.sampled_from([0, 1, 1.0, "true", "yes"]), WRONG_TYPES)
UNKNOWN_FIELDS = st.one_of(st.text(max_size=20), st.sampled_from(ODD_FIELD_NAMES)).filter(
    lambda k: k not in KNOWN_FIELDS)


# Strategies are built once per set of arguments (functools.cache): building them again on every draw
# cost hypothesis more time than the broker and the databases together.
@functools.cache
@st.composite
def obj_specs(draw: st.DrawFn, registered: bool, broken: str = "") -> ObjSpec:
    """A reading object meeting the contract, or broken in `broken` (one of BROKEN_FIELDS)."""
    battery = draw(BAD_BATTERIES if broken == "battery_pct" else BATTERIES)
    door = draw(BAD_DOORS if broken == "door_open" else DOORS)
    extra = (draw(UNKNOWN_FIELDS), draw(WRONG_TYPES)) if broken == "extra" else None
    return ObjSpec(seq=draw(seq_specs(broken != "seq")), ts=draw(ts_specs(registered, broken != "ts")),
                   temp=draw(temps(registered, broken != "temp_c")), battery=battery, door=door,
                   mutation=broken if broken in ("drop seq", "drop ts", "drop temp_c", "not an object") else "",
                   extra=extra)


BAD_IDS = ("", " ", "has space", "ü", "😀", "a:b", "a\u200bb", "$SYS", "x" * 65, "y" * 400, "tab\u3000id")
ODD_IDS = (".", "-", "_", "..", "-_.", "0", "A", "9" * 64, "a.b-c_d")
DRAWN_IDS = st.text(alphabet=st.characters(categories=("L", "N", "P", "S", "Zs"), exclude_characters="/+#"),
                    max_size=70)


@functools.cache
def sensor_picks(valid: bool = True) -> st.SearchStrategy[SensorPick]:
    if valid:
        return st.one_of(st.builds(SensorPick, kind=st.just("plain"), index=st.integers(0, 3)),
                         st.builds(SensorPick, kind=st.just("registered"), index=st.integers(0, 1)),
                         st.builds(SensorPick, kind=st.just("odd"), index=st.integers(0, len(ODD_IDS) - 1)))
    return st.one_of(st.builds(SensorPick, kind=st.just("bad"), index=st.integers(0, len(BAD_IDS) - 1)),
                     st.builds(SensorPick, kind=st.just("drawn"), text=DRAWN_IDS))


@st.composite
def reading_msgs(draw: st.DrawFn) -> ReadingMsg:
    """An object or an array of up to 30; valid, or with one reading broken, or on a bad topic."""
    where = draw(st.sampled_from(("nothing", "a reading", "a reading", "the topic")))
    sensor = draw(sensor_picks(valid=where != "the topic"))
    array = draw(st.booleans())
    n = draw(st.integers(1, 4)) if array else 1
    broken_at = draw(st.integers(0, n - 1)) if where == "a reading" else None
    broken = draw(st.sampled_from(BROKEN_FIELDS)) if broken_at is not None else ""
    registered = sensor.kind == "registered"
    items = tuple(draw(obj_specs(registered, broken if i == broken_at else "")) for i in range(n))
    repeat = draw(st.one_of(st.none(), st.integers(0, n - 1))) if array else None
    return ReadingMsg(sensor, items, array, draw(st.integers(0, 4)), repeat, draw(st.integers(n, 30)) if array else 1)


@st.composite
def bulk_msgs(draw: st.DrawFn) -> BulkMsg:
    sensor = draw(st.builds(SensorPick, kind=st.just("plain"), index=st.integers(0, 3)))
    shape = draw(st.sampled_from(("field", "pad", "10001", "broken", "items", "10000")))
    if shape == "10000":
        return BulkMsg(sensor, size=MAX_ARRAY)
    if shape == "10001":
        return BulkMsg(sensor, size=MAX_ARRAY + 1)
    if shape == "broken":
        size = draw(st.integers(2, 5000))
        return BulkMsg(sensor, size=size, broken_at=draw(st.integers(0, size - 1)))
    return BulkMsg(sensor, pad_kb=draw(st.sampled_from((64, 256, 300))), pad=shape)


@st.composite
def junk_msgs(draw: st.DrawFn) -> JunkMsg:
    topic = draw(st.sampled_from(("reading", "cycle", "status")))
    sensor = draw(sensor_picks())
    shape = draw(st.sampled_from(("bytes", "utf8", "nested", "scalar", "bom", "trailing", "empty", "random_kb")))
    if topic == "status" and shape not in ("bytes", "utf8", "random_kb"):
        shape = "bytes"
    return JunkMsg(topic, sensor, shape, data=draw(st.binary(max_size=300)),
                   depth=draw(st.sampled_from((2, 500, 900, 990, 998, 1000, 1001, 5000, 100_000))),
                   at=draw(st.integers(0, 10**6)))


BAD_STATUSES = st.one_of(st.binary(max_size=40), st.sampled_from((
    b"", b"on line", b'{"status": "online"}', b"1", b"\xff\xfe", b"online\x00", b"ONLINE\xc3")))
STATUS_VALID = st.builds(lambda v, case, pad: (pad[0] + getattr(v, case)() + pad[1]).encode(),
                         st.sampled_from(("online", "offline")), st.sampled_from(("lower", "upper", "capitalize")),
                         st.sampled_from((("", ""), (" ", "\n"), ("\t", "\r\n"), ("", " "))))


@st.composite
def status_msgs(draw: st.DrawFn) -> StatusMsg:
    where = draw(st.sampled_from(("nothing", "the payload", "the topic")))
    payload = draw(STATUS_VALID if where != "the payload" else BAD_STATUSES)
    return StatusMsg(draw(sensor_picks(valid=where != "the topic")), payload)


GOOD_NUMBERS = st.one_of(st.floats(0, 200), st.integers(0, 200), st.floats(allow_nan=False, allow_infinity=False))
BAD_NUMBERS = st.one_of(st.sampled_from((*NUMBER_TOKENS[:3], NUMBER_TOKENS[5])).map(Raw), WRONG_TYPES)
DEVICES = st.one_of(st.builds(SensorPick, kind=st.just("registered"), index=st.just(0)), sensor_picks())
PROGRAMS = st.one_of(st.sampled_from(("134C-4min", "121C-15min", "Bowie-Dick", "x" * 64, "134 °C")),
                     st.text(st.characters(categories=("L", "N", "P", "S", "Zs")), min_size=1, max_size=64))
BAD_PROGRAMS = st.one_of(st.sampled_from(("", "x" * 65, "a\x00b", "lone \ud800", "\udfff", "tab\tin", "new\nline")),
                         st.text(min_size=65, max_size=80), WRONG_TYPES)


@st.composite
def cycle_msgs(draw: st.DrawFn) -> CycleMsg:
    """A cycle meeting the contract, or broken in one field, in its shape, or on a bad topic."""
    where = draw(st.sampled_from(("nothing",) * 4 + ("seq", "ts", "cycle", "program", "result", "max_temp_c",
                                                     "hold_min", "drop", "extra", "not an object", "the topic")))
    return CycleMsg(
        device=draw(DEVICES if where != "the topic" else sensor_picks(valid=False)),
        seq=draw(seq_specs(where != "seq")), ts=draw(ts_specs(False, where != "ts")),
        cycle=draw(st.one_of(st.integers(0, 10**6), st.sampled_from((0, SEQ_END - 1)))) if where != "cycle" else
        draw(st.sampled_from((SEQ_END, 2**64, 10**30, -1, 1.5, "12", True, None, Raw("1e3")))),
        program=draw(PROGRAMS if where != "program" else BAD_PROGRAMS),
        result=draw(st.sampled_from(("pass", "fail"))) if where != "result" else
        draw(st.sampled_from(("PASS", "ok", "", None, 1, True, ["pass"]))),
        max_temp=draw(GOOD_NUMBERS if where != "max_temp_c" else BAD_NUMBERS),
        hold=draw(GOOD_NUMBERS if where != "hold_min" else BAD_NUMBERS),
        mutation=where if where in ("drop", "extra", "not an object") else "",
    )


MESSAGES = st.one_of(reading_msgs(), reading_msgs(), reading_msgs(), cycle_msgs(), status_msgs(), junk_msgs())


@st.composite
def batches(draw: st.DrawFn) -> list[Any]:
    """4 to 16 messages; one example in eight also carries a large one (BulkMsg) among them."""
    messages: list[Any] = draw(st.lists(MESSAGES, min_size=4, max_size=16))
    if draw(st.integers(0, 7)) == 7:
        messages.insert(draw(st.integers(0, len(messages))), draw(bulk_msgs()))
    return messages


# --------------------------------------------------------------------------------------------------
# From recipes to payloads, and what must become of each
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What must become of one message (see the module docstring)."""

    category: str
    readings: tuple[tuple[str, int, datetime, float], ...] = ()
    status: tuple[str, str] | None = None
    cycle: tuple[str, int] | None = None
    rejected: bool = False


@dataclass
class Tally:
    """The model: what is stored so far, and the counts the accounting adds up."""

    readings: dict[tuple[str, int], tuple[datetime, float]] = field(default_factory=dict)
    cycles: set[tuple[str, int]] = field(default_factory=set)
    statuses: dict[str, str] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)


class Factory:
    """Materializes recipes: fresh sequence numbers, sensor ids with this run's tag, timestamps
    relative to now, payload text in the drawn style; and judges each by the contract."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.seq = 0
        self.used: dict[str, list[int]] = {}
        self.marker = f"@raw-{uuid.uuid4().hex}-"
        self.registered = [f"r{tag}-{i}" for i in range(2)]
        self.autoclave = f"ac{tag}"

    # -- ids and fields ---------------------------------------------------------------------------

    def sensor(self, pick: SensorPick, prefix: str = "") -> str:
        if pick.kind == "registered":
            return self.autoclave if prefix == "equipment" else self.registered[pick.index % 2]
        if pick.kind == "plain":
            return f"p{self.tag}-{pick.index}"
        if pick.kind == "odd":
            return ODD_IDS[pick.index % len(ODD_IDS)]
        if pick.kind == "bad":
            return BAD_IDS[pick.index % len(BAD_IDS)]
        return pick.text

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def seq_value(self, spec: tuple[str, Any], sensor: str) -> Any:
        kind, value = spec
        used = self.used.setdefault(sensor, [])
        if kind == "reuse" and used:
            return used[value % len(used)]
        if kind == "value":
            if plain_int(value) is not None and seq_ok(value):
                used.append(plain_int(value))  # type: ignore[arg-type]
            return value
        seq = self.next_seq()
        used.append(seq)
        return seq

    def ts_value(self, spec: TsSpec, now: datetime) -> tuple[Any, datetime | None]:
        """(the ts value to send, the instant if it meets the contract)."""
        if spec.kind == "recent":
            zone = ZONES[spec.zone % len(ZONES)]
            when = (now - timedelta(seconds=spec.seconds)).astimezone(zone)
            text = when.isoformat()
            if zone is UTC:
                text = text.replace("+00:00", ("Z", "z", "+00:00")[spec.zone // len(ZONES) % 3])
            return text, when.astimezone(UTC)
        if spec.kind == "future":
            return (now + timedelta(seconds=spec.seconds)).isoformat(), None
        if spec.kind == "literal":
            text, ok = TS_LITERALS[spec.index % len(TS_LITERALS)]
            return text, datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00")).astimezone(UTC) \
                if ok else None
        return spec.value, None

    def encode(self, data: Any, style: int) -> bytes:
        """JSON in one of five styles; Raw tokens spliced in as they are; lone surrogates kept (as
        escapes, or as bytes that are not UTF-8)."""
        raws: list[str] = []

        def swap(value: Any) -> Any:
            if isinstance(value, Raw):
                raws.append(value.text)
                return f"{self.marker}{len(raws) - 1}"
            if isinstance(value, dict):
                return {k: swap(v) for k, v in value.items()}
            if isinstance(value, list):
                return [swap(v) for v in value]
            return value

        kwargs: list[dict[str, Any]] = [{}, {"separators": (",", ":")}, {"indent": 2}, {"ensure_ascii": False},
                                        {"separators": (", ", ": "), "ensure_ascii": False}]
        text = json.dumps(swap(data), **kwargs[style % len(kwargs)])
        for i, raw in enumerate(raws):
            text = text.replace(f'"{self.marker}{i}"', raw, 1)
        if style == 4:
            text = f" \n\t{text}\r\n "
        return text.encode("utf-8", "surrogatepass")

    # -- messages ---------------------------------------------------------------------------------

    def reading_obj(self, spec: ObjSpec, sensor: str, now: datetime) -> tuple[Any, tuple[int, datetime, float] | None]:
        """(the object to send, (seq, ts, temp_c) if it meets the contract)."""
        seq = self.seq_value(spec.seq, sensor)
        ts, instant = self.ts_value(spec.ts, now)
        obj: dict[str, Any] = {"seq": seq, "ts": ts, "temp_c": spec.temp}
        if spec.battery is not ...:
            obj["battery_pct"] = spec.battery
        if spec.door is not ...:
            obj["door_open"] = spec.door
        if spec.mutation.startswith("drop "):
            obj.pop(spec.mutation.removeprefix("drop "))
        if spec.extra is not None:
            obj[spec.extra[0]] = spec.extra[1]
        if spec.mutation == "not an object":
            return f"seq={seq}", None
        temp = finite_number(obj.get("temp_c"))
        battery = obj.get("battery_pct")
        ok = (KNOWN_FIELDS.issuperset(obj) and seq_ok(obj.get("seq")) and "ts" in obj and isinstance(ts, str)
              and instant is not None
              and temp is not None and -150 <= temp <= 150
              and (battery is None or ((b := finite_number(battery)) is not None and 0 <= b <= 100))
              and obj.get("door_open") in (None, True, False) and type(obj.get("door_open")) in (type(None), bool))
        return obj, (plain_int(seq), instant, temp) if ok else None  # type: ignore[return-value]

    def reading_message(self, msg: ReadingMsg, now: datetime) -> tuple[str, bytes, Outcome]:
        sensor = self.sensor(msg.sensor)
        objs, good = [], []
        for i in range(max(msg.size, len(msg.items))):
            obj, value = self.reading_obj(msg.items[i % len(msg.items)], sensor, now)
            objs.append(obj)
            good.append(value)
        if msg.repeat_item is not None:
            objs.append(objs[msg.repeat_item])
            good.append(good[msg.repeat_item])
        category = "array" if msg.array else "object"
        payload = self.encode(objs if msg.array else objs[0], msg.style)
        topic = f"coldchain/{sensor}/reading"
        if not ID.fullmatch(sensor):
            return topic, payload, Outcome(f"{category} on a bad topic", rejected=True)
        if all(g is not None for g in good):
            readings = tuple((sensor, s, t, v) for s, t, v in good)  # type: ignore[misc]
            return topic, payload, Outcome(f"valid {category}", readings=readings)
        return topic, payload, Outcome(f"broken {category}", rejected=True)

    def bulk_message(self, msg: BulkMsg, now: datetime) -> tuple[str, bytes, Outcome]:
        sensor = self.sensor(msg.sensor)
        topic = f"coldchain/{sensor}/reading"

        def item(i: int, total: int) -> dict[str, Any]:
            seq = self.next_seq()
            self.used.setdefault(sensor, []).append(seq)
            at = now - timedelta(days=2) + timedelta(seconds=i * 86400 / max(total, 1))
            return {"seq": seq, "ts": at.isoformat().replace("+00:00", "Z"), "temp_c": round(2 + (i % 60) / 10, 1)}

        def stored(objs: list[dict[str, Any]]) -> tuple[tuple[str, int, datetime, float], ...]:
            return tuple((sensor, o["seq"], datetime.fromisoformat(o["ts"].replace("Z", "+00:00")), o["temp_c"])
                         for o in objs)

        if msg.pad:
            size = msg.pad_kb * 1024
            if msg.pad == "items":  # as many readings as fit
                objs: list[dict[str, Any]] = []
                while len(objs) * 60 < size:
                    objs.append(item(len(objs), size // 60))
                return topic, json.dumps(objs).encode(), Outcome(f"{msg.pad_kb} KB array", readings=stored(objs))
            obj = item(0, 1)
            if msg.pad == "pad":
                body = json.dumps(obj)
                return topic, (body + " " * (size - len(body))).encode(), \
                    Outcome(f"{msg.pad_kb} KB padded object", readings=stored([obj]))
            obj["note"] = "n" * size
            return topic, json.dumps(obj).encode(), Outcome(f"{msg.pad_kb} KB field", rejected=True)
        objs = [item(i, msg.size) for i in range(msg.size)]
        if msg.broken_at is not None:
            objs[msg.broken_at]["temp_c"] = float("nan")
            return topic, json.dumps(objs).encode(), Outcome(f"array of {msg.size}, one NaN", rejected=True)
        if msg.size > MAX_ARRAY:
            return topic, json.dumps(objs).encode(), Outcome(f"array of {msg.size}", rejected=True)
        return topic, json.dumps(objs).encode(), Outcome(f"array of {msg.size}", readings=stored(objs))

    def junk_message(self, msg: JunkMsg, now: datetime) -> tuple[str, bytes, Outcome]:
        prefix, suffix = {"reading": ("coldchain", "reading"), "status": ("coldchain", "status"),
                          "cycle": ("equipment", "cycle")}[msg.topic]
        sensor = self.sensor(msg.sensor, prefix)
        topic = f"{prefix}/{sensor}/{suffix}"
        valid = self.encode({"seq": self.next_seq(), "ts": now.isoformat(), "temp_c": 4.0}, 0)
        if msg.shape == "bytes":
            payload = msg.data
        elif msg.shape == "utf8":
            bad = (b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"\xf8\x88\x80\x80\x80")[msg.at % 5]
            at = msg.at % (len(valid) + 1)
            payload = valid[:at] + bad + valid[at:]
        elif msg.shape == "nested":
            payload = ("[" * msg.depth + "]" * msg.depth).encode()
        elif msg.shape == "scalar":
            payload = (b"1", b'"reading"', b"null", b"true", b"-0.5", b"NaN", b"1e999", b"[]", b"{}")[msg.at % 9]
        elif msg.shape == "bom":
            payload = b"\xef\xbb\xbf" + valid
        elif msg.shape == "trailing":
            payload = valid + b"}"
        elif msg.shape == "empty":
            payload = b""
        else:  # random_kb: 256 KB that are not a payload
            payload = bytes((msg.at * 7919 + i * 104729) % 251 for i in range(256 * 1024))
        if msg.topic == "status":
            text = payload.decode("utf-8", errors="replace").strip().lower()
            if text in ("online", "offline"):
                return topic, payload, Outcome("status from bytes", status=(sensor, text))
            return topic, payload, Outcome(f"status {msg.shape}", rejected=True)
        if msg.shape in ("bytes", "random_kb"):
            payload = self.not_a_payload(payload)
        return topic, payload, Outcome(f"{msg.topic} {msg.shape}", rejected=True)

    @staticmethod
    def not_a_payload(data: bytes) -> bytes:
        """Arbitrary bytes that are not a JSON object or array with something in it: those the
        contract could accept are left to the other generators (such bytes are rare; a NUL ends them)."""
        try:
            parsed = json.loads(data.decode("utf-8"))
        except (ValueError, RecursionError):
            return data
        return data + b"\x00" if isinstance(parsed, dict | list) and parsed else data

    def status_message(self, msg: StatusMsg) -> tuple[str, bytes, Outcome]:
        sensor = self.sensor(msg.sensor)
        topic = f"coldchain/{sensor}/status"
        text = msg.payload.decode("utf-8", errors="replace").strip().lower()
        if not ID.fullmatch(sensor):
            return topic, msg.payload, Outcome("status on a bad topic", rejected=True)
        if text in ("online", "offline"):
            return topic, msg.payload, Outcome("status", status=(sensor, text))
        return topic, msg.payload, Outcome("bad status", rejected=True)

    def cycle_message(self, msg: CycleMsg, now: datetime) -> tuple[str, bytes, Outcome]:
        device = self.sensor(msg.device, "equipment")
        topic = f"equipment/{device}/cycle"
        seq = self.seq_value(msg.seq, f"equipment/{device}")
        ts, instant = self.ts_value(msg.ts, now)
        data: dict[str, Any] = {"seq": seq, "ts": ts, "cycle": msg.cycle, "program": msg.program,
                                "result": msg.result, "max_temp_c": msg.max_temp, "hold_min": msg.hold}
        if msg.mutation == "drop":
            data.pop("program")
        elif msg.mutation == "extra":
            data["operator"] = "x"
        cycle = plain_int(data.get("cycle"))
        ok = (set(data) == CYCLE_FIELDS and seq_ok(seq) and isinstance(ts, str) and instant is not None
              and cycle is not None and 0 <= cycle < SEQ_END
              and isinstance(msg.program, str) and 1 <= len(msg.program) <= 64 and not CONTROL.search(msg.program)
              and msg.result in ("pass", "fail") and type(msg.result) is str
              and finite_number(msg.max_temp) is not None and finite_number(msg.hold) is not None)
        payload = self.encode([data] if msg.mutation == "not an object" else data, 0)
        if not ID.fullmatch(device):
            return topic, payload, Outcome("cycle on a bad topic", rejected=True)
        if ok and msg.mutation != "not an object":
            return topic, payload, Outcome("valid cycle", cycle=(device, plain_int(seq)))  # type: ignore[arg-type]
        return topic, payload, Outcome("broken cycle", rejected=True)

    def message(self, recipe: Any, now: datetime) -> tuple[str, bytes, Outcome]:
        if isinstance(recipe, ReadingMsg):
            return self.reading_message(recipe, now)
        if isinstance(recipe, BulkMsg):
            return self.bulk_message(recipe, now)
        if isinstance(recipe, JunkMsg):
            return self.junk_message(recipe, now)
        if isinstance(recipe, StatusMsg):
            return self.status_message(recipe)
        return self.cycle_message(recipe, now)


def headline_batch() -> list[Any]:
    """The issue's list, once each, whatever hypothesis draws (the first, explicit example)."""
    plain, reg = SensorPick("plain", 0), SensorPick("registered", 0)
    recent = TsSpec("recent", seconds=60)

    def obj(**kw: Any) -> ObjSpec:
        return ObjSpec(**{"seq": ("fresh", None), "ts": recent, "temp": 4.5, **kw})

    return [
        BulkMsg(plain, size=MAX_ARRAY), BulkMsg(SensorPick("plain", 1), size=MAX_ARRAY + 1),
        BulkMsg(plain, pad_kb=256, pad="pad"), BulkMsg(plain, pad_kb=256, pad="field"),
        BulkMsg(plain, pad_kb=256, pad="items"), JunkMsg("reading", plain, "random_kb", at=3),
        JunkMsg("reading", plain, "nested", depth=100_000), JunkMsg("cycle", plain, "nested", depth=990),
        JunkMsg("reading", plain, "utf8", at=7), JunkMsg("status", plain, "bytes", data=b"\xc3\x28online"),
        ReadingMsg(plain, (obj(temp=Raw("NaN")), obj(temp=Raw("Infinity")), obj(temp=1e308)), True, 0),
        ReadingMsg(plain, (obj(temp=Raw("-Infinity")),), False, 1),
        ReadingMsg(plain, (obj(seq=("value", -1)),), False, 0),
        ReadingMsg(plain, (obj(seq=("value", 10**30)),), False, 0),
        ReadingMsg(plain, (obj(seq=("value", SEQ_END - 1)), obj(seq=("value", 0))), True, 2),
        ReadingMsg(plain, (obj(seq=("value", "7")), obj(temp="4.5"), obj(battery=True)), True, 3),
        ReadingMsg(plain, (obj(extra=("\ud800", 1)),), False, 0),
        ReadingMsg(plain, (obj(extra=("a\x00b", 2)),), False, 3),
        ReadingMsg(reg, (obj(), obj(), obj()), True, 4, repeat_item=1),
        ReadingMsg(SensorPick("odd", 0), (obj(),), False, 0), ReadingMsg(SensorPick("odd", 7), (obj(),), False, 0),
        ReadingMsg(SensorPick("bad", 8), (obj(),), False, 0),
        StatusMsg(SensorPick("odd", 1), b"ONLINE\n"), StatusMsg(SensorPick("bad", 0), b"offline"),
        CycleMsg(reg, ("fresh", None), recent, 1, "134C-4min", "fail", 134.2, 4.0),
        CycleMsg(reg, ("fresh", None), recent, SEQ_END, "134C-4min", "pass", 134.2, 4.0),
        CycleMsg(plain, ("fresh", None), recent, 7, "a\x00b", "pass", 121.0, 15.0),
        CycleMsg(plain, ("fresh", None), recent, 8, "lone \ud800", "pass", 121.0, 15.0),
        CycleMsg(plain, ("fresh", None), recent, 9, "Bowie-Dick", "pass", Raw("NaN"), 15.0),
    ]


# --------------------------------------------------------------------------------------------------
# The MQTT test
# --------------------------------------------------------------------------------------------------


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (resident now) and VmHWM (the peak) of a process, in KiB, from /proc/<pid>/status."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'inventory.db'}"
    else:
        with postgres_database("inv_fuzz") as url:
            yield url


@pytest.fixture
def service(database_url: str, mqtt_url: str, tmp_path: Path) -> Iterator[Service]:
    """A database migrated by the real CLI, and the environment for `inventory-service ingest`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_")}
    instance = f"fuzz-{uuid.uuid4().hex[:10]}"
    env.update({"INVENTORY_DATA_DIR": str(tmp_path), "INVENTORY_DATABASE_URL": database_url,
                "INVENTORY_MQTT_URL": mqtt_url, "INVENTORY_INSTANCE": instance, "INVENTORY_TIMEZONE": SITE_TZ,
                "INVENTORY_LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"})
    done = subprocess.run([*CLI, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"db upgrade failed:\n{done.stdout}\n{done.stderr}"
    db = Database(make_engine(database_url))
    try:
        yield Service(env, db, tmp_path, instance, mqtt_url)
    finally:
        db.dispose()
        forget_session(mqtt_url, instance)


@dataclass(frozen=True)
class Marks:
    """The highest row ids before a batch: what the batch wrote is above them."""

    reading: int
    rejected: int
    cycle: int
    at: datetime

    @classmethod
    def take(cls, service: Service) -> Marks:
        def top(column: Any) -> int:
            return int(service.rows(select(func.coalesce(func.max(column), 0)))[0][0])
        return cls(top(Reading.id), top(RejectedInput.id), top(EquipmentCycle.id), datetime.now(UTC))


def sentinel_payload(seq: int) -> bytes:
    return json.dumps({"seq": seq, "ts": datetime.now(UTC).isoformat(), "temp_c": 4.0}).encode()


class Accounting:
    """Checks one batch against the Tally (see the module docstring) and keeps the run's counts."""

    def __init__(self, service: Service, tally: Tally, sentinel: str) -> None:
        self.service, self.tally, self.sentinel = service, tally, sentinel

    def expect(self, messages: list[tuple[str, bytes, Outcome]]) -> tuple[
            dict[tuple[str, int], tuple[datetime, float]], Counter[tuple[str, str]], set[tuple[str, int]],
            dict[str, str]]:
        """Add the batch to the tally: the new readings, rejections, new cycles and statuses it must leave."""
        counts, new = self.tally.counts, {}
        rejected: Counter[tuple[str, str]] = Counter()
        cycles: set[tuple[str, int]] = set()
        statuses: dict[str, str] = {}
        for topic, payload, outcome in messages:
            counts["published"] += 1
            counts[f"category: {outcome.category}"] += 1
            if outcome.rejected:
                counts["rejected"] += 1
                rejected[(topic[:300], rejected_text(payload))] += 1
            elif outcome.status is not None:
                counts["statuses"] += 1
                statuses[outcome.status[0]] = outcome.status[1]
            elif outcome.cycle is not None:
                counts["cycles"] += 1
                if outcome.cycle in self.tally.cycles:
                    counts["duplicate cycles"] += 1
                else:
                    self.tally.cycles.add(outcome.cycle)
                    cycles.add(outcome.cycle)
            else:
                counts["reading messages"] += 1
                for sensor, seq, ts, temp in outcome.readings:
                    counts["readings"] += 1
                    if (sensor, seq) in self.tally.readings:
                        counts["duplicate readings"] += 1
                    else:
                        self.tally.readings[(sensor, seq)] = (ts, temp)
                        new[(sensor, seq)] = (ts, temp)
        self.tally.statuses.update(statuses)
        return new, rejected, cycles, statuses

    def check(self, messages: list[tuple[str, bytes, Outcome]], marks: Marks) -> None:
        new, rejected, cycles, statuses = self.expect(messages)
        rows = self.service.rows
        got = {(s, q): (ts, t) for s, q, ts, t in rows(
            select(Reading.sensor_id, Reading.seq, Reading.ts, Reading.temp_c)
            .where(Reading.id > marks.reading, Reading.sensor_id != self.sentinel))}
        where = {k: outcome.category for _, _, outcome in messages for k in
                 [(r[0], r[1]) for r in outcome.readings]}
        missing = sorted((k, where.get(k)) for k in set(new) - set(got))
        extra = sorted((k, where.get(k, "a rejected message?")) for k in set(got) - set(new))
        assert (missing, extra) == ([], []), f"readings missing (first 5): {missing[:5]}; unexpected: {extra[:5]}"
        changed = [(k, new[k], got[k]) for k in new if got[k] != new[k]]
        assert changed == [], f"stored values differ from the first sent (key, sent, stored): {changed[:5]}"

        got_rejected = rows(select(RejectedInput.topic, RejectedInput.payload, RejectedInput.reason)
                            .where(RejectedInput.id > marks.rejected))
        counted = Counter((t, p) for t, p, _ in got_rejected)
        kinds = {(t[:300], rejected_text(p)): o.category for t, p, o in messages}
        assert counted == rejected, (
            f"rejections differ: missing {[(kinds.get(k), k[0]) for k in (rejected - counted)][:5]!r:.1500}; "
            f"unexpected {[(kinds.get(k), k[0], k[1][:80]) for k in (counted - rejected)][:5]!r:.1500}")
        bad_reasons = [(kinds.get((t, p)), reason[:120]) for t, p, reason in got_rejected
                       if not reason.strip() or reason.startswith("could not be stored")]
        assert bad_reasons == [], f"rejected without a validation reason: {bad_reasons[:5]}"

        got_cycles = rows(select(EquipmentCycle.equipment_id, EquipmentCycle.seq)
                          .where(EquipmentCycle.id > marks.cycle))
        assert sorted(got_cycles) == sorted(cycles), f"cycles stored {sorted(got_cycles)[:5]}, not {sorted(cycles)[:5]}"

        if statuses:
            got_statuses = {sid: (status, at) for sid, status, at in rows(
                select(Sensor.id, Sensor.status, Sensor.status_at).where(Sensor.id.in_(statuses)))}
            wrong = {sid: got_statuses.get(sid) for sid, status in statuses.items()
                     if sid not in got_statuses or got_statuses[sid][0] != status or got_statuses[sid][1] < marks.at}
            assert wrong == {}, f"statuses not set (expected {statuses})"

    def totals(self, first: Marks, sentinels: int) -> dict[str, int]:
        """The whole run's counts, checked against the database."""
        counts, count = self.tally.counts, self.service.count
        stored = count(Reading, Reading.sensor_id != self.sentinel)
        assert stored == len(self.tally.readings) == counts["readings"] - counts["duplicate readings"]
        assert count(Reading, Reading.sensor_id == self.sentinel) == sentinels
        assert count(RejectedInput, RejectedInput.id > first.rejected) == counts["rejected"]
        assert count(EquipmentCycle) == len(self.tally.cycles) == counts["cycles"] - counts["duplicate cycles"]
        assert counts["published"] == (counts["reading messages"] + counts["statuses"] + counts["cycles"]
                                       + counts["rejected"])
        statuses = dict(self.service.rows(select(Sensor.id, Sensor.status).where(Sensor.id.in_(self.tally.statuses))))
        assert statuses == self.tally.statuses
        return {"stored rows": stored, "cycle rows": len(self.tally.cycles)}


def resume_session(mqtt_url: str, instance: str, probe: tuple[str, bytes]) -> tuple[bool, list[tuple[str, bytes]]]:
    """Resume the ingest's persistent session with a plain client (same client id, clean_start=False)
    and collect what the broker sends it until `probe` arrives (anything redelivered comes before:
    the broker sends a resumed session's unacknowledged messages first, then the queued ones in order),
    and half a second more. Returns (session present, messages)."""
    a = BrokerAddress.parse(mqtt_url)
    got: list[tuple[str, bytes]] = []
    present: list[bool] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"inventory-ingest-{instance}",
                         protocol=mqtt.MQTTv5, manual_ack=True)
    client.on_connect = lambda _c, _u, flags, _r, _p: present.append(bool(flags.session_present))
    client.on_message = lambda _c, _u, msg: got.append((msg.topic, bytes(msg.payload)))
    client.connect(a.host, a.port, keepalive=30, clean_start=False)
    client.loop_start()
    try:
        wait_for(lambda: probe in got, 20, "the probe published while the ingest was down")
        time.sleep(0.5)
    finally:
        client.disconnect()
        client.loop_stop()
    return bool(present and present[0]), got


def keep_first_failure(check: Callable[[Any], None]) -> Callable[[Any], None]:
    """Hypothesis runs a failing example once more to report it; against live services that run starts
    from a later state and fails differently (or not at all). The first failure is raised again."""
    failed: list[BaseException] = []

    @functools.wraps(check)
    def run(batch: Any) -> None:
        if failed:
            raise failed[0]
        try:
            check(batch)
        except BaseException as exc:
            failed.append(exc)
            raise

    return run


FUZZ_SETTINGS = settings(max_examples=MQTT_EXAMPLES, derandomize=True, database=None, deadline=None,
                         phases=(Phase.explicit, Phase.generate), report_multiple_bugs=False,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                HealthCheck.filter_too_much, HealthCheck.large_base_example])


@pytest.mark.timeout(300)
def test_fuzzed_mqtt_messages_are_each_stored_or_rejected_acknowledged_and_counted(service: Service):
    tag = uuid.uuid4().hex[:6]
    factory = Factory(tag)
    now = datetime.now(UTC)
    service.register(now - timedelta(days=1), {f"Fridge {tag}": factory.registered})
    with service.db.unit_of_work() as uow:
        equipment.create(uow, service.ctx(now), id=factory.autoclave, kind="autoclave", name=f"Autoclave {tag}")
        uow.commit()
    tally = Tally()
    sentinel = f"z{tag}"
    accounting = Accounting(service, tally, sentinel)
    sentinels = 0
    ingest = IngestProcess(service)
    watcher = Watcher(service.mqtt_url, service.instance)
    publisher = Publisher(service.mqtt_url)
    started = time.monotonic()
    samples: list[int] = []

    def drain() -> None:
        """Publish the next sentinel and wait until it is stored: everything before it is processed."""
        nonlocal sentinels
        sentinels += 1
        publisher.publish_all([(f"coldchain/{sentinel}/reading", sentinel_payload(sentinels))])
        wait_for(lambda: service.count(Reading, Reading.sensor_id == sentinel, Reading.seq == sentinels), 60,
                 f"sentinel {sentinels} to be stored", 0.02, details=ingest.log_tail)

    try:
        start_listening(ingest, watcher)
        assert ingest.proc is not None
        pid = ingest.proc.pid
        drain()  # retained messages of earlier tests (statuses) are in before the first mark
        baseline = memory_kib(pid)
        first = Marks.take(service)

        @FUZZ_SETTINGS
        @example(batch=headline_batch())
        @given(batch=batches())
        @keep_first_failure
        def one_batch(batch: list[Any]) -> None:
            marks = Marks.take(service)
            messages = [factory.message(recipe, datetime.now(UTC)) for recipe in batch]
            publisher.publish_all([(t, p) for t, p, _ in messages], chunk=50)
            drain()
            assert ingest.alive(), ingest.log_tail()
            accounting.check(messages, marks)
            samples.append(memory_kib(pid)["VmRSS"])

        one_batch()
        fuzzed = time.monotonic()
        totals = accounting.totals(first, sentinels)
        assert ingest.alive(), ingest.log_tail()
        final = memory_kib(pid)
        growth_mb = (final["VmRSS"] - baseline["VmRSS"]) / 1024

        # Nothing left unacknowledged: kill without any chance to flush (two seconds after the last commit,
        # time for its acknowledgements to be written), then resume the session.
        time.sleep(2.0)
        ingest.kill()
        probe = (f"coldchain/{sentinel}/reading", sentinel_payload(10**6))
        publisher.publish_all([probe])
        present, resumed = resume_session(service.mqtt_url, service.instance, probe)
        assert present, "the ingest's session was gone: the check below would prove nothing"
        assert resumed == [probe], f"redelivered after the ingest acknowledged: {[(t, p[:80]) for t, p in resumed]}"

        log = ingest.log_text()
        retried = re.findall(r"batch of \d+ failed.*", log)
        c = tally.counts
        categories = sorted((k.removeprefix("category: "), v) for k, v in c.items() if k.startswith("category: "))
        print(f"\nMQTT fuzz: {c['published']} messages in {len(samples)} batches ({fuzzed - started:.1f}s): "
              f"{c['reading messages']} reading messages stored ({c['readings']} readings, "
              f"{c['duplicate readings']} duplicates, {totals['stored rows']} rows), {c['statuses']} statuses, "
              f"{c['cycles']} cycles ({c['duplicate cycles']} duplicates), {c['rejected']} rejected; "
              f"{len(categories)} categories {categories}")
        half = samples[len(samples) // 2]
        print(f"ingest RSS: {baseline['VmRSS'] / 1024:.1f} MB at start, {half / 1024:.1f} MB half-way, "
              f"{final['VmRSS'] / 1024:.1f} MB at the end (growth {growth_mb:+.1f} MB, of which "
              f"{(final['VmRSS'] - half) / 1024:+.1f} MB in the second half; limit {MEMORY_LIMIT_MB} MB), peak VmHWM "
              f"{final['VmHWM'] / 1024:.1f} MB; nothing redelivered to the resumed session")
        assert growth_mb < MEMORY_LIMIT_MB
        assert retried == [], f"batches failed and were retried: {retried[:3]}"
    finally:
        ingest.stop()
        publisher.close()
        watcher.close()


# --------------------------------------------------------------------------------------------------
# The scanner test
# --------------------------------------------------------------------------------------------------

SCANNER_EXAMPLES = 60  # batches of 1-12 frames
# A frame without a suffix ends after this silence. The chunks of one frame are written a few ms apart; the
# gap is wide so that a writer held up on a loaded machine (300 ms was not enough) cannot split a frame.
IDLE_MS = 800
DEDUPE_MS = 60_000  # the longest re-read window: every repeat in this test falls inside it
PRINTABLE = re.compile(r"[\x21-\x7e\xa0-\xff]")  # a frame without one of these is noise (devices/serial/framing.py)
STATION = "fuzz-1"
GTINS = (ean13("460100000011"), ean13("460100000028"))
UNKNOWN_GTIN = ean13("460100000097")
HIBC = "H101GAUZE51"  # LIC H101, PCN GAUZE5, unit of measure 1
LOTS = ("L1", "L2", "LOT-A", "10X3", "Z" * 20, "L" * 21)
EXPIRIES = (date(2030, 6, 30), date(2027, 1, 31), date(2020, 1, 1), date.today() + timedelta(days=10))
TERMINATORS = (b"\r", b"\n", b"\r\n", b"\n\r", b"\r\r\n", b"\n\n")
COMMANDS = ("#MODE:RECEIVE", "#MODE:CONSUME", "#MODE:COUNT", "#MODE:TRANSFER", "#MODE:NOPE", "#QTY:0", "#QTY:1",
            "#QTY:3", "#QTY:-1", "#QTY:999999999", "#QTY:x", "#LOC:EX1", "#LOC:SR", "#LOC:NOPE", "#DONE", "#",
            "#mode:count", "#DONE#DONE", "#DONE", "#DONE", "#DONE", "#MODE:RECEIVE", "#MODE:RECEIVE")
NOT_PRINTABLE = bytes([*range(0x00, 0x0A), 0x0B, 0x0C, *range(0x0E, 0x21), *range(0x7F, 0xA0)])
AIMS = ("", "]C1", "]d2", "]Q3", "]e0", "]C0", "]d1", "]E0", "]Zz")


class Long:
    """A line of `n` times `fill` (kept short in hypothesis's report of a failing batch)."""

    __slots__ = ("fill", "n")

    def __init__(self, n: int, fill: bytes) -> None:
        self.n, self.fill = n, fill

    def __repr__(self) -> str:
        return f"Long({self.n}, {self.fill!r})"

    def bytes(self) -> bytes:
        return self.fill * self.n


def gtin8(payload7: str) -> str:
    return payload7 + gtin_check_digit(payload7)


def no_terminators(data: bytes) -> bytes:
    return data.replace(b"\r", b"").replace(b"\n", b"")


@st.composite
def gs1_frames(draw: st.DrawFn) -> bytes:
    """A GS1 element string for a known or unknown GTIN, then one real-world fault or breakage."""
    fault = draw(st.sampled_from(("",) * 10 + ("lose GS", "double GS", "leading GS", "trailing GS", "check digit",
                                             "cut", "month 13", "letter in GTIN")))
    gtin = draw(st.sampled_from((*GTINS, *GTINS, UNKNOWN_GTIN))).zfill(14)
    if fault == "check digit":
        gtin = gtin[:-1] + str((int(gtin[-1]) + 1) % 10)
    elif fault == "letter in GTIN":
        gtin = gtin[:5] + "O" + gtin[6:]
    pairs = [("01", gtin)]
    if draw(st.integers(0, 5)) > 0:
        pairs.append(("17", yymmdd(draw(st.sampled_from(EXPIRIES)))))
    if draw(st.integers(0, 5)) > 0:
        pairs.append(("10", draw(st.sampled_from(LOTS))))
    if draw(st.booleans()):
        pairs.append(("21", draw(st.text(st.characters(codec="ascii", categories=("L", "N")), min_size=1,
                                         max_size=22))))
    if draw(st.integers(0, 3)) == 3:
        pairs.append(("30", str(draw(st.integers(0, 10**9)))))
    text = element_string(*draw(st.permutations(pairs)))
    if fault == "lose GS":
        text = text.replace(GS, "")
    elif fault == "double GS":
        text = text.replace(GS, GS * 2)
    elif fault == "leading GS":
        text = GS + text
    elif fault == "trailing GS":
        text += GS
    elif fault == "cut":
        text = text[:draw(st.integers(0, len(text)))]
    elif fault == "month 13":
        text = re.sub(r"17(\d\d)\d\d", r"17\g<1>13", text, count=1)
    aim = draw(st.one_of(st.sampled_from(AIMS[:4]), st.sampled_from(AIMS[:4]), st.sampled_from(AIMS)))
    return (aim + text).encode("latin-1")


@st.composite
def hibc_frames(draw: st.DrawFn) -> bytes:
    code = draw(st.sampled_from((HIBC, "X999UNKNOWN0", "A123BJC5D6E71")))
    expiry = yymmdd(draw(st.sampled_from(EXPIRIES)))
    lot = draw(st.sampled_from(LOTS[:4]))
    secondary = draw(st.sampled_from(("", f"/$$3{expiry}{lot}", f"/${lot}", f"/$$7{lot}", f"/$$8050{lot}",
                                      f"/S{lot}", f"/16D20240101/$$3{expiry}{lot}")))
    data = f"+{code}{secondary}"
    check = hibc_check(data)
    if draw(st.integers(0, 3)) == 3:  # a wrong check character
        check = HIBC_CHARSET[(HIBC_CHARSET.index(check) + draw(st.integers(1, 42))) % 43]
    text = data + check
    if draw(st.integers(0, 4)) == 4:
        text = text.lower()
    return (draw(st.sampled_from(("", "", "]C0", "]A0"))) + text).encode("latin-1")


@st.composite
def other_labels(draw: st.DrawFn) -> bytes:
    """Plain GTINs (13, 14 and 8 digits, right or wrong check digit) and GS1 Digital Link URIs."""
    gtin = draw(st.sampled_from((*GTINS, UNKNOWN_GTIN)))
    kind = draw(st.sampled_from(("ean13", "gtin14", "gtin8", "bad check", "link")))
    if kind == "ean13":
        text = draw(st.sampled_from(("", "]E0"))) + gtin
    elif kind == "gtin14":
        text = gtin.zfill(14)
    elif kind == "gtin8":
        text = draw(st.sampled_from(("", "]E4"))) + gtin8("4601000")
    elif kind == "bad check":
        text = gtin[:-1] + str((int(gtin[-1]) + 1) % 10)
    else:
        scheme = draw(st.sampled_from(("https://id.gs1.org", "HTTPS://ID.GS1.ORG", "https://example.com/dl")))
        lot, expiry = draw(st.sampled_from(LOTS)), yymmdd(draw(st.sampled_from(EXPIRIES)))
        text = f"{scheme}/01/{gtin.zfill(14)}/10/{lot}?17={expiry}"
        text = draw(st.sampled_from(("", "]Q1", "]d1"))) + text
    return text.encode("latin-1")


FRAME_CONTENTS = st.one_of(
    gs1_frames(), gs1_frames(), gs1_frames(), gs1_frames(), gs1_frames(), hibc_frames(), hibc_frames(), other_labels(),
    *[st.sampled_from(COMMANDS).map(str.encode)] * 4,
    st.binary(max_size=120).map(no_terminators),
    st.text(st.characters(max_codepoint=0xFF, exclude_characters="\r\n"), max_size=60).map(
        lambda t: t.encode("latin-1")),
    st.builds(Long, st.sampled_from((4095, 4096, 4097, 6000, 12_000)), st.sampled_from((b"A", b"\x1d", b"\x00", b"0"))),
    st.lists(st.sampled_from(NOT_PRINTABLE), min_size=1, max_size=10).map(bytes),
    st.just(b""),  # a blank line: no frame
    st.just(None),  # the previous frame again: a presentation re-read
)


@dataclass(frozen=True)
class ScanBatch:
    """Frames (content, terminator) written as one stream cut at `cuts` (fractions), `pause_ms` apart;
    `split_crlf` also cuts after every CR; `idle_end` leaves the last frame without its terminator."""

    frames: tuple[tuple[bytes | Long | None, bytes], ...]
    cuts: tuple[float, ...]
    pause_ms: int
    split_crlf: bool
    idle_end: bool


SCAN_BATCHES = st.builds(
    ScanBatch, frames=st.lists(st.tuples(FRAME_CONTENTS, st.sampled_from(TERMINATORS)), min_size=1,
                               max_size=12).map(tuple),
    cuts=st.lists(st.floats(0, 1), max_size=8).map(tuple), pause_ms=st.sampled_from((0, 1, 3)),
    split_crlf=st.booleans(), idle_end=st.integers(0, 6).map(lambda n: n == 3))  # 1 in 7, not at an end of the range


def label(gtin: str, lot: str, expiry: date) -> bytes:
    return ("]d2" + element_string(("01", gtin.zfill(14)), ("17", yymmdd(expiry)), ("10", lot))).encode("latin-1")


def headline_frames() -> ScanBatch:
    """Every station mode with stock moving, re-reads, noise, an over-long line, CRLF split across
    writes, the last frame ended by the idle gap (the first, explicit example)."""
    good = date(2030, 6, 30)
    hibc = f"+{HIBC}/$$3{yymmdd(good)}10X3"
    frames = (
        (b"#MODE:RECEIVE", b"\r"), (label(GTINS[0], "L1", good), b"\r\n"), (None, b"\r\n"), (b"#QTY:3", b"\n"),
        (label(GTINS[1], "L2", good), b"\r"), ((hibc + hibc_check(hibc)).encode(), b"\r"),
        (label(GTINS[0], "OLD", date(2020, 1, 1)), b"\r"), (b"#MODE:CONSUME", b"\r\n"),
        (label(GTINS[0], "L1", good), b"\r"), (b"#MODE:TRANSFER", b"\r"), (b"#LOC:EX1", b"\r"),
        (label(GTINS[1], "L2", good), b"\r\n"), (b"#DONE", b"\r"), (b"#MODE:COUNT", b"\r"),
        (label(GTINS[1], "L2", good), b"\r"), (label(GTINS[0], "L1", good), b"\r"), (b"#DONE", b"\r"),
        (b"\x00\x00", b"\r"), (Long(5000, b"A"), b"\r\n"), (b"\xff\xfe\x1d", b"\n\r"), (b"#MODE:RECEIVE", b"\r"),
    )
    return ScanBatch(frames, cuts=(0.1, 0.5, 0.9), pause_ms=1, split_crlf=True, idle_end=True)


@dataclass
class FramingModel:
    """What the reader must make of the bytes (ARCHITECTURE §4 "Serial scanners"): a frame ends at CR or
    LF (CRLF is one end, since the LF then ends an empty frame, which is dropped) or at the idle gap;
    over MAX_FRAME bytes it is one `too_long` row cut to MAX_FRAME; without a printable character it
    is a `noise` row; the same text as the last frame accepted is a re-read, counted on that frame's
    row; anything else is one row for the station."""

    rows: list[tuple[str, str | None]] = field(default_factory=list)  # (escaped text, reader's reason)
    rereads: list[int] = field(default_factory=list)
    suppressed: int = 0
    last_text: str | None = None
    last_row: int | None = None

    def feed(self, content: bytes) -> None:
        if not content:
            return
        text = content.decode("latin-1")
        if len(content) > MAX_FRAME:
            self.rows.append((escape_raw(text[:MAX_FRAME]), "too_long"))
            self.rereads.append(0)
        elif not PRINTABLE.search(text):
            self.rows.append((escape_raw(text), "noise"))
            self.rereads.append(0)
        elif text == self.last_text:
            self.suppressed += 1
            assert self.last_row is not None
            self.rereads[self.last_row] += 1
        else:
            self.last_text, self.last_row = text, len(self.rows)
            self.rows.append((escape_raw(text), None))
            self.rereads.append(0)


def stream(batch: ScanBatch, model: FramingModel, previous: bytes) -> tuple[list[bytes], bytes]:
    """The batch's chunks to write, with the model fed; returns (chunks, the last content sent)."""
    data = bytearray()
    crs: list[int] = []
    for i, (content, terminator) in enumerate(batch.frames):
        body = previous if content is None else content.bytes() if isinstance(content, Long) else content
        previous = body
        model.feed(body)
        data += body
        if batch.idle_end and i == len(batch.frames) - 1:
            break
        for j, byte in enumerate(terminator):
            if byte == 0x0D and batch.split_crlf:
                crs.append(len(data) + j + 1)
        data += terminator
    cuts = sorted({0, len(data), *crs, *(int(c * len(data)) for c in batch.cuts)})
    return [bytes(data[a:b]) for a, b in itertools.pairwise(cuts) if b > a], previous


@pytest.mark.timeout(300)
def test_fuzzed_frames_on_a_pty_each_become_one_scan_or_a_counted_reread(db: Database, db_url: str, tmp_path: Path):
    now = datetime.now(UTC)
    ctx = Context(actor="fuzz-setup", source="cli", now=now, tz=ZoneInfo(SITE_TZ))
    with db.unit_of_work() as uow:
        catalog.create_location(uow, ctx, code="SR", name="Stockroom", kind="stockroom")
        catalog.create_location(uow, ctx, code="EX1", name="Exam room 1", kind="clinic_room")
        catalog.create_item(uow, ctx, name="Syringe 5 ml", gtins=[GTINS[0]])
        catalog.create_item(uow, ctx, name="Gloves M", gtins=[GTINS[1], gtin8("4601000")])
        catalog.create_item(uow, ctx, name="Gauze swab", hibc_codes=[HIBC])
        uow.commit()
    link = PtyLink(tmp_path / "usb-fuzz-scanner")
    link.open()
    consumer_db = consumer_database(db_url)
    config = ScannerConfig(id=STATION, url=link.path, location="SR", mode="receive", idle_ms=IDLE_MS,
                           dedupe_ms=DEDUPE_MS)
    ingest = ScannerIngest((config,), consumer_db, lambda: datetime.now(UTC), SITE_TZ)
    model = FramingModel()
    written = {"frames": 0, "bytes": 0, "writes": 0, "idle": 0}
    previous = b"#DONE"
    started = time.monotonic()
    rss_start = memory_kib(os.getpid())["VmRSS"]

    def scans(after: int = 0) -> list[tuple[Any, ...]]:
        with db.unit_of_work(write=False) as uow:
            return [tuple(r) for r in uow.session.execute(
                select(Scan.id, Scan.raw, Scan.outcome, Scan.reason, Scan.rereads, Scan.movement_ids, Scan.mode)
                .where(Scan.scanner_id == STATION, Scan.id > after).order_by(Scan.id))]

    seen: list[tuple[int, int]] = []

    def settled() -> bool:
        """True once the rows and the suppressed re-reads are as many as the model says."""
        with db.unit_of_work(write=False) as uow:
            rows = int(uow.session.scalar(select(func.count()).where(Scan.scanner_id == STATION)) or 0)
        seen.append((rows, ingest.readers[0].stats().suppressed))
        return seen[-1] == (len(model.rows), model.suppressed)

    def counts() -> str:
        tail = [(raw[:30], reason) for _, raw, _, reason, *_ in scans()[-12:]]
        return (f"(rows, re-reads) are {seen[-1]}, the model says {(len(model.rows), model.suppressed)}; the last rows "
                f"{tail}, the model's {[(raw[:30], reason) for raw, reason in model.rows[-12:]]}")

    try:
        ingest.start()
        wait_for(lambda: (s := ingest.status.get(STATION)) is not None and s.state is PortState.OPEN, 10,
                 "the station's port open")  # pyserial flushes input at open: write only after it
        reader = ingest.readers[0]

        @settings(FUZZ_SETTINGS, max_examples=SCANNER_EXAMPLES)
        @example(batch=headline_frames())
        @given(batch=SCAN_BATCHES)
        @keep_first_failure
        def one_batch(batch: ScanBatch) -> None:
            nonlocal previous
            before = len(model.rows)
            with db.unit_of_work(write=False) as uow:
                last_id = int(uow.session.scalar(select(func.coalesce(func.max(Scan.id), 0))) or 0)
            chunks, previous = stream(batch, model, previous)
            for chunk in chunks:
                link.write(chunk)
                if batch.pause_ms:
                    time.sleep(batch.pause_ms / 1000)
            written["frames"] += sum(1 for c, _ in batch.frames if c != b"")
            written["bytes"] += sum(map(len, chunks))
            written["writes"] += len(chunks)
            written["idle"] += batch.idle_end
            if batch.idle_end and len(previous) > MAX_FRAME:
                # Its row is written when the cap is reached; the rest is discarded until the silence
                # that ends the frame, which must pass before the next batch (its bytes would be discarded).
                time.sleep(IDLE_MS / 1000 + 0.2)
            wait_for(settled, 30, "every frame recorded, or counted as a re-read", details=counts)
            assert reader.is_alive()
            rows = scans(last_id)
            assert [(raw, reason if reason in READER_REJECTIONS else None) for _, raw, _, reason, *_ in rows] == \
                model.rows[before:]
            wrong = [(raw[:60], outcome, reason) for _, raw, outcome, reason, *_ in rows
                     if outcome not in OUTCOMES or (outcome in ("rejected", "pending")) != bool(reason)]
            assert wrong == [], "rejected or pending without a reason, or applied or a command with one"

        one_batch()
        fuzzed = time.monotonic()
        model.feed(f"END-{uuid.uuid4().hex[:8]}".encode())  # reports the last frame's re-reads
        link.write(model.rows[-1][0].encode() + b"\r")
        wait_for(settled, 30, "the last frame recorded", details=counts)
        rows = scans()
        assert [r[4] for r in rows] == model.rereads, "re-reads counted on other rows than the ones they repeat"
        stats = reader.stats()
        accepted = sum(1 for _, reason in model.rows if reason is None)
        assert reader.is_alive()
        assert (stats.frames, stats.rejected, stats.suppressed, stats.callback_errors, stats.errors, stats.reopens) == \
            (accepted, len(model.rows) - accepted, model.suppressed, 0, 0, 0)

        with db.unit_of_work(write=False) as uow:
            assert ledger.verify(uow) is None
            balances = {(lot, loc): q for lot, loc, q in uow.session.execute(
                select(Balance.lot_id, Balance.location_id, Balance.quantity))}
            sums = {(lot, loc): int(q) for lot, loc, q in uow.session.execute(
                select(Movement.lot_id, Movement.location_id, func.sum(Movement.quantity))
                .group_by(Movement.lot_id, Movement.location_id))}
            movement_ids = set(uow.session.scalars(select(Movement.id)))
        assert min(balances.values(), default=0) >= 0
        assert {k: v for k, v in balances.items() if v or k in sums} == sums
        listed = Counter(m for r in rows for m in r[5])
        assert [m for m, n in listed.items() if n > 1] == [], "a movement listed by two scans"
        assert set(listed) == movement_ids, "movements that no scan lists, or scans listing unknown movements"

        outcomes = Counter(r[2] if r[3] is None or r[2] != "rejected" else f"rejected {r[3]}" for r in rows)
        applied = Counter(r[6] for r in rows if r[2] == "applied")
        rss_end = memory_kib(os.getpid())["VmRSS"]
        print(f"\nscanner fuzz: {written['frames']} frames ({written['bytes']} bytes in {written['writes']} writes) "
              f"in {SCANNER_EXAMPLES} batches, {written['idle']} ended by the idle gap ({fuzzed - started:.1f}s): "
              f"{len(rows)} scans, {model.suppressed} re-reads, {len(movement_ids)} movements; outcomes "
              f"{sorted(outcomes.items())}, applied by mode {sorted(applied.items())}; test process RSS "
              f"{rss_start / 1024:.1f} -> {rss_end / 1024:.1f} MB")
    finally:
        ingest.stop()
        link.close()
        consumer_db.dispose()
