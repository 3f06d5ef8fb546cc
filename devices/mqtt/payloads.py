"""Validation of `coldchain/<sensor_id>/reading` and `.../status` payloads.

Contract (ARCHITECTURE §4): a JSON object `{"seq": int, "ts": RFC 3339 with zone, "temp_c": float}` with
optional `battery_pct` and `door_open`, or a JSON array of such objects (backfill after an outage,
oldest first). Anything else raises PayloadError with a reason a person can act on; the caller
stores the payload as rejected. Timestamps must carry a zone: a logger's local time without an
offset cannot be placed in time.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MAX_BATCH = 10_000  # a logger's buffer (DDL requirement: at least 4,000 readings) fits
TEMP_LIMITS = (-150.0, 150.0)  # beyond any vaccine store: a sensor fault, not a temperature
KNOWN_FIELDS = frozenset({"seq", "ts", "temp_c", "battery_pct", "door_open"})
_TEMP_LO, _TEMP_HI = TEMP_LIMITS
_SEQ_END = 2**63  # seq and cycle are stored as signed 64-bit integers
# Control characters, and lone surrogates (a JSON "\ud800" escape decodes to one): no database column
# takes a NUL (PostgreSQL) or a surrogate (not UTF-8), so a text field holding them is refused here.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


class PayloadError(ValueError):
    """The payload breaks the contract; `str(exc)` is the reason stored with it."""


class TemperatureReading(NamedTuple):
    """One validated reading. A NamedTuple rather than a frozen dataclass: as immutable, and several
    times cheaper to build (the ingest builds one per reading)."""

    sensor_id: str
    seq: int
    ts: datetime
    temp_c: float
    battery_pct: float | None = None
    door_open: bool | None = None


def topic_device(topic: str, prefix: str, suffix: str) -> str:
    """The device id in `<prefix>/<id>/<suffix>` (ids are `[A-Za-z0-9._-]{1,64}`)."""
    parts = topic.split("/")
    if len(parts) != 3 or parts[0] != prefix or parts[2] != suffix or not ID.match(parts[1]):
        raise PayloadError(f"topic {topic!r} is not {prefix}/<id>/{suffix} with an id of [A-Za-z0-9._-]{{1,64}}")
    return parts[1]


@functools.lru_cache(maxsize=4096)
def _reading_sensor(topic: str) -> str:
    """`topic_device` of a reading topic, remembered per topic string: a sensor sends every reading
    on the same topic. Only valid topics are remembered (lru_cache keeps no exceptions), and the
    bound keeps a stream of made-up topics from growing it."""
    return topic_device(topic, "coldchain", "reading")


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(f"{name} must be a finite number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:
        raise PayloadError(f"{name} must be a finite number, got an integer too large for a float") from None
    if not math.isfinite(number):
        raise PayloadError(f"{name} must be a finite number, got {value!r}")
    return number


def _where(index: int | None) -> str:
    """The prefix of a reason about one item of an array (built only when there is a reason)."""
    return f"item {index}: " if index is not None else ""


def _timestamp(ts_raw: str, index: int | None) -> datetime:
    """An RFC 3339 timestamp with a zone, as an aware datetime that also exists in UTC."""
    # fromisoformat (3.11) takes an upper-case "Z" as UTC; RFC 3339 also allows "z", and a stamp
    # with either goes through the replacement as before. Most loggers send "+00:00" or an offset,
    # and then the string is parsed as it is.
    text = ts_raw.replace("z", "Z").replace("Z", "+00:00") if "z" in ts_raw or "Z" in ts_raw else ts_raw
    try:
        ts = datetime.fromisoformat(text)
    except ValueError as exc:
        raise PayloadError(f"{_where(index)}ts {ts_raw!r} is not RFC 3339") from exc
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise PayloadError(f"{_where(index)}ts {ts_raw!r} has no time zone offset")
    # Only a stamp on the first or the last representable day can leave datetime's range in UTC
    # (an offset is under 24 hours): the conversion is tried only there.
    if ts.year == 1 or ts.year == 9999:
        try:
            ts.astimezone(UTC)
        except OverflowError:
            raise PayloadError(f"{_where(index)}ts {ts_raw!r} is out of range in UTC") from None
    return ts


def _one(sensor_id: str, obj: object, index: int | None) -> TemperatureReading:
    """One reading object. The checks (and so the reason given) keep this order: object, unknown
    fields, seq, ts, temp_c, battery_pct, door_open. Plain in-range values take a short path; anything
    else goes through the general checks, which word the reason."""
    if not isinstance(obj, dict):
        raise PayloadError(f"{_where(index)}expected a JSON object, got {type(obj).__name__}")
    if not KNOWN_FIELDS.issuperset(obj):
        raise PayloadError(f"{_where(index)}unknown field(s) {', '.join(sorted(set(obj) - KNOWN_FIELDS))}")
    seq = obj.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq < _SEQ_END:
        raise PayloadError(f"{_where(index)}seq must be a non-negative integer, got {seq!r}")
    ts_raw = obj.get("ts")
    if not isinstance(ts_raw, str):
        raise PayloadError(f"{_where(index)}ts must be an RFC 3339 string, got {ts_raw!r}")
    ts = _timestamp(ts_raw, index)
    temp = obj.get("temp_c")
    if type(temp) is not float or not _TEMP_LO <= temp <= _TEMP_HI:  # NaN fails the comparison too
        temp = _number(temp, f"{_where(index)}temp_c")
        if not _TEMP_LO <= temp <= _TEMP_HI:
            raise PayloadError(f"{_where(index)}temp_c {temp} is outside {_TEMP_LO}..{_TEMP_HI} °C (sensor fault?)")
    battery = obj.get("battery_pct")
    if battery is not None:
        kind = type(battery)
        if (kind is int or kind is float) and 0 <= battery <= 100:  # bool is not int here; NaN fails
            battery = float(battery)
        else:
            battery = _number(battery, f"{_where(index)}battery_pct")
            if not 0 <= battery <= 100:
                raise PayloadError(f"{_where(index)}battery_pct must be 0..100, got {battery}")
    door = obj.get("door_open")
    if door is not None and door is not True and door is not False:
        raise PayloadError(f"{_where(index)}door_open must be true or false, got {door!r}")
    return TemperatureReading(sensor_id, seq, ts, temp, battery, door)


def parse_reading_payload(topic: str, payload: bytes, *, now: datetime,
                          max_future: timedelta = timedelta(minutes=10)) -> list[TemperatureReading]:
    """All readings of one message, or PayloadError. A reading stamped more than `max_future`
    ahead of `now` is refused (a logger clock gone wrong would otherwise hide real data)."""
    sensor_id = _reading_sensor(topic)
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:  # ValueError: also an int over sys.get_int_max_str_digits()
        raise PayloadError(f"not UTF-8 JSON: {exc}") from exc
    except RecursionError:
        raise PayloadError("not UTF-8 JSON: nested too deeply") from None
    if isinstance(data, list):
        if not data:
            raise PayloadError("empty array")
        if len(data) > MAX_BATCH:
            raise PayloadError(f"array of {len(data)} readings is over the limit of {MAX_BATCH}")
        readings = [_one(sensor_id, item, i) for i, item in enumerate(data)]
    else:
        readings = [_one(sensor_id, data, None)]
    for r in readings:
        if r.ts - now > max_future:
            raise PayloadError(f"ts {r.ts.isoformat()} is in the future (device clock wrong?)")
    return readings


def parse_status_payload(topic: str, payload: bytes) -> tuple[str, str]:
    """(sensor_id, "online" | "offline") from `coldchain/<id>/status`."""
    sensor_id = topic_device(topic, "coldchain", "status")
    text = payload.decode("utf-8", errors="replace").strip().lower()
    if text not in ("online", "offline"):
        raise PayloadError(f"status must be online or offline, got {text[:40]!r}")
    return sensor_id, text


@dataclass(frozen=True)
class EquipmentCycle:
    device_id: str
    seq: int
    ts: datetime
    cycle: int
    program: str
    result: str
    max_temp_c: float
    hold_min: float


CYCLE_FIELDS = {"seq", "ts", "cycle", "program", "result", "max_temp_c", "hold_min"}


def parse_cycle_payload(topic: str, payload: bytes, *, now: datetime,
                        max_future: timedelta = timedelta(minutes=10)) -> EquipmentCycle:
    """`equipment/<device_id>/cycle`: `{"seq", "ts", "cycle" (lifetime counter), "program",
    "result": "pass"|"fail", "max_temp_c", "hold_min"}` (ARCHITECTURE §4)."""
    device_id = topic_device(topic, "equipment", "cycle")
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:  # ValueError: also an int over sys.get_int_max_str_digits()
        raise PayloadError(f"not UTF-8 JSON: {exc}") from exc
    except RecursionError:
        raise PayloadError("not UTF-8 JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise PayloadError("expected a JSON object")
    if set(data) != CYCLE_FIELDS:
        missing, extra = CYCLE_FIELDS - set(data), set(data) - CYCLE_FIELDS
        raise PayloadError(f"fields: missing {sorted(missing)}, unknown {sorted(extra)}")
    reading = _one(device_id, {"seq": data["seq"], "ts": data["ts"], "temp_c": 0.0}, None)
    cycle = data["cycle"]
    if isinstance(cycle, bool) or not isinstance(cycle, int) or not 0 <= cycle < _SEQ_END:
        raise PayloadError(f"cycle must be a non-negative integer below 2**63, got {cycle!r}")
    program = data["program"]
    if not isinstance(program, str) or not 1 <= len(program) <= 64 or _CONTROL.search(program):
        raise PayloadError("program must be a string of 1-64 characters, without control characters")
    if data["result"] not in ("pass", "fail"):
        raise PayloadError(f"result must be pass or fail, got {data['result']!r}")
    if reading.ts - now > max_future:
        raise PayloadError(f"ts {reading.ts.isoformat()} is in the future (device clock wrong?)")
    return EquipmentCycle(device_id, reading.seq, reading.ts, cycle, program, data["result"],
                          _number(data["max_temp_c"], "max_temp_c"), _number(data["hold_min"], "hold_min"))
