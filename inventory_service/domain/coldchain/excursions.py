"""Excursions: every continuous out-of-range run in one direction (CDC: any reading outside the
recommended range is an excursion; there is no minimum duration).

An excursion's duration is the time its out-of-range readings stand for (timeline: each until the
next reading, at most the cap, never past now), counted in tenths of a minute exactly as the daily
summary counts minutes high and low, so the two agree (see `timeline`). An ongoing excursion's
duration grows with `now`: `as_of` gives it at the moment asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .ranges import Direction, Range
from .timeline import Segment, minutes_counted


@dataclass(frozen=True)
class Excursion:
    kind: Direction
    start: datetime
    end: datetime
    peak_c: float
    ongoing: bool  # the run reaches the end of the data: it may go on

    @property
    def duration_min(self) -> float:
        """In tenths of a minute, as the daily summary counts (`timeline.minutes_counted`)."""
        return minutes_counted(self.start, self.end)


def find(segs: list[Segment], unit: Range, *, data_end: datetime | None = None) -> list[Excursion]:
    """Runs of out-of-range segments in one direction; a no-data segment or an in-range reading ends
    a run. `data_end` (default: the last segment's end) marks runs that reach it as ongoing."""
    out: list[Excursion] = []
    run: list[Segment] = []
    kind: Direction | None = None

    def close() -> None:
        if run and kind is not None:
            temps = [s.temp_c for s in run if s.temp_c is not None]
            peak = max(temps) if kind is Direction.HIGH else min(temps)
            end = run[-1].end
            out.append(Excursion(kind, run[0].start, end, peak, ongoing=end >= (data_end or segs[-1].end)))

    for s in segs:
        d = unit.classify(s.temp_c) if s.temp_c is not None else None
        if d is not None and d is kind:
            run.append(s)
            continue
        close()
        run, kind = ([s], d) if d is not None else ([], None)
    close()
    return out


def as_of(kind: Direction, start: datetime, segs: list[Segment], unit: Range, now: datetime) -> Excursion | None:
    """The run of `kind` under `start` as `segs` (built up to `now`) show it: a stored ongoing
    excursion was measured when its last reading was evaluated, and time has passed since. Its
    newest reading stands until now (at most the cap, after which no data ends the run), so its
    duration, asked now, is what the daily summary counts for it now. None if no such run is there."""
    for ex in find(segs, unit, data_end=now):
        if ex.kind is kind and ex.start <= start < ex.end:
            return ex
    return None
