"""When is a maintenance plan due?

A plan recurs every N days, weeks or months, counted from the scheduled date (fixed rhythm: weekly
spore test every Monday) or from the date the last task was completed (floating: service 12 months
after the last service); and/or every N usage cycles (autoclave: every 40 cycles). With both, whichever
comes first. Month arithmetic clamps to the month's last day (31 Jan + 1 month = 28/29 Feb).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class Unit(StrEnum):
    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"


class Anchor(StrEnum):
    SCHEDULED = "scheduled"
    COMPLETED = "completed"


@dataclass(frozen=True)
class Plan:
    every: int | None = None
    unit: Unit = Unit.DAYS
    anchor: Anchor = Anchor.SCHEDULED
    every_cycles: int | None = None

    def __post_init__(self) -> None:
        if self.every is None and self.every_cycles is None:
            raise ValueError("a plan needs a calendar interval, a cycle interval, or both")
        if (self.every is not None and self.every <= 0) or (self.every_cycles is not None and self.every_cycles <= 0):
            raise ValueError("intervals must be positive")


def add_interval(start: date, every: int, unit: Unit) -> date:
    if unit is Unit.DAYS:
        return start + timedelta(days=every)
    if unit is Unit.WEEKS:
        return start + timedelta(weeks=every)
    month_index = start.month - 1 + every
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def next_due_date(plan: Plan, *, last_scheduled: date, last_completed: date | None) -> date | None:
    """The next calendar due date, or None for a usage-only plan."""
    if plan.every is None:
        return None
    base = last_completed if plan.anchor is Anchor.COMPLETED and last_completed else last_scheduled
    return add_interval(base, plan.every, plan.unit)


def next_due_cycle(plan: Plan, *, cycles_at_last: int) -> int | None:
    """The lifetime cycle count at which the plan is next due, or None for a calendar-only plan."""
    return None if plan.every_cycles is None else cycles_at_last + plan.every_cycles


def is_due(plan: Plan, *, today: date, cycles: int | None, due_date: date | None, due_cycle: int | None) -> bool:
    """Due when the calendar date has come or the usage count has reached its mark, whichever first."""
    by_date = due_date is not None and today >= due_date
    by_use = due_cycle is not None and cycles is not None and cycles >= due_cycle
    return by_date or by_use
