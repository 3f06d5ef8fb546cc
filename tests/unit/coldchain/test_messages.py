"""The alarm's subject and message read as a person would say them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from inventory_service.domain.coldchain.messages import AlarmFacts, HeldStock, message, subject
from inventory_service.domain.coldchain.ranges import AlarmRule, Direction, Range, RuleMode

START = datetime(2026, 12, 7, 14, 2, tzinfo=UTC)


def facts(rule: AlarmRule, **kw: object) -> AlarmFacts:
    base = {"unit_name": "Vaccine fridge A", "unit_range": Range(2.0, 8.0), "rule": rule, "start": START,
            "triggered_at": START + timedelta(minutes=rule.delay_min), "end": None, "peak_c": 14.8,
            "duration_min": 31.0, "held": (), "link": "/excursions/1"}
    return AlarmFacts(**{**base, **kw})  # type: ignore[arg-type]


def test_a_consecutive_high_alarm_says_the_limit_and_the_delay():
    assert subject(facts(AlarmRule(Direction.HIGH, RuleMode.CONSECUTIVE, 30))) == \
        "Vaccine fridge A above 8.0 °C for 30 min"


def test_a_freeze_alarm_with_an_inclusive_threshold_says_at_or_below():
    rule = AlarmRule(Direction.LOW, RuleMode.CONSECUTIVE, 60, threshold_c=-0.5, inclusive=True)
    assert subject(facts(rule)) == "Vaccine fridge A at or below -0.5 °C for 60 min"


def test_a_cumulative_alarm_says_in_total_today_and_long_delays_read_in_hours():
    rule = AlarmRule(Direction.HIGH, RuleMode.CUMULATIVE, 600)
    assert subject(facts(rule)) == "Vaccine fridge A above 8.0 °C for 10.0 h in total today"
    assert "Out-of-range time today reached 10.0 h" in message(facts(rule), ZoneInfo("UTC"))


def test_the_message_lists_what_is_held_or_says_nothing_was():
    rule = AlarmRule(Direction.HIGH, RuleMode.CONSECUTIVE, 30)
    none = message(facts(rule), ZoneInfo("Europe/Berlin"))
    assert "since 15:02 on Mon 7 Dec 2026 (31 min so far; peak 14.8 °C)" in none
    assert "No stock was in the unit during the excursion." in none
    held = message(facts(rule, held=(HeldStock("MMR vaccine", "MMR55", 5, "Vaccine fridge A"),)), ZoneInfo("UTC"))
    assert "  - MMR vaccine lot MMR55: 5 in Vaccine fridge A" in held
