"""Par levels, reorder suggestions and the reorder alert (one open alert per condition)."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import Api
from tests.integration.conftest import World, receive


def par(api: Api, w: World, **over: int) -> dict:
    body = {"item_id": w.item, "location_id": w.stockroom, "reorder_point": 10, "order_up_to": 40,
            "lead_time_days": 14, **over}
    return api.post("/api/v1/par-levels", body, role="manager", expect=201).json


def consume(api: Api, w: World, qty: int) -> None:
    api.post("/api/v1/stock/consume", {"item_id": w.item, "location_id": w.stockroom, "quantity": qty},
             role="staff", expect=201)


def reorder_alerts(api: Api) -> list[dict]:
    return api.get("/api/v1/alerts?kind=reorder", expect=200).json["items"]


def test_suggestion_counts_only_lots_that_outlive_the_lead_time(api: Api, world: World):
    receive(api, world, "SHORT", "2026-03-20", 30)  # expires within the 14-day lead time
    receive(api, world, "LONG", "2026-12-31", 8)
    par(api, world)
    [s] = api.get("/api/v1/reorder-suggestions", expect=200).json["items"]
    assert s["usable_quantity"] == 8
    assert s["suggested_quantity"] == 32


def test_suggestion_reports_held_stock_usage_and_days_of_supply(api: Api, world: World, clock):
    receive(api, world, "A", "2026-12-31", 40)
    receive(api, world, "R", "2026-12-31", 5, item=world.item)
    api.post("/api/v1/recalls", {"item_id": world.item, "lot_numbers": ["R"], "reason": "recall"},
             role="manager", expect=201)
    par(api, world)
    consume(api, world, 15)
    clock.advance(days=10)
    consume(api, world, 15)
    clock.advance(days=25)  # the first consumption is now outside the 30-day window
    [s] = api.get("/api/v1/reorder-suggestions", expect=200).json["items"]
    assert (s["usable_quantity"], s["on_hold_quantity"]) == (10, 5)
    assert s["average_daily_usage"] == 0.5
    assert s["days_of_supply"] == 20.0
    assert (s["item_name"], s["location_code"]) == ("Syringe 5 ml", "SR")


def test_par_levels_above_the_reorder_point_are_not_suggested(api: Api, world: World):
    receive(api, world, "A", "2026-12-31", 11)
    par(api, world)
    assert api.get("/api/v1/reorder-suggestions", expect=200).json["items"] == []


def test_crossing_below_opens_one_alert_and_going_back_above_resolves_it(api: Api, world: World):
    receive(api, world, "A", "2026-12-31", 20)
    par(api, world)
    assert reorder_alerts(api) == []
    consume(api, world, 10)  # at the reorder point
    consume(api, world, 1)
    consume(api, world, 1)
    [alert] = reorder_alerts(api)
    assert alert["status"] == "open" and alert["details"]["usable_quantity"] == 8
    receive(api, world, "B", "2027-06-30", 30)
    [alert] = reorder_alerts(api)
    assert alert["status"] == "resolved"
    consume(api, world, 35)
    alerts = reorder_alerts(api)
    assert [a["status"] for a in alerts] == ["open", "resolved"]


def test_the_alert_rolls_back_with_a_failed_movement(api: Api, world: World):
    lot = receive(api, world, "A", "2026-12-31", 11)["lot"]["id"]
    par(api, world)
    api.post("/api/v1/stock/consume", {"item_id": world.item, "location_id": world.stockroom, "quantity": 50,
                                        "lot_id": lot}, role="staff", expect=409)
    assert reorder_alerts(api) == []


def test_acknowledging_needs_a_reason_and_records_who(api: Api, world: World, clock):
    par(api, world)
    [alert] = reorder_alerts(api)
    api.post(f"/api/v1/alerts/{alert['id']}/ack", {"reason": ""}, role="manager", expect=422)
    clock.advance(minutes=5)
    acked = api.post(f"/api/v1/alerts/{alert['id']}/ack", {"reason": "order placed"}, role="manager",
                     expect=200).json
    assert (acked["status"], acked["acknowledged_by"], acked["ack_reason"]) == (
        "acknowledged", "manager-token", "order placed")
    assert datetime.fromisoformat(acked["acknowledged_at"]) == datetime(2026, 3, 10, 15, 5, tzinfo=UTC)
    assert api.get("/api/v1/alerts?status=active", expect=200).json["items"][0]["id"] == alert["id"]


def test_a_par_level_is_replaced_not_duplicated_and_can_be_deleted(api: Api, world: World):
    first = par(api, world)
    second = par(api, world, reorder_point=5)
    assert first["id"] == second["id"]
    assert len(api.get("/api/v1/par-levels", expect=200).json["items"]) == 1
    api.call("DELETE", f"/api/v1/par-levels/{first['id']}", role="manager", expect=204)
    assert api.get("/api/v1/par-levels", expect=200).json["items"] == []
    assert all(a["status"] == "resolved" for a in reorder_alerts(api))


def test_order_up_to_below_the_reorder_point_is_rejected(api: Api, world: World):
    r = api.post("/api/v1/par-levels", {"item_id": world.item, "location_id": world.stockroom,
                                         "reorder_point": 10, "order_up_to": 5}, role="manager", expect=422)
    assert r.json["error"]["code"] == "bad_par_level"
