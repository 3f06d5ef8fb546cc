"""Readings as a timeline: each reading stands for the time until the next one, capped.

A reading covers [t, next t) but at most the sensor's expected interval plus a grace; beyond that
the time is "no data": unknown, never in range and never out of range, and it breaks runs
(cold-chain reference: a real logger export starts with a 352-minute gap; gaps must not read as OK).

Time is counted in tenths of a minute, the resolution reports show: every instant is put on one
fixed grid of 6-second steps (`step`, to the nearest) and minutes are differences of steps
(`minutes_counted`, `Segment.steps`). Differences of one grid add up exactly, so an excursion's
duration and the minutes a day counts for it are the same number, and the days' parts of an
excursion across midnight (site midnights lie on the grid) sum to its duration. Rounding each
total on its own would not: 15.04 + 46.84 minutes show as 15.0 + 46.8 = 61.8, their sum as 61.9.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_STEP_US = 6_000_000  # a tenth of a minute, in microseconds


def step(at: datetime) -> int:
    """`at` as a count of tenths of a minute since the epoch, to the nearest (half up), in integers:
    the same instant always gives the same step. `at` must carry a zone."""
    return ((at - _EPOCH) // timedelta(microseconds=1) + _STEP_US // 2) // _STEP_US


def minutes_counted(start: datetime, end: datetime) -> float:
    """Minutes from `start` to `end` as counted for reports: steps apart, in tenths (see above)."""
    return (step(end) - step(start)) / 10

# NamedTuples rather than frozen dataclasses: as immutable, and several times cheaper to build. The
# ingest builds a window's worth of each for every unit of every batch.


class Reading(NamedTuple):
    at: datetime
    temp_c: float


class Segment(NamedTuple):
    """`temp_c` None means no data for [start, end)."""

    start: datetime
    end: datetime
    temp_c: float | None

    @property
    def minutes(self) -> float:
        """Exact minutes, for weights (mean, MKT)."""
        return (self.end - self.start).total_seconds() / 60

    @property
    def steps(self) -> int:
        """Tenths of a minute counted for this segment: contiguous segments add up to the steps
        from the first one's start to the last one's end."""
        return step(self.end) - step(self.start)


def segments(readings: Iterable[tuple[datetime, float]], cap: timedelta, until: datetime) -> list[Segment]:
    """Cover time from the first reading to `until` with reading and no-data segments.

    `readings` are Readings or plain (at, temp_c) pairs; they need not be sorted; readings at the
    same instant keep the last one given. Readings after `until` are ignored.
    """
    by_time: dict[datetime, float] = {}
    for at, temp_c in readings:
        if at <= until:
            by_time[at] = temp_c
    times = sorted(by_time)
    out: list[Segment] = []
    for i, t in enumerate(times):
        nxt = times[i + 1] if i + 1 < len(times) else until
        covered = min(nxt, t + cap)
        if covered > t:
            out.append(Segment(t, covered, by_time[t]))
        if nxt > covered:
            out.append(Segment(covered, nxt, None))
    return out


def clip(segs: list[Segment], start: datetime, end: datetime) -> list[Segment]:
    """The parts of `segs` inside [start, end)."""
    out = []
    for s in segs:
        a, b = max(s.start, start), min(s.end, end)
        if b > a:
            out.append(Segment(a, b, s.temp_c))
    return out
