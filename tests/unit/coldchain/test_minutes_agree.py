"""One count of minutes out of range: an excursion's duration and the daily summary's minutes high and
low are the time the out-of-range readings stand for, with the same cap, counted in tenths of a minute
on one grid (domain.coldchain.timeline). They agree for an excursion within one day, an excursion
across the site's midnight gives each day its part with the parts summing to its duration, and an
ongoing excursion asked at a later moment has grown by what the day has counted meanwhile."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from inventory_service.domain.coldchain import alarms, excursions
from inventory_service.domain.coldchain.alarms import day_bounds
from inventory_service.domain.coldchain.daily import summarise
from inventory_service.domain.coldchain.ranges import DEFAULT_RANGES, AlarmRule, Direction, RuleMode
from inventory_service.domain.coldchain.timeline import Reading, minutes_counted, segments, step

FRIDGE = DEFAULT_RANGES["refrigerator"]
NY = ZoneInfo("America/New_York")
CAP = timedelta(minutes=2)  # a 1-minute logger: its interval plus one interval of grace
MIDNIGHT = datetime(2026, 3, 11, 0, 0, tzinfo=NY)  # EDT (UTC-4) since 8 March 2026
LATER = MIDNIGHT + timedelta(days=3)


def minute_readings(first: datetime, temps: list[float], last: tuple[datetime, float]) -> list[Reading]:
    """One reading a minute from `first`, then `last` (time, temperature)."""
    return [Reading(first + timedelta(minutes=i), t) for i, t in enumerate(temps)] + [Reading(*last)]


def test_the_grid_is_tenths_of_a_minute_to_the_nearest_half_up():
    t = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert step(t + timedelta(seconds=2.999999)) == step(t)
    assert step(t + timedelta(seconds=3)) == step(t) + 1
    assert minutes_counted(t, t + timedelta(minutes=31, seconds=42)) == 31.7
    assert step(MIDNIGHT) * 6 == MIDNIGHT.timestamp()  # a site midnight lies on the grid


def test_an_excursion_across_midnight_gives_each_day_a_part_and_the_parts_sum_to_its_duration():
    # High from 23:44:57.6 for 62 readings, in range again at 00:46:50: 15.04 minutes before
    # midnight, 46.83 after, 61.87 in all. Rounded one by one that showed as 15.0 + 46.8 against 61.9.
    start = MIDNIGHT - timedelta(minutes=15, seconds=2.4)
    readings = minute_readings(start, [9.0] * 62, (MIDNIGHT + timedelta(minutes=46, seconds=50), 5.0))
    segs = segments(readings, CAP, LATER)
    [ex] = excursions.find(segs, FRIDGE)
    before = summarise(date(2026, 3, 10), segs, FRIDGE, NY, LATER)
    after = summarise(date(2026, 3, 11), segs, FRIDGE, NY, LATER)
    assert (before.minutes_high, after.minutes_high) == (15.0, 46.8)
    assert round(before.minutes_high + after.minutes_high, 1) == ex.duration_min == 61.8


def test_an_ongoing_excursion_asked_later_has_grown_by_what_the_day_counted_meanwhile():
    # The walkthrough: the evaluation stored 31.0 minutes as its newest reading arrived; 42 s later
    # the day showed 31.7 minutes high. Asked then, the excursion is 31.7 minutes long too.
    start = datetime(2026, 3, 10, 11, 6, tzinfo=NY)
    readings = [Reading(start + timedelta(minutes=i), 9.0) for i in range(32)]
    arrived = readings[-1].at + timedelta(seconds=0.2)
    [stored] = excursions.find(segments(readings, CAP, arrived), FRIDGE, data_end=arrived)
    assert (stored.duration_min, stored.ongoing) == (31.0, True)
    asked = readings[-1].at + timedelta(seconds=42)
    segs = segments(readings, CAP, asked)
    now = excursions.as_of(Direction.HIGH, stored.start, segs, FRIDGE, asked)
    assert now is not None and (now.start, now.ongoing) == (stored.start, True)
    assert now.duration_min == summarise(start.date(), segs, FRIDGE, NY, asked).minutes_high == 31.7


def test_an_ongoing_excursion_whose_sensor_fell_silent_ends_where_its_last_reading_stops_counting():
    start = datetime(2026, 3, 10, 11, 6, tzinfo=NY)
    readings = [Reading(start + timedelta(minutes=i), 9.0) for i in range(32)]
    asked = readings[-1].at + timedelta(minutes=20)
    segs = segments(readings, CAP, asked)
    now = excursions.as_of(Direction.HIGH, start, segs, FRIDGE, asked)
    assert now is not None and (now.end, now.ongoing) == (readings[-1].at + CAP, False)
    day = summarise(start.date(), segs, FRIDGE, NY, asked)
    assert now.duration_min == day.minutes_high == 33.0
    assert excursions.as_of(Direction.LOW, start, segs, FRIDGE, asked) is None


def test_a_consecutive_alarm_fires_when_the_duration_shown_reaches_its_delay():
    # 29 min 58 s high shows as 30.0 minutes: the 30-minute alarm fires, at the latest when the run ends.
    start = datetime(2026, 3, 10, 12, 0, 2, tzinfo=UTC)
    readings = minute_readings(start, [9.0] * 30, (start + timedelta(minutes=29, seconds=58), 5.0))
    segs = segments(readings, CAP, LATER)
    [ex] = excursions.find(segs, FRIDGE)
    assert ex.duration_min == 30.0
    [alarm] = alarms.evaluate([AlarmRule(Direction.HIGH, RuleMode.CONSECUTIVE, 30)], FRIDGE, segs, NY, LATER)
    assert ex.start <= alarm.triggered_at <= ex.end == alarm.ended_at


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(20_000_000, 170_000_000), st.sampled_from([5.0, 8.0, 8.1, 9.3, 1.9])),
                min_size=2, max_size=80),
       st.integers(0, 59_999_999))
def test_each_day_counts_the_parts_of_its_excursions_and_the_parts_sum_to_each_duration(
        steps: list[tuple[int, float]], offset_us: int):
    # Jittered readings (20 s to 170 s apart, so some gaps exceed the 2-minute cap and are no data)
    # around the site's midnight: whatever the times, each day's minutes high and low are the sum of
    # its parts of the excursions, in tenths, and every excursion's parts sum to its duration.
    at = MIDNIGHT - timedelta(minutes=40, microseconds=offset_us)
    readings = []
    for gap_us, temp in steps:
        readings.append(Reading(at, temp))
        at += timedelta(microseconds=gap_us)
    segs = segments(readings, CAP, LATER)
    found = excursions.find(segs, FRIDGE)
    days = [date(2026, 3, 10), date(2026, 3, 11)]
    parts = {(id(ex), d): minutes_counted(*_inside(ex, d)) for ex in found for d in days}
    for d in days:
        summary = summarise(d, segs, FRIDGE, NY, LATER)
        for kind, shown in ((Direction.HIGH, summary.minutes_high), (Direction.LOW, summary.minutes_low)):
            assert shown == round(sum(parts[id(ex), d] for ex in found if ex.kind is kind), 1)
    for ex in found:
        assert round(sum(parts[id(ex), d] for d in days), 1) == ex.duration_min


def _inside(ex: excursions.Excursion, day: date) -> tuple[datetime, datetime]:
    d0, d1 = day_bounds(day, NY)
    a, b = max(ex.start, d0), min(ex.end, d1)
    return (a, b) if b > a else (a, a)
