"""Expired stock is never received in silence (clock: 2026-03-10 15:00 UTC, New York).

The walkthrough: a label whose (17) expiry was 7 days past, scanned in receive mode, was applied with
no warning and the daily digest said "expiring within 30 days: 0" with 7 expired units on the shelf.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from inventory_service.db.uow import Database
from inventory_service.services import digest
from inventory_service.services.context import Context
from tests.conftest import Api
from tests.integration.conftest import World, receive, receive_then_age
from tests.support.clock import FrozenClock

GTIN = "09501101530003"


def label(lot: str, expiry: str, qty: int = 1) -> str:
    return f"]d201{GTIN}17{expiry}10{lot}\x1d30{qty}"


def body(world: World, lot: str, expiry: str, qty: int = 7, **extra: Any) -> dict[str, Any]:
    return {"item_id": world.item, "location_id": world.stockroom, "lot_number": lot, "expiry": expiry,
            "quantity": qty, **extra}


def test_a_label_seven_days_past_its_expiry_is_rejected_at_the_station(scan, api: Api, world: World):
    s = scan(label("OLD7", "260303", 7))
    assert (s["outcome"], s["reason"]) == ("rejected", "lot_expired")
    assert "do not receive" in s["message"]
    assert api.get(f"/api/v1/stock?location_id={world.stockroom}", expect=200).json["items"] == []
    assert api.get("/api/v1/lots", expect=200).json["items"] == []  # no lot was created for it


def test_a_label_without_expiry_of_an_expired_lot_is_rejected_too(scan, api: Api, world: World, clock: FrozenClock):
    receive_then_age(api, world, clock, "AGED", "2026-03-05", 2)
    s = scan(f"]d201{GTIN}10AGED")
    assert (s["outcome"], s["reason"]) == ("rejected", "lot_expired")


def test_a_lot_expiring_within_the_warning_days_is_applied_with_a_warning(scan, api: Api, world: World):
    s = scan(label("SOON", "260320"))
    assert (s["outcome"], s["warnings"]) == ("applied", ["expires_soon:2026-03-20"])
    later = scan(label("LATER", "260601"))
    assert (later["outcome"], later["warnings"]) == ("applied", [])


def test_the_api_refuses_expired_stock_and_warns_of_stock_expiring_soon(api: Api, world: World):
    refused = api.post("/api/v1/stock/receive", body(world, "OLD7", "2026-03-03"), role="staff", expect=409).json
    assert refused["error"]["code"] == "lot_expired"
    soon = api.post("/api/v1/stock/receive", body(world, "SOON", "2026-04-09"), role="staff", expect=201).json
    assert soon["warnings"] == ["expires_soon:2026-04-09"]
    later = api.post("/api/v1/stock/receive", body(world, "LATER", "2026-04-10"), role="staff", expect=201).json
    assert later["warnings"] == []


def test_a_manager_may_receive_expired_stock_into_quarantine_with_a_reason(api: Api, world: World):
    quarantine = body(world, "OLD7", "2026-03-03", quarantine=True, reason="for return to the vendor")
    api.post("/api/v1/stock/receive", quarantine, role="staff", expect=403)
    api.post("/api/v1/stock/receive", {**quarantine, "reason": None}, role="manager", expect=422)
    out = api.post("/api/v1/stock/receive", quarantine, role="manager", expect=201).json
    assert (out["lot"]["status"], out["movements"][0]["reason"]) == (
        "quarantine", "into quarantine: for return to the vendor")
    consume = {"item_id": world.item, "location_id": world.stockroom, "quantity": 1, "lot_id": out["lot"]["id"]}
    assert api.post("/api/v1/stock/consume", consume, role="staff", expect=409).json["error"]["code"] == \
        "lot_unavailable"
    not_expired = body(world, "FINE", "2027-01-31", quarantine=True, reason="damaged")
    assert api.post("/api/v1/stock/receive", not_expired, role="manager", expect=422).json["error"]["code"] == \
        "not_expired"


def test_the_digest_lists_expired_stock_on_hand(api: Api, world: World, db: Database, clock: FrozenClock,
                                                ctx: Callable[..., Context]):
    receive_then_age(api, world, clock, "OLD7", "2026-03-03", 7)
    receive(api, world, "SOON", "2026-03-20", 2)
    with db.unit_of_work(write=False) as uow:
        text = digest.build(uow, ctx("job", "job"))
    assert "Expired stock still on hand: 7 units in 1 place(s)" in text
    assert "Syringe 5 ml lot OLD7: 7 at SR, expired 2026-03-03" in text
    assert "Stock expiring within 30 days: 2 units in 1 place(s)" in text
    assert "Syringe 5 ml lot SOON: 2 at SR, expires 2026-03-20" in text
