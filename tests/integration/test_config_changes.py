"""Items, maintenance plans and routing rules change by PATCH, each change kept in their history (issue point 9)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import select

from inventory_service.db.models import ConfigChange
from inventory_service.db.uow import Database
from inventory_service.services import maintenance
from inventory_service.services.context import Context
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


# -- maintenance plans ---------------------------------------------------------------------------------------

def autoclave_plan(api: Api, **plan: object) -> dict:
    api.post("/api/v1/equipment", {"id": "ac-1", "kind": "autoclave", "name": "Autoclave 1", "cycles": 100},
             role="manager", expect=201)
    return api.post("/api/v1/maintenance-plans", {"equipment_id": "ac-1", "name": "Service", **plan},
                    role="manager", expect=201).json


def test_a_new_interval_without_a_completed_ticket_keeps_the_next_due_date(api: Api):
    plan = autoclave_plan(api, every=1, unit="weeks")
    path = f"/api/v1/maintenance-plans/{plan['id']}"
    assert plan["next_due_date"] == "2026-03-17"
    r = api.call("PATCH", path, json={"every": 2, "critical": True, "reason": "manufacturer's new schedule"},
                 role="manager", expect=200)
    assert (r.json["every"], r.json["critical"], r.json["next_due_date"]) == (2, True, "2026-03-17")
    assert_matches_spec(spec(api), "/api/v1/maintenance-plans/{plan_id}", "patch", r)
    got = api.get(path, role="staff", expect=200)
    assert got.json == r.json
    assert_matches_spec(spec(api), "/api/v1/maintenance-plans/{plan_id}", "get", got)
    h = api.get(f"{path}/history", expect=200)
    assert_matches_spec(spec(api), "/api/v1/maintenance-plans/{plan_id}/history", "get", h)
    assert changed(h.json["items"][1:]) == [("every", 1, 2), ("critical", False, True)]


def test_a_new_interval_counts_from_the_last_completed_ticket(api: Api, db: Database, ctx: Callable[..., Context],
                                                              clock: FrozenClock):
    plan = autoclave_plan(api, every=1, unit="weeks", anchor="completed")
    clock.advance(days=7)
    with db.unit_of_work() as uow:
        [t] = maintenance.open_due_tickets(uow, ctx("job", "job"))
        uow.commit()
        ticket_id = t.id
    clock.advance(days=2)  # done on 2026-03-19
    api.post(f"/api/v1/tickets/{ticket_id}", {"action": "done"}, role="staff", expect=200)
    path = f"/api/v1/maintenance-plans/{plan['id']}"
    assert api.get(path, expect=200).json["next_due_date"] == "2026-03-26"
    assert patch(api, path, {"every": 1, "unit": "months"}, 200)["next_due_date"] == "2026-04-19"
    assert patch(api, path, {"anchor": "scheduled"}, 200)["next_due_date"] == "2026-04-17"  # from its due date
    assert patch(api, path, {"every": 3, "next_due_date": "2026-05-01"}, 200)["next_due_date"] == "2026-05-01"
    rows = changed(history(api, path))
    assert ("next_due_date", "2026-03-26", "2026-04-19") in rows
    assert ("next_due_date", "2026-04-17", "2026-05-01") in rows


def test_a_plan_is_revalidated_as_a_whole(api: Api):
    plan = autoclave_plan(api, every=1, unit="weeks")
    path = f"/api/v1/maintenance-plans/{plan['id']}"
    assert patch(api, path, {"every": None}, 422)["error"]["code"] == "bad_plan"
    assert patch(api, path, {"next_due_date": None}, 422)["error"]["code"] == "bad_plan"
    assert patch(api, path, {"checklist": [{"item": "Seal"}, {"item": "SEAL"}]}, 422)["error"]["code"] == \
        "bad_checklist"
    for bad in ({"every": 0}, {"unit": "years"}, {"equipment_id": "ac-2"}, {"kind": "calibration"},
                {"next_due_date": "soon"}, {"checklist": [{"item": "x", "kind": "photo"}]}):
        assert patch(api, path, bad, 422)["error"]["code"] == "validation_failed", bad
    usage = patch(api, path, {"every": None, "every_cycles": 40}, 200)
    assert (usage["next_due_date"], usage["next_due_cycle"]) == (None, 140)
    assert patch(api, path, {"every_cycles": 50}, 200)["next_due_cycle"] == 150  # from the same start
    assert patch(api, path, {"active": False}, 200)["active"] is False
    patch(api, "/api/v1/maintenance-plans/999", {"name": "x"}, 404)
    api.get("/api/v1/maintenance-plans/999", expect=404)
    api.get("/api/v1/maintenance-plans/999/history", expect=404)
    assert patch(api, path, {"name": "x"}, 403, role="staff")["error"]["code"] == "forbidden"


def test_a_calibration_plan_follows_its_certificate(api: Api, db: Database, ctx: Callable[..., Context]):
    api.post("/api/v1/equipment", {"id": "ddl-1", "kind": "data_logger", "name": "Fridge logger",
                                   "calibration_expires": "2026-04-20"}, role="manager", expect=201)
    with db.unit_of_work() as uow:
        maintenance.ensure_calibration_plans(uow, ctx("job:maintenance_due", "job"))
        uow.commit()
    [plan] = api.get("/api/v1/maintenance-plans", expect=200).json["items"]
    path = f"/api/v1/maintenance-plans/{plan['id']}"
    assert patch(api, path, {"every": 12, "unit": "months"}, 422)["error"]["code"] == "calibration_plan"
    assert patch(api, path, {"checklist": [{"item": "Certificate filed"}]}, 200)["checklist"] == [
        {"item": "Certificate filed", "kind": "pass_fail"}]
    [created, checklist] = history(api, path)
    assert (created["field"], created["changed_by"], created["new"]["next_due_date"]) == (
        "created", "job:maintenance_due", "2026-03-21")
    assert checklist["field"] == "checklist"


def test_plan_values_that_would_break_date_arithmetic_are_refused(api: Api):
    plan = autoclave_plan(api, every=1)
    api.get(f"/api/v1/maintenance-plans/{10**20}/history", expect=404)
    path = f"/api/v1/maintenance-plans/{plan['id']}"
    for bad in ({"every": 10**6}, {"every_cycles": 10**12}, {"next_due_date": "9999-12-31"},
                {"checklist": [{"item": "\udfff"}]}):
        assert patch(api, path, bad, 422)["error"]["code"] == "validation_failed", bad
    body = {"equipment_id": "ac-1", "name": "Far", "every": 1, "first_due": "9999-12-31"}
    api.post("/api/v1/maintenance-plans", body, role="manager", expect=422)


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
