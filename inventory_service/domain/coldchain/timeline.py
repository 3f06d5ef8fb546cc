"""Readings as a timeline: each reading stands for the time until the next one, capped.

A reading covers [t, next t) but at most the sensor's expected interval plus a grace; beyond that
the time is "no data": unknown, never in range and never out of range, and it breaks runs
(cold-chain reference: a real logger export starts with a 352-minute gap; gaps must not read as OK).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import NamedTuple

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
        return (self.end - self.start).total_seconds() / 60


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
