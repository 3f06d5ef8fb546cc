from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from inventory_service.domain.lots import LotStatus, effective_status, expires_within, is_expired, site_today


def test_a_lot_is_usable_through_the_end_of_its_expiry_date():
    assert not is_expired(date(2026, 3, 10), today=date(2026, 3, 10))
    assert is_expired(date(2026, 3, 10), today=date(2026, 3, 11))


def test_an_available_lot_past_expiry_reads_as_expired_without_any_job():
    assert effective_status("available", date(2026, 1, 31), date(2026, 2, 1)) is LotStatus.EXPIRED


def test_a_held_lot_keeps_its_hold_status_after_expiry():
    assert effective_status("hold", date(2026, 1, 31), date(2026, 2, 1)) is LotStatus.HOLD


def test_site_today_follows_the_site_time_zone_not_utc():
    # 03:30 UTC on 10 March is still the evening of 9 March in New York.
    now = datetime(2026, 3, 10, 3, 30, tzinfo=UTC)
    assert site_today(now, ZoneInfo("America/New_York")) == date(2026, 3, 9)
    assert site_today(now, ZoneInfo("Europe/Berlin")) == date(2026, 3, 10)


def test_site_today_refuses_a_naive_time():
    with pytest.raises(ValueError, match="timezone-aware"):
        site_today(datetime(2026, 3, 10), ZoneInfo("UTC"))


def test_expiring_within_counts_today_and_the_last_day_but_not_expired_lots():
    today = date(2026, 3, 10)
    assert expires_within(date(2026, 3, 10), today, 30)
    assert expires_within(date(2026, 4, 9), today, 30)
    assert not expires_within(date(2026, 4, 10), today, 30)
    assert not expires_within(date(2026, 3, 9), today, 30)
