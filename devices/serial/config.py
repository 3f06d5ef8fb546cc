"""Scanner definitions (ARCHITECTURE §4: `INVENTORY_SCANNERS`, a JSON list or a path to a file holding one).

Every field is checked when a `ScannerConfig` is built, so a bad definition is found at start-up with
a message naming the scanner and the field, never later inside a reader thread.

`read_scanner_definitions` reads the list entry by entry and never raises: one bad entry must not stop
the other stations (nor the cold-chain ingest beside them), so it comes back as a `DefinitionProblem`
for the service to report. `scanners_from_json` is the all-or-nothing form (ValueError on any problem).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

MODES = ("receive", "consume", "count", "transfer")
PARITIES = ("N", "E", "O", "M", "S")
BYTESIZES = (5, 6, 7, 8)
STOPBITS = (1, 1.5, 2)
_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_REQUIRED = ("id", "url", "location")
#: Longer than any device path or URL a clinic uses; the service stores urls of up to 300 characters.
MAX_URL = 300
#: What problems about the variable as a whole (not one entry) are keyed by.
VARIABLE = "INVENTORY_SCANNERS"


class DefinitionError(ValueError):
    """A scanner definition that cannot be used. `str()` names the scanner; `reason` is the bare
    explanation (the caller already knows which entry it read)."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"scanner {name!r}: {reason}" if name else reason)
        self.reason = reason


@dataclass(frozen=True, kw_only=True)
class ScannerConfig:
    """One scanner bound to a station: a location plus its mode at start-up (#MODE cards change it).

    `url` is anything `serial.serial_for_url` opens: a device path (prefer `/dev/serial/by-id/...`, which
    survives re-enumeration), `hwgrep://VID:PID`, a pty path, `socket://host:port`, `loop://`.
    `idle_ms` frames scanners without a suffix (0: terminators only); `dedupe_ms` is the re-read
    suppression window (0: off).
    """

    id: str
    url: str
    location: str
    mode: str = "receive"
    baudrate: int = 9600
    parity: str = "N"
    bytesize: int = 8
    stopbits: float = 1
    idle_ms: int = 50
    dedupe_ms: int = 1000

    def __post_init__(self) -> None:
        name = (self.id if isinstance(self.id, str) else repr(self.id))[:64]

        def fail(message: str) -> ValueError:
            return DefinitionError(name, message)

        if not isinstance(self.id, str) or not _ID.fullmatch(self.id):
            raise fail("id must be 1-64 characters of A-Z a-z 0-9 . _ -")
        for key in ("url", "location"):
            value = getattr(self, key)
            if not isinstance(value, str) or not value.strip():
                raise fail(f"{key} must be a non-empty string, got {_short(value)}")
        if len(self.url) > MAX_URL:
            raise fail(f"url must be at most {MAX_URL} characters, got {len(self.url)}")
        mode = self.mode.lower() if isinstance(self.mode, str) else self.mode
        if mode not in MODES:
            raise fail(f"mode must be one of {', '.join(MODES)}, got {_short(self.mode)}")
        parity = self.parity.upper() if isinstance(self.parity, str) else self.parity
        if parity not in PARITIES:
            raise fail(f"parity must be one of {', '.join(PARITIES)}, got {_short(self.parity)}")
        if not _is_int(self.baudrate) or self.baudrate <= 0:
            raise fail(f"baudrate must be a positive integer, got {_short(self.baudrate)}")
        if not _is_int(self.bytesize) or self.bytesize not in BYTESIZES:
            raise fail(f"bytesize must be one of 5, 6, 7, 8, got {_short(self.bytesize)}")
        if isinstance(self.stopbits, bool) or self.stopbits not in STOPBITS:
            raise fail(f"stopbits must be 1, 1.5 or 2, got {_short(self.stopbits)}")
        for key, upper in (("idle_ms", 10_000), ("dedupe_ms", 60_000)):
            value = getattr(self, key)
            if not _is_int(value) or not 0 <= value <= upper:
                raise fail(f"{key} must be an integer from 0 to {upper}, got {_short(value)}")
        object.__setattr__(self, "mode", mode)
        object.__setattr__(self, "parity", parity)
        if self.stopbits != 1.5:
            object.__setattr__(self, "stopbits", int(self.stopbits))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScannerConfig:
        """Build from one decoded JSON object; unknown keys (typos such as "baud") are errors."""
        if not isinstance(data, Mapping):
            raise DefinitionError("", f"a scanner definition must be an object, got {type(data).__name__}")
        name = str(data.get("id", "?"))[:64]
        known = {f.name for f in fields(cls)}
        unknown = sorted(map(str, set(data) - known))
        if unknown:
            raise DefinitionError(name, f"unknown field(s) {', '.join(key[:40] for key in unknown[:10])}")
        missing = [key for key in _REQUIRED if key not in data]
        if missing:
            raise DefinitionError(name, f"missing field(s) {', '.join(missing)}")
        return cls(**data)


