"""Recalls quarantine the named lots everywhere, raise an alert and report where stock went."""

from __future__ import annotations

from tests.conftest import Api
from tests.integration.conftest import World, receive


def test_a_recall_by_gtin_quarantines_every_location_and_reports_consumption(api: Api, world: World):
    lot = receive(api, world, "BAD1", "2027-01-31", 10)["lot"]["id"]
    receive(api, world, "GOOD", "2027-01-31", 10)
    api.post("/api/v1/stock/transfer", {"item_id": world.item, "location_id": world.stockroom,
                                         "to_location_id": world.clinic, "quantity": 4, "lot_id": lot},
             role="staff", expect=201)
    api.post("/api/v1/stock/consume", {"item_id": world.item, "location_id": world.clinic, "quantity": 1,
                                        "lot_id": lot}, role="staff", expect=201)
    recall = api.post("/api/v1/recalls", {"gtin": "9501101530003", "lot_numbers": ["BAD1", "NOT-HERE"],
                                           "reason": "particulates", "reference": "FDA Z-1234-2026"},
                      role="manager", expect=201).json
    assert recall["unmatched_lot_numbers"] == ["NOT-HERE"]
    report = api.get(f"/api/v1/recalls/{recall['id']}", expect=200).json
    [affected] = report["lots"]
    assert affected["status"] == "recalled"
    assert {(h["location_code"], h["quantity"]) for h in affected["on_hand"]} == {("SR", 6), ("EX1", 3)}
    assert [(c["location_code"], c["quantity"], c["actor"]) for c in affected["consumed"]] == [
        ("EX1", 1, "staff-token")]
    statuses = {(s["lot_number"], s["status"]) for s in api.get("/api/v1/stock", expect=200).json["items"]}
    assert statuses == {("BAD1", "recalled"), ("GOOD", "available")}
    [alert] = api.get("/api/v1/alerts?kind=recall", expect=200).json["items"]
    assert alert["severity"] == "critical" and "BAD1" in alert["subject"]


def test_recalled_stock_can_still_be_disposed(api: Api, world: World):
    lot = receive(api, world, "BAD1", "2027-01-31", 2)["lot"]["id"]
    api.post("/api/v1/recalls", {"item_id": world.item, "lot_numbers": ["BAD1"], "reason": "x"},
             role="manager", expect=201)
    api.post("/api/v1/stock/dispose", {"item_id": world.item, "location_id": world.stockroom, "lot_id": lot,
                                        "quantity": 2, "reason": "returned to manufacturer"},
             role="staff", expect=201)


def test_a_recalled_lot_number_received_later_arrives_recalled(api: Api, world: World):
    api.post("/api/v1/recalls", {"item_id": world.item, "lot_numbers": ["LATE"], "reason": "x"},
             role="manager", expect=201)
    lot = receive(api, world, "LATE", "2027-01-31", 2)["lot"]
    assert lot["status"] == "recalled"


def test_a_recall_needs_exactly_one_of_item_or_gtin(api: Api, world: World):
    r = api.post("/api/v1/recalls", {"lot_numbers": ["X"], "reason": "x"}, role="manager", expect=422)
    assert r.json["error"]["code"] == "bad_recall"
    r = api.post("/api/v1/recalls", {"gtin": "12345678", "lot_numbers": ["X"], "reason": "x"}, role="manager")
    assert r.status_code == 422 and r.json["error"]["code"] == "bad_gtin"
