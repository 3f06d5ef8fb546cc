"""The cold-chain rulebook (reference/coldchain.md), tested with time as an argument."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inventory_service.domain.coldchain import alarms, excursions
from inventory_service.domain.coldchain.daily import summarise
from inventory_service.domain.coldchain.mkt import mkt_c
from inventory_service.domain.coldchain.ranges import (
    DEFAULT_RANGES,
    DEFAULT_RULES,
    WHO_30_DAY_RECORDER,
    AlarmRule,
    Direction,
    Range,
    RuleMode,
    nothing_breached,
)
from inventory_service.domain.coldchain.timeline import Reading, Segment, segments

FRIDGE = DEFAULT_RANGES["refrigerator"]
T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
CAP = timedelta(minutes=10)  # 5-minute interval plus 5 minutes grace
NY = ZoneInfo("America/New_York")


def series(temps: list[float | None], step: int = 5, start: datetime = T0) -> list[Reading]:
    """One reading every `step` minutes; None leaves that slot out (the sensor was silent)."""
    return [Reading(start + timedelta(minutes=step * i), t) for i, t in enumerate(temps) if t is not None]


def segs(temps: list[float | None], step: int = 5) -> list[Segment]:
    readings = series(temps, step)
    return segments(readings, CAP, readings[-1].at + timedelta(minutes=step))


def test_8_0_degrees_is_in_range_and_8_1_is_high():
    assert FRIDGE.classify(8.0) is None
    assert FRIDGE.classify(8.1) is Direction.HIGH
    assert FRIDGE.classify(2.0) is None
    assert FRIDGE.classify(1.9) is Direction.LOW


def test_a_single_out_of_range_reading_is_an_excursion():
    [e] = excursions.find(segs([5, 8.4, 5]), FRIDGE)
    assert (e.kind, e.start, e.duration_min, e.peak_c) == (Direction.HIGH, T0 + timedelta(minutes=5), 5, 8.4)


def test_an_excursion_is_one_direction_and_reports_its_peak():
    found = excursions.find(segs([9, 10, 12, 1, 0.5, 5]), FRIDGE)
    assert [(e.kind, e.duration_min, e.peak_c) for e in found] == [(Direction.HIGH, 15, 12), (Direction.LOW, 10, 0.5)]


def test_a_gap_is_no_data_and_breaks_a_run():
    s = segs([9, 9, None, None, None, 9, 9])
    assert [x.temp_c for x in s] == [9, 9, None, 9, 9]
    # The reading at 5 min stands for at most the 10-minute cap, then 10 minutes are unknown.
    gaps = [(x.start - T0, x.end - T0) for x in s if x.temp_c is None]
    assert gaps == [(timedelta(minutes=15), timedelta(minutes=25))]
    assert [e.duration_min for e in excursions.find(s, FRIDGE)] == [15, 10]


def test_consecutive_alarm_fires_at_run_start_plus_delay_and_ends_with_the_run():
    rule = AlarmRule(Direction.HIGH, RuleMode.CONSECUTIVE, 30)
    s = segs([5] + [9] * 8 + [5])  # 40 minutes high
    [a] = alarms.evaluate([rule], FRIDGE, s, NY, s[-1].end)
    assert a.triggered_at == T0 + timedelta(minutes=5 + 30)
    assert a.ended_at == T0 + timedelta(minutes=45)


def test_a_run_shorter_than_the_delay_raises_no_alarm_but_is_still_an_excursion():
    rule = AlarmRule(Direction.HIGH, RuleMode.CONSECUTIVE, 30)
    s = segs([5] + [9] * 5 + [5])
    assert alarms.evaluate([rule], FRIDGE, s, NY, s[-1].end) == []
    assert len(excursions.find(s, FRIDGE)) == 1


def test_a_gap_stops_a_consecutive_run_from_reaching_its_delay():
    rule = AlarmRule(Direction.HIGH, RuleMode.CONSECUTIVE, 30)
    s = segs([9, 9, 9, 9, None, None, None, 9, 9, 9, 9, 5])
    assert alarms.evaluate([rule], FRIDGE, s, NY, s[-1].end) == []


def test_cumulative_counts_minutes_within_one_site_day():
    # Fridge-tag 2 L export: 147 cumulative minutes above 8 °C, none of them 60 in a row: no single-event alarm.
    consecutive = AlarmRule(Direction.HIGH, RuleMode.CONSECUTIVE, 60)
    cumulative = AlarmRule(Direction.HIGH, RuleMode.CUMULATIVE, 120)
    temps: list[float | None] = ([9] * 10 + [5] * 2) * 3  # 3 runs of 50 minutes = 150 minutes high
    s = segs(temps)
    events = alarms.evaluate([consecutive, cumulative], FRIDGE, s, NY, s[-1].end + timedelta(days=1))
    [a] = events
    assert (a.mode, a.rule_index) == ("cumulative", 1)
    assert a.triggered_at == T0 + timedelta(minutes=60 + 60 + 20)  # 50 + 50 + 20 minutes of breach
    assert a.ended_at == datetime(2026, 3, 11, 0, 0, tzinfo=NY)


def test_cumulative_minutes_reset_at_the_site_midnight():
    rule = AlarmRule(Direction.HIGH, RuleMode.CUMULATIVE, 60)
    # 40 minutes before and 40 after midnight in New York (EDT, UTC-4, since 8 March 2026).
    start = datetime(2026, 3, 11, 3, 20, tzinfo=UTC)  # 23:20 on 10 March in New York
    readings = [Reading(start + timedelta(minutes=5 * i), 9) for i in range(16)]
    s = segments(readings, CAP, readings[-1].at + timedelta(minutes=5))
    assert alarms.evaluate([rule], FRIDGE, s, NY, s[-1].end) == []


def test_who_recorder_freeze_alarm_is_at_or_below_minus_0_5():
    freeze = WHO_30_DAY_RECORDER[1]
    assert freeze.breached(-0.5, FRIDGE)
    assert not freeze.breached(-0.4, FRIDGE)


def test_no_data_fires_at_last_heard_plus_the_limit_and_ends_with_the_next_reading():
    times = [T0, T0 + timedelta(minutes=5), T0 + timedelta(minutes=95)]
    [a] = alarms.no_data(times, 60, T0, T0 + timedelta(minutes=100))
    assert (a.triggered_at, a.ended_at) == (T0 + timedelta(minutes=65), T0 + timedelta(minutes=95))
    assert len(alarms.no_data(times, 60, T0, T0 + timedelta(minutes=150))) == 1  # 55 silent minutes: not yet
    *_, ongoing = alarms.no_data(times, 60, T0, T0 + timedelta(minutes=160))
    assert (ongoing.triggered_at, ongoing.ended_at) == (T0 + timedelta(minutes=155), None)


@pytest.mark.parametrize(("parts", "expected"), [
    ([(5.0, 60)], 5.0),
    ([(2.0, 60), (8.0, 60)], 5.5364),
    ([(5.0, 23 * 60), (25.0, 60)], 7.7564),
    ([(5.0, 6 * 60), (7.0, 10 * 60), (11.0, 90), (6.0, 30 * 60)], 6.31),
])
def test_mkt_matches_the_reference_check_values(parts: list[tuple[float, float]], expected: float):
    cursor, pieces = T0, []
    for temp, minutes in parts:
        pieces.append(Segment(cursor, cursor + timedelta(minutes=minutes), temp))
        cursor += timedelta(minutes=minutes)
    assert mkt_c(pieces) == pytest.approx(expected, abs=0.005)


def test_mkt_ignores_no_data_time():
    hour = timedelta(hours=1)
    pieces = [Segment(T0, T0 + hour, 5.0), Segment(T0 + hour, T0 + 9 * hour, None)]
    assert mkt_c(pieces) == pytest.approx(5.0)
    assert mkt_c([]) is None


def test_daily_summary_counts_unknown_time_as_no_data():
    day_start = datetime(2026, 3, 10, 0, 0, tzinfo=NY)
    readings = [Reading(day_start + timedelta(hours=6, minutes=5 * i), t) for i, t in enumerate([5, 9, 9, 1, 5])]
    s = segments(readings, CAP, readings[-1].at + timedelta(minutes=5))
    d = summarise(day_start.date(), s, FRIDGE, NY, now=day_start + timedelta(days=2))
    assert (d.min_c, d.max_c, d.minutes_high, d.minutes_low) == (1, 9, 10, 5)
    assert d.minutes_no_data == 24 * 60 - 25
    assert d.mean_c == pytest.approx((5 + 9 + 9 + 1 + 5) / 5)


def test_a_window_between_the_bounds_breaches_nothing_and_one_reading_past_a_bound_does():
    assert nothing_breached(FRIDGE, DEFAULT_RULES, 2.0, 8.0)  # both bounds are in range
    assert not nothing_breached(FRIDGE, DEFAULT_RULES, 2.0, 8.1)
    assert not nothing_breached(FRIDGE, DEFAULT_RULES, 1.9, 8.0)


def test_a_rule_threshold_inside_the_range_counts_as_a_breach():
    # WHO PQS E006 freeze alarm at or below -0.5 °C, on a unit whose range reaches down to -2 °C
    unit = Range(-2.0, 8.0)
    assert not nothing_breached(unit, WHO_30_DAY_RECORDER, -0.5, 5.0)
    assert nothing_breached(unit, WHO_30_DAY_RECORDER, -0.4, 5.0)


_rules = st.lists(st.builds(
    AlarmRule, st.sampled_from(Direction), st.sampled_from(RuleMode), st.integers(0, 60).map(float),
    st.one_of(st.none(), st.sampled_from([-0.5, 1.0, 2.0, 5.0, 8.0, 9.0])), st.booleans()), max_size=3)


@settings(max_examples=300, deadline=None)
@given(temps=st.lists(st.one_of(st.none(), st.sampled_from([-1.0, 1.9, 2.0, 2.1, 5.0, 7.9, 8.0, 8.1, 12.0])),
                      min_size=1, max_size=30).filter(lambda ts: any(t is not None for t in ts)),
       rules=_rules)
def test_nothing_breached_means_the_rules_find_nothing(temps: list[float | None], rules: list[AlarmRule]):
    """The shortcut the ingest takes for a quiet window never hides an excursion or an alarm."""
    window = segs(temps)
    present = [t for t in temps if t is not None]
    if nothing_breached(FRIDGE, rules, min(present), max(present)):
        end = window[-1].end
        assert excursions.find(window, FRIDGE, data_end=end) == []
        assert alarms.evaluate(rules, FRIDGE, window, NY, end) == []
