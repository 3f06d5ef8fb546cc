from datetime import date

from inventory_service.domain.reorder import ParLevel, needs_reorder, suggest, usable_after


def test_at_the_reorder_point_means_order_now():
    par = ParLevel(reorder_point=10, order_up_to=50, lead_time_days=7)
    assert needs_reorder(par, 10)
    assert not needs_reorder(par, 11)


def test_suggestion_tops_up_to_the_order_up_to_level():
    s = suggest(ParLevel(10, 50, 7), usable_quantity=8, on_hold=3, consumed_in_window=60)
    assert s.suggested_quantity == 42
    assert s.on_hold_quantity == 3
    assert s.average_daily_usage == 2.0
    assert s.days_of_supply == 4.0


def test_no_usage_means_days_of_supply_is_unknown_not_zero():
    s = suggest(ParLevel(10, 50, 7), usable_quantity=8, on_hold=0, consumed_in_window=0)
    assert s.days_of_supply is None
    assert s.average_daily_usage == 0


def test_lots_must_outlive_the_lead_time_to_count_as_usable():
    assert usable_after(date(2026, 3, 10), 7) == date(2026, 3, 17)
