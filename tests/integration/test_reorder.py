"""Par levels, reorder suggestions and the reorder alert (one open alert per condition)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from inventory_service.db.models import ParLevel
from inventory_service.db.uow import Database
from inventory_service.jobs import reorder_check
from inventory_service.services import reorder
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


def stored_figures(db: Database) -> dict[int, tuple[int | None, int | None, date | None]]:
    with db.unit_of_work(write=False) as uow:
        return {p.id: (p.usable_quantity, p.on_hold_quantity, p.figures_on)
                for p in uow.session.scalars(select(ParLevel))}


def test_every_change_keeps_the_stored_figures_equal_to_a_full_recount(api: Api, world: World, db: Database,
                                                                       ctx):
    par(api, world, lead_time_days=14)
    par(api, world, location_id=world.clinic, reorder_point=2, order_up_to=10, lead_time_days=0)
    receive(api, world, "A", "2026-12-31", 30)
    soon = receive(api, world, "SOON", "2026-03-20", 7)["lot"]["id"]  # inside the 14-day lead time
    receive(api, world, "R", "2026-12-31", 6)
    api.post("/api/v1/stock/transfer", {"item_id": world.item, "lot_id": soon, "location_id": world.stockroom,
                                        "to_location_id": world.clinic, "quantity": 5}, role="staff", expect=201)
    consume(api, world, 4)
    api.post("/api/v1/recalls", {"item_id": world.item, "lot_numbers": ["R"], "reason": "recall"},
             role="manager", expect=201)
    stored = stored_figures(db)
    with db.unit_of_work(write=False) as uow:  # the set-based recount the hourly job does
        recount = {pid: (u, h) for pid, u, h in uow.session.execute(reorder._figures_q(uow, ctx().today))}
    assert {pid: f[:2] for pid, f in stored.items()} == recount
    assert set(recount.values()) == {(28, 6), (5, 0)}  # FEFO took the 2 SOON left first
    assert {f[2] for f in stored.values()} == {date(2026, 3, 10)}


def test_a_recall_opens_the_reorder_alert_in_its_own_transaction(api: Api, world: World):
    receive(api, world, "A", "2026-12-31", 20)
    receive(api, world, "B", "2026-12-31", 5)
    par(api, world)
    assert reorder_alerts(api) == []
    api.post("/api/v1/recalls", {"item_id": world.item, "lot_numbers": ["A"], "reason": "recall"},
             role="manager", expect=201)
    [alert] = reorder_alerts(api)
    assert (alert["status"], alert["details"]["usable_quantity"]) == ("open", 5)
    [s] = api.get("/api/v1/reorder-suggestions", expect=200).json["items"]
    assert (s["usable_quantity"], s["on_hold_quantity"]) == (5, 20)


def test_suggestions_follow_the_calendar_without_any_movement(api: Api, world: World, db: Database, clock, ctx):
    receive(api, world, "SOON", "2026-04-01", 30)
    receive(api, world, "LATER", "2026-12-31", 5)
    par(api, world)  # lead time 14 days: on 10 March both lots outlive it
    assert api.get("/api/v1/reorder-suggestions", expect=200).json["items"] == []
    clock.advance(days=10)  # 20 March: SOON expires within the lead time; the stored figures are yesterday's
    [s] = api.get("/api/v1/reorder-suggestions", expect=200).json["items"]
    assert (s["usable_quantity"], s["suggested_quantity"]) == (5, 35)
    assert reorder_alerts(api) == []  # reads never write; the hourly job raises the alert
    assert reorder_check(db, ctx("job:reorder_check", "job")) == 1
    [alert] = reorder_alerts(api)
    assert alert["details"]["usable_quantity"] == 5
    assert list(stored_figures(db).values()) == [(5, 0, date(2026, 3, 20))]
    [again] = api.get("/api/v1/reorder-suggestions", expect=200).json["items"]
    assert again == s
    assert reorder_check(db, ctx("job:reorder_check", "job")) == 1  # idempotent: still one alert
    assert len(reorder_alerts(api)) == 1
