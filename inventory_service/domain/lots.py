"""Lot status and expiry rules.

A lot is (item, lot number, expiry). Its stored status is lot-wide and changes through events
(recall, quarantine, disposal); expiry is a matter of the calendar and is applied on every read, so a
lot past its expiry is unavailable before any job has marked it (ARCHITECTURE §5, Stock). An excursion
hold is not lot-wide: it belongs to the stock that was exposed, at its location, so a lot's status
is read per location (`effective_status(..., held=...)`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class LotStatus(StrEnum):
    AVAILABLE = "available"
    HOLD = "hold"
    QUARANTINE = "quarantine"
    RECALLED = "recalled"
    EXPIRED = "expired"
    DISCARDED = "discarded"


#: Statuses that block consumption but not disposal or transfer to a quarantine area.
BLOCKED = frozenset({LotStatus.HOLD, LotStatus.QUARANTINE, LotStatus.RECALLED, LotStatus.DISCARDED})


def site_today(now: datetime, tz: ZoneInfo) -> date:
    """The calendar date at the site for the instant `now` (must be timezone-aware)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(tz).date()


def is_expired(expiry: date, today: date) -> bool:
    """A product is usable through the end of its expiry date, expired from the next day.

    CDC Vaccine Storage and Handling Toolkit: "if the expiration date is marked with a day,
    the vaccine can be used through the end of that day". A month-only expiry is stored as the
    last day of its month by the barcode parsers, so the same rule covers it.
    """
    return today > expiry


def effective_status(stored: str, expiry: date, today: date, held: bool = False) -> LotStatus:
    """The status a reader sees at one location: the lot-wide stored status when it blocks use,
    else `expired` once the calendar says so, else `hold` where the stock there is held after an
    excursion (`held`), else available."""
    status = LotStatus(stored)
    if status is LotStatus.AVAILABLE:
        if is_expired(expiry, today):
            return LotStatus.EXPIRED
        if held:
            return LotStatus.HOLD
    return status


def receive_warnings(expiry: date, today: date, warn_days: int) -> list[str]:
    """What receiving a lot expiring on `expiry` should tell the person receiving it. A lot past its
    expiry is not received at all (see `is_expired`); one expiring within `warn_days` is, with an
    `expires_soon:<date>` warning, so it is put where it is used first (WHO TRS 961 Annex 9 §6.4)."""
    if not is_expired(expiry, today) and expiry <= today + timedelta(days=warn_days):
        return [f"expires_soon:{expiry.isoformat()}"]
    return []


def expires_within(expiry: date, today: date, days: int) -> bool:
    """True when the lot is not yet expired and expires within `days` days from `today`."""
    return today <= expiry <= today + timedelta(days=days)
