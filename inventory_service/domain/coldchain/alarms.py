"""Alarm rules over the timeline: consecutive, cumulative per site-local day, and no data.

Debounce before notifying (cold-chain reference, "Alarm handling practice"); every excursion is still
recorded, the delay only governs the alarm. A consecutive alarm fires when one run reaches the
delay (trigger time = run start + delay) and ends with the run. A cumulative alarm fires when the
breach minutes of one site-local calendar day reach the delay, and ends at that day's end.

Minutes are counted as the excursion's duration and the daily summary count them (tenths of a
minute, `timeline.minutes_counted`): an alarm fires exactly when the minutes shown reach its delay.
The trigger time is run start + delay, or the moment the day's count reaches it, but never after
the breach itself (the grid rounds by at most 3 seconds).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .ranges import AlarmRule, Range, RuleMode
from .timeline import Segment, minutes_counted


@dataclass(frozen=True)
class AlarmEvent:
    rule_index: int  # position in the unit's rules; -1 for no data
    kind: str  # high / low / no_data
    mode: str  # consecutive / cumulative / no_data
    condition_start: datetime  # run start, or the site day's start for cumulative
    triggered_at: datetime
    ended_at: datetime | None  # None while the condition holds


def _runs(segs: list[Segment], rule: AlarmRule, unit: Range) -> list[list[Segment]]:
    runs: list[list[Segment]] = []
    current: list[Segment] = []
    for s in segs:
        hit = s.temp_c is not None and rule.breached(s.temp_c, unit)
        if hit and current and current[-1].end == s.start:
            current.append(s)
        elif hit:
            if current:
                runs.append(current)
            current = [s]
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def _consecutive(i: int, rule: AlarmRule, unit: Range, segs: list[Segment], data_end: datetime) -> list[AlarmEvent]:
    out = []
    delay = timedelta(minutes=rule.delay_min)
    for run in _runs(segs, rule, unit):
        start, end = run[0].start, run[-1].end
        if minutes_counted(start, end) >= rule.delay_min:
            out.append(AlarmEvent(i, rule.kind.value, rule.mode.value, start, min(start + delay, end),
                                  None if end >= data_end else end))
    return out


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def _split_by_day(s: Segment, tz: ZoneInfo) -> list[tuple[date, Segment]]:
    out, cursor = [], s.start
    while cursor < s.end:
        day = cursor.astimezone(tz).date()
        _, day_end = day_bounds(day, tz)
        piece_end = min(s.end, day_end)
        out.append((day, Segment(cursor, piece_end, s.temp_c)))
        cursor = piece_end
    return out


def _cumulative(i: int, rule: AlarmRule, unit: Range, segs: list[Segment], tz: ZoneInfo,
                data_end: datetime) -> list[AlarmEvent]:
    steps: dict[date, int] = {}  # tenths of a minute breached per site day, as the daily summary counts
    fired: set[date] = set()
    out = []
    for s in segs:
        if s.temp_c is None or not rule.breached(s.temp_c, unit):
            continue
        for day, piece in _split_by_day(s, tz):
            before = steps.get(day, 0)
            steps[day] = before + piece.steps
            if day not in fired and steps[day] / 10 >= rule.delay_min:
                fired.add(day)
                day_start, day_end = day_bounds(day, tz)
                at = min(piece.start + timedelta(minutes=rule.delay_min - before / 10), piece.end)
                out.append(AlarmEvent(i, rule.kind.value, rule.mode.value, day_start, at,
                                      day_end if day_end <= data_end else None))
    return out


def evaluate(rules: Sequence[AlarmRule], unit: Range, segs: list[Segment], tz: ZoneInfo,
             data_end: datetime) -> list[AlarmEvent]:
    """Every alarm the rules raise over `segs`, in trigger order. `data_end` is "now" for live data:
    a condition still true there has `ended_at` None."""
    events: list[AlarmEvent] = []
    for i, rule in enumerate(rules):
        if rule.mode is RuleMode.CONSECUTIVE:
            events += _consecutive(i, rule, unit, segs, data_end)
        else:
            events += _cumulative(i, rule, unit, segs, tz, data_end)
    return sorted(events, key=lambda e: (e.triggered_at, e.rule_index))


def no_data(reading_times: Sequence[datetime], limit_min: float, since: datetime, now: datetime) -> list[AlarmEvent]:
    """A sensor silent for `limit_min` raises a no-data alarm at last-heard + limit; it ends when
    the next reading arrives. `since` is when the sensor was assigned (silence counts from there)."""
    limit = timedelta(minutes=limit_min)
    out = []
    times = sorted(t for t in reading_times if t >= since)
    previous = since
    for t in [*times, None]:
        end = now if t is None else t
        if end - previous >= limit:
            out.append(AlarmEvent(-1, "no_data", "no_data", previous, previous + limit, None if t is None else t))
        if t is not None:
            previous = t
    return out
