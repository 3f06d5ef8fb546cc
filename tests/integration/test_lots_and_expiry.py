"""Expiry: today per call in the site's zone; `expiring_within_days`; expired lots unavailable."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import Api
from tests.integration.conftest import World, receive, receive_then_age


def numbers(api: Api, query: str) -> list[str]:
    return [lot["lot_number"] for lot in api.get(f"/api/v1/lots?{query}", expect=200).json["items"]]


def test_expiring_within_days_lists_soonest_first_and_skips_expired(api: Api, world: World, clock):
    # Clock: 2026-03-10 in New York.
    receive_then_age(api, world, clock, "GONE", "2026-03-09", 1)
    receive(api, world, "TODAY", "2026-03-10", 1)
    receive(api, world, "D30", "2026-04-09", 1)
    receive(api, world, "D31", "2026-04-10", 1)
    receive(api, world, "SOON", "2026-03-20", 1)
    assert numbers(api, "expiring_within_days=30") == ["TODAY", "SOON", "D30"]
    assert numbers(api, "expiring_within_days=0") == ["TODAY"]


def test_today_is_computed_per_call_not_at_start(api: Api, world: World, clock):
    receive(api, world, "L", "2026-03-20", 1)
    assert numbers(api, "expiring_within_days=5") == []
    clock.set(datetime(2026, 3, 16, 12, tzinfo=UTC))
    assert numbers(api, "expiring_within_days=5") == ["L"]


def test_status_filter_sees_calendar_expiry(api: Api, world: World, clock):
    receive_then_age(api, world, clock, "OLD", "2026-03-01", 1)
    receive(api, world, "OK", "2026-12-01", 1)
    assert numbers(api, "status=expired") == ["OLD"]
    assert numbers(api, "status=available") == ["OK"]


def test_lots_pagination_is_stable_across_equal_expiry_dates(api: Api, world: World):
    for i in range(5):
        receive(api, world, f"L{i}", "2026-04-01", 1)
    seen, cursor = [], ""
    while True:
        page = api.get(f"/api/v1/lots?limit=2{cursor}", expect=200).json
        seen += [lot["lot_number"] for lot in page["items"]]
        if page["next"] is None:
            break
        cursor = f"&cursor={page['next']}"
    assert seen == ["L0", "L1", "L2", "L3", "L4"]


def test_a_lot_is_readable_by_id(api: Api, world: World):
    lot = receive(api, world, "L", "2026-04-01", 1)["lot"]
    assert api.get(f"/api/v1/lots/{lot['id']}", expect=200).json == lot
    assert api.get("/api/v1/lots/9999", expect=404).json["error"]["code"] == "lot_not_found"
