"""Items and routing rules change by PATCH, each change kept in their history (issue point 9)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from inventory_service.db.models import ConfigChange
from inventory_service.db.uow import Database
from tests.conftest import Api
from tests.integration.test_openapi import assert_matches_spec
from tests.support.clock import FrozenClock

SYRINGE = "09501101530003"
GAUZE = "04006381333931"
MASK = "00012345600012"


def spec(api: Api) -> dict:
    return api.client.get("/api/v1/openapi.json").get_json()


def patch(api: Api, path: str, body: dict, expect: int, role: str = "manager") -> dict:
    return api.call("PATCH", path, json=body, role=role, expect=expect).json


def history(api: Api, path: str, role: str = "manager") -> list[dict]:
    return api.get(f"{path}/history", role=role, expect=200).json["items"]


def changed(rows: list[dict]) -> list[tuple]:
    return [(r["field"], r["old"], r["new"]) for r in rows]


# -- items ---------------------------------------------------------------------------------------------------

def test_an_item_is_changed_and_each_changed_field_is_on_record(api: Api, clock: FrozenClock):
    item = api.post("/api/v1/items", {"name": "Syringe 5 ml", "gtins": [SYRINGE]}, role="manager", expect=201).json
    path = f"/api/v1/items/{item['id']}"
    clock.advance(hours=1)
    r = api.call("PATCH", path, json={"name": "Syringe 5 ml Luer", "gtins": [SYRINGE, GAUZE], "unit": "each",
                                      "reason": "second supplier"}, role="manager", expect=200)
    assert (r.json["name"], sorted(r.json["gtins"])) == ("Syringe 5 ml Luer", sorted([GAUZE, SYRINGE]))
    assert_matches_spec(spec(api), "/api/v1/items/{item_id}", "patch", r)
    h = api.get(f"{path}/history", role="staff", expect=200)  # any token reads an item's history
    assert_matches_spec(spec(api), "/api/v1/items/{item_id}/history", "get", h)
    created, *rest = h.json["items"]
    assert (created["field"], created["old"], created["new"]["name"]) == ("created", None, "Syringe 5 ml")
    assert changed(rest) == [("name", "Syringe 5 ml", "Syringe 5 ml Luer"),
                             ("gtins", [SYRINGE], sorted([SYRINGE, GAUZE]))]
    assert {(x["changed_by"], x["reason"], x["changed_at"]) for x in rest} == {
        ("manager-token", "second supplier", clock().isoformat())}
    assert api.get(f"/api/v1/items?gtin={GAUZE}", expect=200).json["items"][0]["id"] == item["id"]


def test_gtins_and_hibc_codes_are_replaced_whole_with_the_rules_of_create(api: Api):
    a = api.post("/api/v1/items", {"name": "A", "gtins": [SYRINGE], "sku": "A-1"}, role="manager", expect=201).json
    b = api.post("/api/v1/items", {"name": "B", "gtins": [GAUZE], "sku": "B-1"}, role="manager", expect=201).json
    path = f"/api/v1/items/{a['id']}"
    assert patch(api, path, {"gtins": ["09501101530004"]}, 422)["error"]["code"] == "bad_gtin"
    assert patch(api, path, {"gtins": [MASK, "012345600012"]}, 422)["error"]["code"] == "duplicate_gtin"  # GTIN-12
    assert patch(api, path, {"gtins": [GAUZE]}, 409)["error"]["code"] == "gtin_taken"
    assert patch(api, path, {"sku": "B-1"}, 409)["error"]["code"] == "sku_taken"
    assert patch(api, path, {"hibc_codes": ["A123BJC5D6E71", "a123bjc5d6e71"]}, 422)["error"]["code"] == \
        "duplicate_hibc_code"
    done = patch(api, path, {"gtins": [MASK], "hibc_codes": ["+A123BJC5D6E71"], "sku": None}, 200)
    assert (done["gtins"], done["hibc_codes"], done["sku"]) == ([MASK], ["A123BJC5D6E71"], None)
    assert api.get(f"/api/v1/items?gtin={SYRINGE}", expect=200).json["items"] == []
    assert patch(api, f"/api/v1/items/{b['id']}", {"gtins": [GAUZE, SYRINGE]}, 200)["gtins"] == sorted(
        [GAUZE, SYRINGE])  # a GTIN given up by one item may go to another
    fields = [r["field"] for r in history(api, path)]
    assert fields == ["created", "sku", "gtins", "hibc_codes"]  # refused changes left nothing behind


def test_an_unchanged_field_writes_no_history_and_bad_input_is_422(api: Api):
    item = api.post("/api/v1/items", {"name": "Gauze", "gtins": [GAUZE]}, role="manager", expect=201).json
    path = f"/api/v1/items/{item['id']}"
    patch(api, path, {"name": "Gauze", "gtins": [GAUZE]}, 200)
    patch(api, path, {}, 200)
    assert [r["field"] for r in history(api, path)] == ["created"]
    for bad in ({"name": ""}, {"storage": "cellar"}, {"gtins": "0400"}, {"id": 5}, {"unit": ""}, {"name": None}):
        assert patch(api, path, bad, 422)["error"]["code"] == "validation_failed", bad
    patch(api, "/api/v1/items/999", {"name": "x"}, 404)
    api.get("/api/v1/items/999/history", expect=404)
    assert patch(api, path, {"name": "x"}, 403, role="staff")["error"]["code"] == "forbidden"


def test_history_is_paged_oldest_first_and_kept_per_record(api: Api, db: Database):
    item = api.post("/api/v1/items", {"name": "Name 0"}, role="manager", expect=201).json
    other = api.post("/api/v1/items", {"name": "Other"}, role="manager", expect=201).json
    path = f"/api/v1/items/{item['id']}"
    for i in range(1, 6):
        patch(api, path, {"name": f"Name {i}"}, 200)
    first = api.get(f"{path}/history?limit=4", expect=200).json
    rest = api.get(f"{path}/history?limit=4&cursor={first['next']}", expect=200).json
    names = [r["new"] if r["field"] == "name" else r["new"]["name"] for r in first["items"] + rest["items"]]
    assert names == [f"Name {i}" for i in range(6)] and rest["next"] is None
    assert [r["field"] for r in history(api, f"/api/v1/items/{other['id']}")] == ["created"]
    api.get(f"{path}/history?cursor=garbage", expect=422)
    with db.unit_of_work(write=False) as uow:
        rows = uow.session.scalars(select(ConfigChange).order_by(ConfigChange.id)).all()
    assert {(r.entity, r.entity_id) for r in rows} == {("item", str(item["id"])), ("item", str(other["id"]))}
    assert isinstance(rows[0].changed_at.date(), date)


def test_out_of_range_input_is_refused_not_a_500(api: Api):
    item = api.post("/api/v1/items", {"name": "Gauze"}, role="manager", expect=201).json
    patch(api, f"/api/v1/items/{10**20}", {"name": "x"}, 404)
    api.get(f"/api/v1/items/{2**31 - 1}/history", expect=404)  # the largest id there can be
    api.get(f"/api/v1/items/{2**31}/history", expect=404)
    assert patch(api, f"/api/v1/items/{item['id']}", {"name": "Gauze \ud800"}, 422)["error"]["code"] == \
        "validation_failed"


# -- routing rules -------------------------------------------------------------------------------------------

def test_a_routing_rule_is_changed_and_deactivated_on_record(api: Api):
    rule = api.post("/api/v1/routing-rules", {"name": "stock", "kinds": ["reorder"], "channel": "email",
                                              "recipients": ["manager@clinic.test"]}, role="manager",
                    expect=201).json
    path = f"/api/v1/routing-rules/{rule['id']}"
    patch(api, path, {"recipients": ["manager@clinic.test", "buyer@clinic.test"], "min_severity": "warning"}, 200)
    api.call("DELETE", f"{path}?reason=moved+to+the+CMMS", role="manager", expect=204)
    api.call("DELETE", path, role="manager", expect=204)  # already inactive: nothing more on record
    h = api.get(f"{path}/history", role="manager", expect=200)
    assert_matches_spec(spec(api), "/api/v1/routing-rules/{rule_id}/history", "get", h)
    rows = h.json["items"]
    assert [r["field"] for r in rows] == ["created", "min_severity", "recipients", "active"]
    assert rows[0]["new"]["kinds"] == ["reorder"]
    assert (rows[-1]["old"], rows[-1]["new"], rows[-1]["reason"]) == (True, False, "moved to the CMMS")
    assert api.get(path, role="manager", expect=200).json["active"] is False
    assert api.get("/api/v1/routing-rules", role="manager", expect=200).json["items"] == []
    api.call("DELETE", "/api/v1/routing-rules/999", role="manager", expect=404)
    api.get("/api/v1/routing-rules/999/history", role="manager", expect=404)
