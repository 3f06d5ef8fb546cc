"""Scanner definitions (ARCHITECTURE §4: `INVENTORY_SCANNERS`, a JSON list or a path to a file holding one).

Every field is checked when a `ScannerConfig` is built, so a bad definition fails at start-up with a
`ValueError` naming the scanner and the field, never later inside a reader thread.
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
        name = self.id if isinstance(self.id, str) else repr(self.id)

        def fail(message: str) -> ValueError:
            return ValueError(f"scanner {name!r}: {message}")

        if not isinstance(self.id, str) or not _ID.fullmatch(self.id):
            raise fail("id must be 1-64 characters of A-Z a-z 0-9 . _ -")
        for key in ("url", "location"):
            value = getattr(self, key)
            if not isinstance(value, str) or not value.strip():
                raise fail(f"{key} must be a non-empty string, got {value!r}")
        mode = self.mode.lower() if isinstance(self.mode, str) else self.mode
        if mode not in MODES:
            raise fail(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        parity = self.parity.upper() if isinstance(self.parity, str) else self.parity
        if parity not in PARITIES:
            raise fail(f"parity must be one of {', '.join(PARITIES)}, got {self.parity!r}")
        if not _is_int(self.baudrate) or self.baudrate <= 0:
            raise fail(f"baudrate must be a positive integer, got {self.baudrate!r}")
        if not _is_int(self.bytesize) or self.bytesize not in BYTESIZES:
            raise fail(f"bytesize must be one of 5, 6, 7, 8, got {self.bytesize!r}")
        if isinstance(self.stopbits, bool) or self.stopbits not in STOPBITS:
            raise fail(f"stopbits must be 1, 1.5 or 2, got {self.stopbits!r}")
        for key, upper in (("idle_ms", 10_000), ("dedupe_ms", 60_000)):
            value = getattr(self, key)
            if not _is_int(value) or not 0 <= value <= upper:
                raise fail(f"{key} must be an integer from 0 to {upper}, got {value!r}")
        object.__setattr__(self, "mode", mode)
        object.__setattr__(self, "parity", parity)
        if self.stopbits != 1.5:
            object.__setattr__(self, "stopbits", int(self.stopbits))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScannerConfig:
        """Build from one decoded JSON object; unknown keys (typos such as "baud") are errors."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a scanner definition must be an object, got {type(data).__name__}")
        name = data.get("id", "?")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"scanner {name!r}: unknown field(s) {', '.join(map(str, unknown))}")
        missing = [key for key in _REQUIRED if key not in data]
        if missing:
            raise ValueError(f"scanner {name!r}: missing field(s) {', '.join(missing)}")
        return cls(**data)


def scanners_from_json(raw: str) -> tuple[ScannerConfig, ...]:
    """Parse `INVENTORY_SCANNERS`: empty (no scanners), a JSON list, or a path to a file holding one.
    Ids and urls must be unique (two readers cannot share a port)."""
    if not raw.strip():
        return ()
    try:
        text = raw if raw.lstrip().startswith("[") else Path(raw).read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"INVENTORY_SCANNERS: cannot read {raw!r}: {exc}") from exc
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"INVENTORY_SCANNERS: invalid JSON: {exc}") from exc
    if not isinstance(items, list):
        raise ValueError("INVENTORY_SCANNERS: expected a JSON list of scanner objects")
    configs = []
    for index, item in enumerate(items):
        try:
            configs.append(ScannerConfig.from_dict(item))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"INVENTORY_SCANNERS[{index}]: {exc}") from exc
    for key in ("id", "url"):
        values = [getattr(c, key) for c in configs]
        duplicates = sorted({v for v in values if values.count(v) > 1})
        if duplicates:
            raise ValueError(f"INVENTORY_SCANNERS: duplicate {key}(s) {', '.join(duplicates)}")
    return tuple(configs)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
