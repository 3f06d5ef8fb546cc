from datetime import date

import pytest

from inventory_service.domain.maintenance.recurrence import (
    Anchor,
    Plan,
    Unit,
    add_interval,
    is_due,
    next_due_cycle,
    next_due_date,
)


def test_a_month_after_31_january_is_the_last_day_of_february():
    assert add_interval(date(2026, 1, 31), 1, Unit.MONTHS) == date(2026, 2, 28)
    assert add_interval(date(2028, 1, 31), 1, Unit.MONTHS) == date(2028, 2, 29)
    assert add_interval(date(2026, 11, 15), 3, Unit.MONTHS) == date(2027, 2, 15)


def test_weekly_plans_keep_their_weekday_when_counted_from_the_schedule():
    plan = Plan(every=1, unit=Unit.WEEKS, anchor=Anchor.SCHEDULED)
    assert next_due_date(plan, last_scheduled=date(2026, 3, 2), last_completed=date(2026, 3, 4)) == date(2026, 3, 9)


def test_floating_plans_count_from_the_completion_date():
    plan = Plan(every=12, unit=Unit.MONTHS, anchor=Anchor.COMPLETED)
    assert next_due_date(plan, last_scheduled=date(2026, 1, 1), last_completed=date(2026, 2, 10)) == date(2027, 2, 10)


def test_usage_plans_are_due_every_n_cycles():
    plan = Plan(every_cycles=40)
    assert next_due_cycle(plan, cycles_at_last=120) == 160
    assert next_due_date(plan, last_scheduled=date(2026, 1, 1), last_completed=None) is None


def test_with_both_whichever_comes_first():
    plan = Plan(every=3, unit=Unit.MONTHS, every_cycles=40)
    assert is_due(plan, today=date(2026, 2, 1), cycles=161, due_date=date(2026, 4, 1), due_cycle=160)
    assert is_due(plan, today=date(2026, 4, 1), cycles=100, due_date=date(2026, 4, 1), due_cycle=160)
    assert not is_due(plan, today=date(2026, 3, 31), cycles=159, due_date=date(2026, 4, 1), due_cycle=160)


def test_a_plan_needs_some_interval():
    with pytest.raises(ValueError, match="needs"):
        Plan()
