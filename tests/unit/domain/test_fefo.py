from datetime import date

import pytest

from inventory_service.domain.errors import InsufficientStock
from inventory_service.domain.fefo import Allocation, LotBalance, pick

TODAY = date(2026, 3, 10)


def lot(lot_id: int, expiry: date, qty: int, status: str = "available") -> LotBalance:
    return LotBalance(lot_id, expiry, status, qty)


def test_consumes_the_earliest_expiring_lot_first():
    balances = [lot(1, date(2027, 1, 1), 5), lot(2, date(2026, 6, 1), 5)]
    assert pick(balances, 3, TODAY) == [Allocation(2, 3)]


def test_spans_lots_in_expiry_order_when_one_is_not_enough():
    balances = [lot(1, date(2027, 1, 1), 5), lot(2, date(2026, 6, 1), 2), lot(3, date(2026, 9, 1), 4)]
    assert pick(balances, 7, TODAY) == [Allocation(2, 2), Allocation(3, 4), Allocation(1, 1)]


def test_ties_on_expiry_go_to_the_lot_received_first():
    balances = [lot(9, date(2026, 6, 1), 5), lot(4, date(2026, 6, 1), 5)]
    assert pick(balances, 1, TODAY) == [Allocation(4, 1)]


def test_skips_expired_held_quarantined_and_recalled_lots():
    balances = [
        lot(1, date(2026, 3, 9), 5),  # expired yesterday
        lot(2, date(2026, 4, 1), 5, "hold"),
        lot(3, date(2026, 4, 2), 5, "quarantine"),
        lot(4, date(2026, 4, 3), 5, "recalled"),
        lot(5, date(2026, 12, 1), 5),
    ]
    assert pick(balances, 2, TODAY) == [Allocation(5, 2)]


def test_a_lot_expiring_today_is_still_usable():
    assert pick([lot(1, TODAY, 1)], 1, TODAY) == [Allocation(1, 1)]


def test_not_enough_usable_stock_raises_with_the_usable_total():
    with pytest.raises(InsufficientStock) as err:
        pick([lot(1, date(2027, 1, 1), 2), lot(2, date(2020, 1, 1), 10)], 3, TODAY)
    assert err.value.details == {"available": 2, "requested": 3}
    assert err.value.code == "insufficient_stock"


def test_quantity_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        pick([lot(1, date(2027, 1, 1), 2)], 0, TODAY)
