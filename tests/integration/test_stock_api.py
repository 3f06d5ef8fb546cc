"""Stock movements through the API, on SQLite and PostgreSQL (clock: 2026-03-10, New York)."""

from __future__ import annotations

from tests.conftest import Api
from tests.integration.conftest import World, receive, receive_then_age


def stock_of(api: Api, **query: int) -> list[dict]:
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    return api.get(f"/api/v1/stock?{qs}", expect=200).json["items"]


def test_receive_creates_the_lot_once_and_adds_to_its_balance(api: Api, world: World):
    first = receive(api, world, "L1", "2027-01-31", 10)
    again = receive(api, world, "L1", "2027-01-31", 5)
    assert first["lot"]["id"] == again["lot"]["id"]
    assert again["movements"][0]["balance_after"] == 15
    assert [(r["lot_number"], r["quantity"]) for r in stock_of(api, location_id=world.stockroom)] == [("L1", 15)]


def test_same_lot_number_with_another_expiry_is_another_lot(api: Api, world: World):
    a = receive(api, world, "L1", "2027-01-31", 1)
    b = receive(api, world, "L1", "2027-02-28", 1)
    assert a["lot"]["id"] != b["lot"]["id"]


def test_consume_without_a_lot_takes_fefo_and_may_span_lots(api: Api, world: World):
    late = receive(api, world, "LATE", "2027-06-30", 10)["lot"]["id"]
    soon = receive(api, world, "SOON", "2026-05-31", 4)["lot"]["id"]
    r = api.post("/api/v1/stock/consume", {"item_id": world.item, "location_id": world.stockroom, "quantity": 6},
                 role="staff", expect=201).json
    assert [(m["lot_id"], m["quantity"], m["balance_after"]) for m in r["movements"]] == [(soon, -4, 0), (late, -2, 8)]


def test_consuming_an_expired_lot_is_409_lot_expired(api: Api, world: World, clock):
    lot = receive_then_age(api, world, clock, "OLD", "2026-03-09", 5)["lot"]["id"]
    r = api.post("/api/v1/stock/consume", {"item_id": world.item, "location_id": world.stockroom, "quantity": 1,
                                            "lot_id": lot}, role="staff", expect=409)
    assert r.json["error"]["code"] == "lot_expired"


def test_a_lot_expiring_today_in_the_site_zone_is_still_usable(api: Api, world: World, clock):
    from datetime import UTC, datetime

    # 02:00 UTC on 11 March is 22:00 on 10 March in New York: the lot is still in date there.
    clock.set(datetime(2026, 3, 11, 2, 0, tzinfo=UTC))
    lot = receive(api, world, "EDGE", "2026-03-10", 5)["lot"]["id"]
    api.post("/api/v1/stock/consume", {"item_id": world.item, "location_id": world.stockroom, "quantity": 1,
                                        "lot_id": lot}, role="staff", expect=201)
    clock.set(datetime(2026, 3, 11, 5, 0, tzinfo=UTC))  # 00:00 on 11 March in New York
    r = api.post("/api/v1/stock/consume", {"item_id": world.item, "location_id": world.stockroom, "quantity": 1,
                                            "lot_id": lot}, role="staff", expect=409)
    assert r.json["error"]["code"] == "lot_expired"
    assert stock_of(api, location_id=world.stockroom)[0]["status"] == "expired"


def test_fefo_never_picks_an_expired_lot(api: Api, world: World, clock):
    receive_then_age(api, world, clock, "OLD", "2026-03-01", 5)
    receive(api, world, "NEW", "2026-12-31", 1)
    r = api.post("/api/v1/stock/consume", {"item_id": world.item, "location_id": world.stockroom, "quantity": 2},
                 role="staff", expect=409)
    assert r.json["error"] == {"code": "insufficient_stock", "message": "only 1 usable, 2 requested",
                               "details": {"available": 1, "requested": 2}}


def test_not_enough_of_a_named_lot_is_409_insufficient_stock_and_changes_nothing(api: Api, world: World):
    lot = receive(api, world, "L1", "2027-01-31", 2)["lot"]["id"]
    r = api.post("/api/v1/stock/consume", {"item_id": world.item, "location_id": world.stockroom, "quantity": 3,
                                            "lot_id": lot}, role="staff", expect=409)
    assert r.json["error"]["code"] == "insufficient_stock"
    assert stock_of(api, location_id=world.stockroom)[0]["quantity"] == 2
    assert len(api.get("/api/v1/movements", expect=200).json["items"]) == 1


def test_held_and_recalled_lots_are_409_lot_unavailable(api: Api, world: World):
    lot = receive(api, world, "R1", "2027-01-31", 5)["lot"]["id"]
    api.post("/api/v1/recalls", {"item_id": world.item, "lot_numbers": ["R1"], "reason": "sterility"},
             role="manager", expect=201)
    r = api.post("/api/v1/stock/consume", {"item_id": world.item, "location_id": world.stockroom, "quantity": 1,
                                            "lot_id": lot}, role="staff", expect=409)
    assert r.json["error"]["code"] == "lot_unavailable"


