"""The daily min/max log per storage unit (CDC: check and record min/max at the start of each
workday; records kept 3 years), computed from the timeline for one site-local day.

Minutes high and low are the time the day's out-of-range readings stand for, counted in tenths of a
minute on the timeline's grid, the same count as an excursion's duration: a day's minutes high are
the sum of its high excursions' durations, and an excursion across midnight gives each day its part,
the parts summing to its duration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from .alarms import day_bounds
from .ranges import Direction, Range
from .timeline import Segment, clip, step


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
    covered = sum(s.minutes for s in data)  # exact, for the time-weighted mean
    temps = [s.temp_c for s in data if s.temp_c is not None]
    # Tenths of a minute by classification (high, low, in range), on the timeline's grid.
    steps: dict[Direction | None, int] = {Direction.HIGH: 0, Direction.LOW: 0, None: 0}
    for s in data:
        if s.temp_c is not None:
            steps[unit.classify(s.temp_c)] += s.steps
    no_data = step(end) - step(start) - sum(steps.values())
    mean = sum(s.minutes * (s.temp_c or 0) for s in data) / covered if covered else None
    return DaySummary(day, min(temps) if temps else None, max(temps) if temps else None,
                      round(mean, 2) if mean is not None else None, steps[Direction.HIGH] / 10,
                      steps[Direction.LOW] / 10, no_data / 10)
