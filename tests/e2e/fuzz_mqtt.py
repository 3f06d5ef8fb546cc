"""What the MQTT fuzz test (test_device_fuzz.py) sends, and what must become of each message.

Hypothesis draws recipes (the dataclasses below: small, so a failing batch reads well); `Factory`
turns them into (topic, payload, Outcome) with fresh sequence numbers, this run's sensor ids and
timestamps relative to now. Whether a message meets the contract (ARCHITECTURE §4, README "Wiring a
real logger", README "Equipment") is judged here from the values drawn, independently of
devices.mqtt: the rules are restated in `Factory.reading_obj` and `Factory.cycle_message`.
"""

from __future__ import annotations

import functools
import json
import math
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

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