def test_transfer_moves_stock_with_a_pair_of_movements(api: Api, world: World):
    lot = receive(api, world, "L1", "2027-01-31", 10)["lot"]["id"]
    r = api.post("/api/v1/stock/transfer", {"item_id": world.item, "location_id": world.stockroom,
                                             "to_location_id": world.clinic, "quantity": 4, "lot_id": lot},
                 role="staff", expect=201).json
    out, into = r["movements"]
    assert (out["quantity"], out["balance_after"], into["quantity"], into["balance_after"]) == (-4, 6, 4, 4)
    assert out["reference"] == into["reference"]
    assert {(s["location_id"], s["quantity"]) for s in stock_of(api, item_id=world.item)} == {
        (world.stockroom, 6), (world.clinic, 4)}


def test_adjust_needs_a_reason_and_cannot_go_below_zero(api: Api, world: World):
    lot = receive(api, world, "L1", "2027-01-31", 3)["lot"]["id"]
    body = {"item_id": world.item, "location_id": world.stockroom, "lot_id": lot, "quantity": -1}
    assert api.post("/api/v1/stock/adjust", body, role="staff", expect=422).json["error"]["code"] == \
        "validation_failed"
    api.post("/api/v1/stock/adjust", {**body, "reason": "dropped"}, role="staff", expect=201)
    r = api.post("/api/v1/stock/adjust", {**body, "quantity": -5, "reason": "x"}, role="staff", expect=409)
    assert r.json["error"]["code"] == "insufficient_stock"


def test_count_records_the_variance_even_when_zero(api: Api, world: World):
    lot = receive(api, world, "L1", "2027-01-31", 10)["lot"]["id"]
    body = {"item_id": world.item, "location_id": world.stockroom, "lot_id": lot}
    r = api.post("/api/v1/stock/count", {**body, "counted_quantity": 7}, role="staff", expect=201).json
    assert r["count"] == {"counted_quantity": 7, "on_record": 10, "variance": -3}
    assert r["movements"][0]["kind"] == "count" and r["movements"][0]["balance_after"] == 7
    r = api.post("/api/v1/stock/count", {**body, "counted_quantity": 7}, role="staff", expect=201).json
    assert r["count"]["variance"] == 0


def test_dispose_works_on_expired_stock_and_needs_a_reason(api: Api, world: World, clock):
    lot = receive_then_age(api, world, clock, "OLD", "2026-01-31", 4)["lot"]["id"]
    body = {"item_id": world.item, "location_id": world.stockroom, "lot_id": lot, "quantity": 4}
    api.post("/api/v1/stock/dispose", body, role="staff", expect=422)
    r = api.post("/api/v1/stock/dispose", {**body, "reason": "expired"}, role="staff", expect=201).json
    assert r["movements"][0]["balance_after"] == 0
    assert stock_of(api, location_id=world.stockroom) == []


def test_movements_record_actor_source_reason_and_balance_after(api: Api, world: World):
    receive(api, world, "L1", "2027-01-31", 3)
    m = api.get("/api/v1/movements", expect=200).json["items"][0]
    assert (m["actor"], m["source"], m["kind"], m["balance_after"]) == ("staff-token", "api", "receive", 3)
    assert len(m["hash"]) == 64


def test_unknown_item_or_location_is_404(api: Api, world: World):
    r = api.post("/api/v1/stock/receive", {"item_id": 999, "location_id": world.stockroom, "lot_number": "x",
                                            "expiry": "2027-01-01", "quantity": 1}, role="staff", expect=404)
    assert r.json["error"]["code"] == "item_not_found"


def test_unknown_fields_and_bad_types_are_rejected_with_the_error_shape(api: Api, world: World):
    r = api.post("/api/v1/stock/receive", {"item_id": world.item, "location_id": world.stockroom,
                                            "lot_number": "x", "expiry": "31/01/2027", "quantity": 0, "extra": 1},
                 role="staff", expect=422).json
    assert set(r["error"]["details"]["json"]) == {"expiry", "quantity", "extra"}


def test_stock_is_paginated_with_a_cursor(api: Api, world: World):
    for i in range(5):
        receive(api, world, f"L{i}", "2027-01-31", 1)
    first = api.get(f"/api/v1/stock?location_id={world.stockroom}&limit=2", expect=200).json
    second = api.get(f"/api/v1/stock?location_id={world.stockroom}&limit=2&cursor={first['next']}", expect=200).json
    third = api.get(f"/api/v1/stock?location_id={world.stockroom}&limit=2&cursor={second['next']}", expect=200).json
    numbers = [r["lot_number"] for page in (first, second, third) for r in page["items"]]
    assert numbers == ["L0", "L1", "L2", "L3", "L4"] and third["next"] is None
    assert api.get("/api/v1/stock?cursor=%%%", expect=422).json["error"]["code"] == "bad_cursor"
