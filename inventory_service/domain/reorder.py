"""Reorder maths for a par level (reorder point, order-up-to level, lead time).

Usable stock counts only available lots that will still be in date when an order placed today
could arrive: a lot expiring within the lead time cannot cover the gap (ARCHITECTURE §5).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

USAGE_WINDOW_DAYS = 30


@dataclass(frozen=True)
class ParLevel:
    reorder_point: int
    order_up_to: int
    lead_time_days: int


@dataclass(frozen=True)
class Suggestion:
    usable_quantity: int
    on_hold_quantity: int
    average_daily_usage: float
    days_of_supply: float | None
    suggested_quantity: int


def usable_after(today: date, lead_time_days: int) -> date:
    """Lots must expire strictly after this date to count as usable stock."""
    return today + timedelta(days=lead_time_days)


def needs_reorder(par: ParLevel, usable_quantity: int) -> bool:
    """At or below the reorder point means order now."""
    return usable_quantity <= par.reorder_point


def suggest(par: ParLevel, usable_quantity: int, on_hold: int, consumed_in_window: int) -> Suggestion:
    """Suggested order: top up to the order-up-to level; days of supply from 30-day usage.

    `days_of_supply` is None when nothing was used in the window (supply lasts indefinitely).
    """
    usage = consumed_in_window / USAGE_WINDOW_DAYS
    days = round(usable_quantity / usage, 1) if usage > 0 else None
    return Suggestion(
        usable_quantity=usable_quantity,
        on_hold_quantity=on_hold,
        average_daily_usage=round(usage, 3),
        days_of_supply=days,
        suggested_quantity=max(0, par.order_up_to - usable_quantity),
    )
