"""Storage ranges and default alarm rules per kind of storage unit.

CDC Vaccine Storage and Handling Toolkit (2024): refrigerator 2.0-8.0 °C, freezer -50.0 to -15.0 °C;
ultra-cold -80.0 to -60.0 °C (product specific: take it from the package insert). Bounds are in range:
8.0 °C is fine, 8.1 °C is high.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Direction(StrEnum):
    HIGH = "high"
    LOW = "low"


class RuleMode(StrEnum):
    CONSECUTIVE = "consecutive"
    CUMULATIVE = "cumulative"


@dataclass(frozen=True)
class Range:
    min_c: float
    max_c: float

    def classify(self, temp_c: float) -> Direction | None:
        """High above max, low below min, None in range (both bounds inclusive)."""
        if temp_c > self.max_c:
            return Direction.HIGH
        if temp_c < self.min_c:
            return Direction.LOW
        return None


@dataclass(frozen=True)
class AlarmRule:
    """`kind` high/low; `mode` consecutive (one run reaches `delay_min`) or cumulative (out-of-range
    minutes within one site-local day reach `delay_min`). `threshold_c` replaces the unit's bound;
    `inclusive` makes the threshold itself a breach (WHO PQS E006: freeze alarm at or below -0.5 °C)."""

    kind: Direction
    mode: RuleMode
    delay_min: float
    threshold_c: float | None = None
    inclusive: bool = False

    def breached(self, temp_c: float, unit: Range) -> bool:
        if self.kind is Direction.HIGH:
            limit = unit.max_c if self.threshold_c is None else self.threshold_c
            return temp_c >= limit if self.inclusive else temp_c > limit
        limit = unit.min_c if self.threshold_c is None else self.threshold_c
        return temp_c <= limit if self.inclusive else temp_c < limit

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind.value, "mode": self.mode.value, "delay_min": self.delay_min,
                "threshold_c": self.threshold_c, "inclusive": self.inclusive}

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> AlarmRule:
        threshold = d.get("threshold_c")
        return cls(Direction(str(d["kind"])), RuleMode(str(d["mode"])), float(str(d["delay_min"])),
                   None if threshold is None else float(str(threshold)), bool(d.get("inclusive", False)))


def nothing_breached(unit: Range, rules: Iterable[AlarmRule], lowest: float, highest: float) -> bool:
    """Whether temperatures all within [lowest, highest] can make no excursion and trip no alarm
    rule of the unit. `classify` and `breached` only ever grow with distance from the range, so the
    extremes decide: the evaluation of a quiet window (most of a steady stream) needs no timeline."""
    if lowest < unit.min_c or highest > unit.max_c:
        return False
    return not any(r.breached(highest if r.kind is Direction.HIGH else lowest, unit) for r in rules)


DEFAULT_RANGES = {
    "refrigerator": Range(2.0, 8.0),
    "freezer": Range(-50.0, -15.0),
    "ultra_cold": Range(-80.0, -60.0),
    "room": Range(15.0, 25.0),  # USP controlled room temperature 20-25 °C, excursions 15-30 °C allowed
}

#: Default rules: high for 30 consecutive minutes, low for 15 (freezing harms most refrigerated vaccines).
DEFAULT_RULES = (
    AlarmRule(Direction.HIGH, RuleMode.CONSECUTIVE, 30),
    AlarmRule(Direction.LOW, RuleMode.CONSECUTIVE, 15),
)
DEFAULT_NO_DATA_MIN = 60

#: WHO PQS E006 30-day temperature recorder factory settings (e.g. Berlinger Fridge-tag 2).
WHO_30_DAY_RECORDER = (
    AlarmRule(Direction.HIGH, RuleMode.CONSECUTIVE, 600, threshold_c=8.0),
    AlarmRule(Direction.LOW, RuleMode.CONSECUTIVE, 60, threshold_c=-0.5, inclusive=True),
)
PRESETS = {"default": DEFAULT_RULES, "who_30_day_recorder": WHO_30_DAY_RECORDER}
