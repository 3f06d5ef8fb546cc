"""The daily min/max log per storage unit (CDC: check and record min/max at the start of each
workday; records kept 3 years), computed from the timeline for one site-local day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from .alarms import day_bounds
from .ranges import Direction, Range
from .timeline import Segment, clip


@dataclass(frozen=True)
class DaySummary:
    day: date
    min_c: float | None
    max_c: float | None
    mean_c: float | None  # time-weighted
    minutes_high: float
    minutes_low: float
    minutes_no_data: float  # time without readings, up to `now` for today


def summarise(day: date, segs: list[Segment], unit: Range, tz: ZoneInfo, now: datetime) -> DaySummary:
    """Summary of `day`. Time of the day not covered by any reading counts as no data (also before
    the first reading), and the future part of today counts as nothing."""
    start, end = day_bounds(day, tz)
    end = min(end, now)
    if end <= start:
        return DaySummary(day, None, None, None, 0, 0, 0)
    inside = clip(segs, start, end)
    data = [s for s in inside if s.temp_c is not None]
    covered = sum(s.minutes for s in data)
    total = (end - start).total_seconds() / 60
    temps = [s.temp_c for s in data if s.temp_c is not None]
    high = sum(s.minutes for s in data if s.temp_c is not None and unit.classify(s.temp_c) is Direction.HIGH)
    low = sum(s.minutes for s in data if s.temp_c is not None and unit.classify(s.temp_c) is Direction.LOW)
    mean = sum(s.minutes * (s.temp_c or 0) for s in data) / covered if covered else None
    return DaySummary(day, min(temps) if temps else None, max(temps) if temps else None,
                      round(mean, 2) if mean is not None else None, round(high, 1), round(low, 1),
                      round(total - covered, 1))
