"""Completing a ticket answers its checklist exactly; pass/fail follows from the results (issue point 5)."""

from __future__ import annotations

from collections.abc import Callable

from inventory_service.db.uow import Database
from inventory_service.services import maintenance
from inventory_service.services.context import Context
from tests.conftest import Api
from tests.integration.test_openapi import assert_matches_spec
from tests.support.clock import FrozenClock

BOWIE_DICK = {"item": "Bowie-Dick test"}
DOOR_SEAL = {"item": "Door seal", "kind": "pass_fail"}


def open_ticket(api: Api, db: Database, ctx: Callable[..., Context], clock: FrozenClock, *checklist: dict) -> dict:
    """An autoclave with a daily plan of `checklist`, and the plan's ticket, opened a day later."""
    api.post("/api/v1/equipment", {"id": "ac-1", "kind": "autoclave", "name": "Autoclave 1"}, role="manager",
             expect=201)
    api.post("/api/v1/maintenance-plans", {"equipment_id": "ac-1", "name": "Daily checks", "every": 1,
                                           "checklist": list(checklist)}, role="manager", expect=201)
    clock.advance(days=1)
    with db.unit_of_work() as uow:
        [ticket] = maintenance.open_due_tickets(uow, ctx("job", "job"))
        uow.commit()
        return maintenance.ticket_to_dict(ticket)


def done(api: Api, ticket_id: int, expect: int, **body: object) -> dict:
    return api.post(f"/api/v1/tickets/{ticket_id}", {"action": "done", **body}, role="staff", expect=expect).json


def test_the_misspelt_item_of_the_issue_is_refused_naming_both(api: Api, db, ctx, clock):
    t = open_ticket(api, db, ctx, clock, BOWIE_DICK)
    r = api.post(f"/api/v1/tickets/{t['id']}", {"action": "done", "passed": True,
                                                 "results": [{"item": "Bowie-Dik test", "result": "pass"}]},
                 role="staff", expect=422)
    error = r.json["error"]
    assert error["code"] == "checklist_mismatch"
    assert error["details"] == {"missing": ["Bowie-Dick test"], "unknown": ["Bowie-Dik test"], "duplicated": []}
    assert "'Bowie-Dick test'" in error["message"] and "'Bowie-Dik test'" in error["message"]
    spec = api.client.get("/api/v1/openapi.json").get_json()
    assert_matches_spec(spec, "/api/v1/tickets/{ticket_id}", "post", r)
    after = api.get(f"/api/v1/tickets/{t['id']}", expect=200).json
    assert (after["status"], after["passed"], after["results"]) == ("open", None, [])
    [plan] = api.get("/api/v1/maintenance-plans", expect=200).json["items"]
    assert plan["next_due_date"] == t["due_date"].isoformat()  # nothing moved on


def test_case_and_spacing_aside_the_name_must_be_the_checklists(api: Api, db, ctx, clock):
    t = open_ticket(api, db, ctx, clock, BOWIE_DICK, DOOR_SEAL)
    closed = done(api, t["id"], 200, results=[{"item": " door   SEAL", "result": "pass"},
                                              {"item": "bowie-dick TEST", "result": "pass", "note": "uniform"}])
    assert (closed["status"], closed["passed"]) == ("done", True)
    assert closed["results"] == [{"item": "Bowie-Dick test", "result": "pass", "note": "uniform"},
                                 {"item": "Door seal", "result": "pass", "note": None}]


def test_every_checklist_item_needs_a_result(api: Api, db, ctx, clock):
    t = open_ticket(api, db, ctx, clock, BOWIE_DICK, DOOR_SEAL)
    error = done(api, t["id"], 422, results=[{"item": "Door seal", "result": "pass"}])["error"]
    assert error["details"] == {"missing": ["Bowie-Dick test"], "unknown": [], "duplicated": []}
    error = done(api, t["id"], 422)["error"]  # no results at all
    assert error["details"]["missing"] == ["Bowie-Dick test", "Door seal"]


def test_an_item_answered_twice_is_refused(api: Api, db, ctx, clock):
    t = open_ticket(api, db, ctx, clock, BOWIE_DICK, DOOR_SEAL)
    error = done(api, t["id"], 422, results=[{"item": "Bowie-Dick test", "result": "pass"},
                                             {"item": "Door seal", "result": "fail"},
                                             {"item": "door seal", "result": "pass"}])["error"]
    assert error["details"] == {"missing": [], "unknown": [], "duplicated": ["door seal"]}


def test_passed_follows_from_the_results_and_a_fail_takes_the_device_out(api: Api, db, ctx, clock):
    t = open_ticket(api, db, ctx, clock, BOWIE_DICK, DOOR_SEAL)
    closed = done(api, t["id"], 200, results=[{"item": "bowie-dick  test", "result": "fail"},
                                              {"item": "Door seal", "result": "n/a"}])
    assert closed["passed"] is False
    eq = api.get("/api/v1/equipment/ac-1", expect=200).json
    assert eq["status"] == "out_of_service"
    assert eq["history"][-1]["reason"] == "Daily checks failed (Bowie-Dick test)"  # the checklist's spelling
    [corrective] = api.get("/api/v1/tickets?status=open", expect=200).json["items"]
    assert corrective["kind"] == "corrective"


