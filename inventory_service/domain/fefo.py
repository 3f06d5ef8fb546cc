"""First expiry, first out: which lots a consumption without a named lot draws from.

WHO Model Guidelines for Good Storage and Distribution Practices (TRS 961 Annex 9, §6.4):
stock rotation by earliest expiry first. Ties go to the lot received first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .errors import InsufficientStock
from .lots import LotStatus, effective_status


@dataclass(frozen=True)
class LotBalance:
    lot_id: int
    expiry: date
    status: str
    quantity: int
    held: bool = False  # the stock at this location is on hold after an excursion


@dataclass(frozen=True)
class Allocation:
    lot_id: int
    quantity: int


def usable(balances: list[LotBalance], today: date) -> list[LotBalance]:
    """Balances that may be consumed today, in FEFO order."""
    ok = [
        b
        for b in balances
        if b.quantity > 0 and effective_status(b.status, b.expiry, today, b.held) is LotStatus.AVAILABLE
    ]
    return sorted(ok, key=lambda b: (b.expiry, b.lot_id))


def pick(balances: list[LotBalance], quantity: int, today: date) -> list[Allocation]:
    """Allocate `quantity` across usable lots, earliest expiry first; may span several lots.

    Raises InsufficientStock (with the usable total in `details`) when there is not enough.
    """
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    remaining = quantity
    allocations: list[Allocation] = []
    candidates = usable(balances, today)
    for b in candidates:
        take = min(b.quantity, remaining)
        allocations.append(Allocation(b.lot_id, take))
        remaining -= take
        if remaining == 0:
            return allocations
    available = sum(b.quantity for b in candidates)
    raise InsufficientStock(
        f"only {available} usable, {quantity} requested",
        details={"available": available, "requested": quantity},
    )