@dataclass(frozen=True)
class DefinitionProblem:
    """Why a scanner definition, or the whole variable, cannot be used.

    `key` names it for people: the station's id when the entry has a valid one, else
    `INVENTORY_SCANNERS[<index>]`, or `INVENTORY_SCANNERS` for the variable as a whole (unreadable
    file, invalid JSON, not a list: then no station is usable). `scanner_id` is the valid id or None;
    `url` the entry's url when it is a string the service can store, else "" (so a new station can
    be listed before it is fixed).
    """

    key: str
    reason: str
    scanner_id: str | None = None
    url: str = ""


@dataclass(frozen=True)
class ScannerDefinitions:
    """`INVENTORY_SCANNERS` as read: the usable definitions, in order, and the problems found."""

    configs: tuple[ScannerConfig, ...] = ()
    problems: tuple[DefinitionProblem, ...] = ()

    @property
    def list_read(self) -> bool:
        """False when the variable as a whole could not be read (so nothing is known of its entries)."""
        return not any(p.key == VARIABLE for p in self.problems)


def read_scanner_definitions(raw: str) -> ScannerDefinitions:
    """Parse `INVENTORY_SCANNERS` (empty: no scanners; a JSON list; or a path to a file holding one)
    entry by entry; never raises.

    A usable entry becomes a `ScannerConfig`; any other a `DefinitionProblem`. Ids and urls must be
    unique (two readers cannot share a port, and one station cannot have two ports): every entry
    sharing an id is refused with one problem for that id, and every station sharing a url with
    another is refused, since which of them is meant cannot be known.
    """
    if not raw.strip():
        return ScannerDefinitions()
    try:
        text = raw if raw.lstrip().startswith("[") else Path(raw).read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        return _whole(f"cannot read {raw[:200]!r}: {exc}")
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        return _whole(f"invalid JSON: {exc}")
    except RecursionError:
        return _whole("invalid JSON: nested too deeply")
    if not isinstance(items, list):
        return _whole("expected a JSON list of scanner objects")
    return _entries(items)


def _whole(reason: str) -> ScannerDefinitions:
    return ScannerDefinitions(problems=(DefinitionProblem(VARIABLE, f"{reason}; no scanner is started"),))


def _entries(items: list[Any]) -> ScannerDefinitions:
    # (index, valid id or None, config or None, reason or None) for every entry, in order
    read: list[tuple[int, str | None, ScannerConfig | None, str | None]] = []
    for index, item in enumerate(items):
        try:
            config = ScannerConfig.from_dict(item)
        except DefinitionError as exc:
            read.append((index, _valid_id(item), None, exc.reason))
        except (ValueError, TypeError) as exc:
            read.append((index, _valid_id(item), None, str(exc)))
        else:
            read.append((index, config.id, config, None))
    by_id: dict[str, list[int]] = {}
    for index, scanner_id, _, _ in read:
        if scanner_id is not None:
            by_id.setdefault(scanner_id, []).append(index)
    by_url: dict[str, list[str]] = {}
    for _, _, config, _ in read:
        if config is not None and len(by_id[config.id]) == 1:
            by_url.setdefault(config.url, []).append(config.id)
    problems: list[DefinitionProblem] = []
    configs: list[ScannerConfig] = []
    for index, scanner_id, config, reason in read:
        url = _storable_url(items[index])
        if scanner_id is None:
            problems.append(DefinitionProblem(f"{VARIABLE}[{index}]", reason or "", None, url))
            continue
        entries = by_id[scanner_id]
        if len(entries) > 1:
            if index == entries[0]:
                where = ", ".join(f"{VARIABLE}[{i}]" for i in entries)
                problems.append(DefinitionProblem(scanner_id, f"duplicate id: defined {len(entries)} times ({where})",
                                                  scanner_id, url))
            continue
        if config is None:
            problems.append(DefinitionProblem(scanner_id, reason or "", scanner_id, url))
            continue
        others = [other for other in by_url[config.url] if other != config.id]
        if others:
            problems.append(DefinitionProblem(
                scanner_id, f"duplicate url: {config.url} is also the port of {', '.join(map(repr, others))} "
                            "(one port, one station)", scanner_id, url))
            continue
        configs.append(config)
    return ScannerDefinitions(tuple(configs), tuple(problems))


def _valid_id(item: Any) -> str | None:
    value = item.get("id") if isinstance(item, Mapping) else None
    return value if isinstance(value, str) and _ID.fullmatch(value) else None


def _storable_url(item: Any) -> str:
    value = item.get("url") if isinstance(item, Mapping) else None
    return value if isinstance(value, str) and len(value) <= MAX_URL else ""


def _short(value: object) -> str:
    """`repr(value)` cut to a readable length: a reason is shown to people and stored."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def scanners_from_json(raw: str) -> tuple[ScannerConfig, ...]:
    """`INVENTORY_SCANNERS` all or nothing: the definitions, or ValueError naming every problem
    (see read_scanner_definitions)."""
    definitions = read_scanner_definitions(raw)
    if definitions.problems:
        raise ValueError("; ".join(_described(p) for p in definitions.problems))
    return definitions.configs


def _described(problem: DefinitionProblem) -> str:
    if problem.scanner_id is None:
        return f"{problem.key}: {problem.reason}"
    return f"{VARIABLE}: scanner {problem.key!r}: {problem.reason}"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