def test_n_a_does_not_fail_a_ticket(api: Api, db, ctx, clock):
    t = open_ticket(api, db, ctx, clock, BOWIE_DICK, DOOR_SEAL)
    closed = done(api, t["id"], 200, results=[{"item": "Bowie-Dick test", "result": "pass"},
                                              {"item": "Door seal", "result": "n/a"}])
    assert closed["passed"] is True
    assert api.get("/api/v1/equipment/ac-1", expect=200).json["status"] == "in_service"


def test_a_passed_that_contradicts_the_results_is_refused(api: Api, db, ctx, clock):
    t = open_ticket(api, db, ctx, clock, BOWIE_DICK)
    error = done(api, t["id"], 422, passed=True, results=[{"item": "Bowie-Dick test", "result": "fail"}])["error"]
    assert error["code"] == "passed_contradicts_results" and "'Bowie-Dick test'" in error["message"]
    error = done(api, t["id"], 422, passed=False, results=[{"item": "Bowie-Dick test", "result": "pass"}])["error"]
    assert error["code"] == "passed_contradicts_results"
    assert done(api, t["id"], 200, passed=False, results=[{"item": "Bowie-Dick test", "result": "fail"}])[
        "passed"] is False


def test_the_ticket_keeps_the_checklist_it_opened_with(api: Api, db, ctx, clock):
    t = open_ticket(api, db, ctx, clock, BOWIE_DICK)
    [plan] = api.get("/api/v1/maintenance-plans", expect=200).json["items"]
    api.call("PATCH", f"/api/v1/maintenance-plans/{plan['id']}", json={"checklist": [{"item": "Leak test"}]},
             role="manager", expect=200)
    error = done(api, t["id"], 422, results=[{"item": "Leak test", "result": "pass"}])["error"]
    assert error["details"] == {"missing": ["Bowie-Dick test"], "unknown": ["Leak test"], "duplicated": []}
    done(api, t["id"], 200, results=[{"item": "Bowie-Dick test", "result": "pass"}])


def test_without_a_checklist_passed_defaults_to_true_and_results_are_free(api: Api, db, ctx, clock):
    t = open_ticket(api, db, ctx, clock)
    assert done(api, t["id"], 200, notes="all fine")["passed"] is True
    clock.advance(days=1)
    with db.unit_of_work() as uow:
        [second] = maintenance.open_due_tickets(uow, ctx("job", "job"))
        uow.commit()
        second_id = second.id
    error = done(api, second_id, 422, passed=True, results=[{"item": "Drain", "result": "fail"}])["error"]
    assert error["code"] == "passed_contradicts_results"
    assert done(api, second_id, 422, results=[{"item": "Drain", "result": "pass"},
                                              {"item": "DRAIN", "result": "pass"}])["error"]["details"][
        "duplicated"] == ["DRAIN"]
    assert done(api, second_id, 200, passed=False, notes="pump noisy")["passed"] is False
    assert api.get("/api/v1/equipment/ac-1", expect=200).json["status"] == "out_of_service"


def test_a_checklist_with_a_repeated_or_blank_item_is_refused(api: Api):
    api.post("/api/v1/equipment", {"id": "ac-1", "kind": "autoclave", "name": "Autoclave 1"}, role="manager",
             expect=201)
    plan = {"equipment_id": "ac-1", "name": "Weekly", "every": 1, "unit": "weeks"}
    r = api.post("/api/v1/maintenance-plans", {**plan, "checklist": [{"item": "Spore test"}, {"item": "spore  TEST"}]},
                 role="manager", expect=422)
    assert r.json["error"]["code"] == "bad_checklist" and r.json["error"]["details"]["duplicated"] == ["spore  TEST"]
    r = api.post("/api/v1/maintenance-plans", {**plan, "checklist": [{"item": "   "}]}, role="manager", expect=422)
    assert r.json["error"]["code"] == "bad_checklist"
    api.post("/api/v1/maintenance-plans", {**plan, "checklist": [{"item": ""}]}, role="manager", expect=422)


def test_a_result_is_checked_at_the_boundary(api: Api, db, ctx, clock):
    t = open_ticket(api, db, ctx, clock, BOWIE_DICK)
    for bad in ([{"item": "Bowie-Dick test", "result": "ok"}], [{"item": "", "result": "pass"}],
                [{"result": "pass"}], ["Bowie-Dick test"], [{"item": 3, "result": "pass"}]):
        assert done(api, t["id"], 422, results=bad)["error"]["code"] in ("validation_failed", "checklist_mismatch")
    assert done(api, t["id"], 422, results=[{"item": "  ", "result": "pass"}])["error"]["code"] == "bad_result"
