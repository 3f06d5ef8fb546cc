"""Input no database could take is refused at the boundary, never a 500."""

from __future__ import annotations

import pytest
from flask import request
from sqlalchemy import update

from inventory_service.api.boundary import accepts
from inventory_service.db.models import Balance
from tests.conftest import Api
from tests.integration.conftest import World, receive


def test_an_id_larger_than_an_integer_column_is_a_404(api: Api):
    for path in ("/api/v1/items/99999999999999999999", f"/api/v1/items/{2**31}", f"/api/v1/locations/{2**40}"):
        r = api.get(path, expect=404)
        assert r.json["error"]["code"] == "not_found"
    assert api.get(f"/api/v1/items/{2**31 - 1}", expect=404).json["error"]["code"] == "item_not_found"


def test_text_with_a_lone_surrogate_is_a_422(api: Api):
    r = api.post("/api/v1/items", {"name": "Syringe \ud800"}, role="manager", expect=422)
    assert r.json["error"]["code"] == "validation_failed"
    api.post("/api/v1/items", {"name": "Syringe", "gtins": ["\udfff"]}, role="manager", expect=422)
    assert api.get("/api/v1/items?gtin=%ED%A0%80").status_code < 500  # the URL decoder replaces bad UTF-8
    assert api.post("/api/v1/items", {"name": "Spritze für Kinder"}, role="manager", expect=201)


# Bounds: ids beyond the id column are a 404 in a path; any value beyond what the document states is
# a 422 naming the field, in a query or a body.

def test_a_huge_id_in_any_path_is_a_404(api: Api):
    assert api.get("/api/v1/recalls/294795718829129171694320720281600", expect=404)
    api.post("/api/v1/excursions/3677603253185531835580416/dispositions", {"lot_id": 1, "disposition": "discard"},
             role="manager", expect=404)
    assert api.get("/api/v1/equipment/ac%001", expect=404).json["error"]["code"] == "not_found"  # NUL in a path


@pytest.mark.parametrize(("path", "field"), [
    ("/api/v1/lots?expiring_within_days=1152921504606846977", "expiring_within_days"),
    ("/api/v1/lots?expiring_within_days=36501", "expiring_within_days"),
    ("/api/v1/alarms?storage_unit_id=661362840430390273514802249728", "storage_unit_id"),
    ("/api/v1/stock?item_id=2147483648", "item_id"),
    ("/api/v1/scans?after_id=-1", "after_id"),
    ("/api/v1/items?limit=1.5", "limit"),
    ("/api/v1/items?limit=abc", "limit"),
    ("/api/v1/items?limit=1_0", "limit"),
    ("/api/v1/alarms?active=1", "active"),
    ("/api/v1/alerts?unrouted=yes", "unrouted"),
])
def test_a_query_value_out_of_range_or_type_is_a_422_naming_it(api: Api, path: str, field: str):
    error = api.get(path, expect=422).json["error"]
    assert (error["code"], list(error["details"]["query"])) == ("validation_failed", [field])


def test_a_query_boolean_is_true_or_false(api: Api):
    api.get("/api/v1/alarms?active=true", expect=200)
    api.get("/api/v1/alarms?active=false", expect=200)


def _body_error(api: Api, path: str, body: dict, role: str = "manager") -> dict:
    error = api.post(path, body, role=role, expect=422).json["error"]
    assert error["code"] == "validation_failed", error
    return error["details"]["json"]


def test_a_body_value_out_of_range_is_a_422_naming_it(api: Api, world: World):
    lot = receive(api, world, "L1", "2027-01-31", 5)["lot"]["id"]
    count = {"item_id": world.item, "location_id": world.stockroom, "lot_id": lot}
    assert list(_body_error(api, "/api/v1/stock/count", {**count, "counted_quantity": 198208564932083160281520275456},
                            role="staff")) == ["counted_quantity"]
    assert list(_body_error(api, "/api/v1/stock/receive", {
        "item_id": world.item, "location_id": world.stockroom, "lot_number": "L2", "expiry": "2027-01-31",
        "quantity": 1_000_001}, role="staff")) == ["quantity"]
    assert list(_body_error(api, "/api/v1/stock/receive", {
        "item_id": 4797052082434048262144, "location_id": world.stockroom, "lot_number": "L2",
        "expiry": "9999-12-31", "quantity": 1}, role="staff")) == ["item_id", "expiry"]
    assert list(_body_error(api, "/api/v1/storage-units", {"name": "F", "kind": "freezer", "min_c": -1e300})) == [
        "min_c"]
    assert list(_body_error(api, "/api/v1/routing-rules", {"channel": "mqtt", "renotify_min": 10**12})) == [
        "renotify_min"]
    assert list(_body_error(api, "/api/v1/equipment", {"id": "ac-1", "kind": "autoclave", "name": "A",
                                                       "serial": "S" * 101})) == ["serial"]


# Strict types, from the schemas' base class: the same for every field of every schema.

@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/par-levels", {"reorder_point": 1, "order_up_to": 2, "lead_time_days": 2.589e-42}, "lead_time_days"),
    ("/api/v1/par-levels", {"reorder_point": 1, "order_up_to": 2, "lead_time_days": 2.0}, "lead_time_days"),
    ("/api/v1/par-levels", {"reorder_point": "1", "order_up_to": 2}, "reorder_point"),
    ("/api/v1/par-levels", {"reorder_point": True, "order_up_to": 2}, "reorder_point"),
    ("/api/v1/routing-rules", {"channel": "mqtt", "location_id": 2.589e-42}, "location_id"),
    ("/api/v1/storage-units", {"name": "F", "kind": "freezer", "max_c": "8.0"}, "max_c"),
    ("/api/v1/storage-units", {"name": "F", "kind": "freezer", "max_c": False}, "max_c"),
    ("/api/v1/maintenance-plans", {"equipment_id": "ac-1", "name": "S", "every": 7,
                                   "out_of_service_when_overdue": 0}, "out_of_service_when_overdue"),
    ("/api/v1/maintenance-plans", {"equipment_id": "ac-1", "name": "S", "every": 7, "critical": "true"}, "critical"),
    ("/api/v1/items", {"name": "Syringe\x00"}, "name"),
])
def test_a_value_of_the_wrong_json_type_is_a_422_naming_it(api: Api, world: World, path: str, body: dict,
                                                            field: str):
    if path == "/api/v1/par-levels":
        body = {"item_id": world.item, "location_id": world.stockroom, **body}
    assert list(_body_error(api, path, body)) == [field]


def test_a_nested_value_of_the_wrong_type_is_named_where_it_is(api: Api):
    details = _body_error(api, "/api/v1/storage-units", {"name": "F", "kind": "refrigerator", "alarm_rules": [
        {"kind": "high", "mode": "consecutive", "delay_min": 30, "inclusive": 0}]})
    assert details == {"alarm_rules": {"0": {"inclusive": ["Not a valid boolean."]}}}


def test_nothing_refused_was_stored(api: Api, world: World):
    test_a_body_value_out_of_range_is_a_422_naming_it(api, world)
    assert api.get("/api/v1/routing-rules", expect=200).json["items"] == []
    assert api.get("/api/v1/par-levels", expect=200).json["items"] == []


def test_a_balance_cannot_grow_past_its_column(api: Api, world: World, db):
    lot = receive(api, world, "L1", "2027-01-31", 5)["lot"]["id"]
    with db.unit_of_work() as uow:
        uow.session.execute(update(Balance).where(Balance.lot_id == lot).values(quantity=2**31 - 10))
        uow.commit()
    body = {"item_id": world.item, "location_id": world.stockroom, "lot_number": "L1", "expiry": "2027-01-31",
            "quantity": 10}
    r = api.post("/api/v1/stock/receive", body, role="staff", expect=409).json["error"]
    assert (r["code"], r["details"]["max"]) == ("balance_too_large", 2**31 - 1)
    api.post("/api/v1/stock/receive", {**body, "quantity": 9}, role="staff", expect=201)


# The body itself: JSON or 415, valid JSON or 400 with where, no larger than the limit or 413; a 405
# says which methods there are.

def test_a_body_that_is_not_declared_json_is_a_415(api: Api):
    body = b'{"name": "Syringe"}'
    for headers in ({}, {"Content-Type": "text/plain"}, {"Content-Type": "application/x-www-form-urlencoded"}):
        r = api.call("POST", "/api/v1/items", data=body, headers=headers, role="manager", expect=415)
        assert r.json["error"]["code"] == "unsupported_media_type" and r.json["error"]["details"]["accepted"] == [
            "application/json"]
    assert api.call("POST", "/api/v1/items", data=body, headers={"Content-Type": "application/json; charset=utf-8"},
                    role="manager", expect=201)
    missing = api.call("POST", "/api/v1/items", role="manager", expect=422).json["error"]  # no body at all
    assert missing["details"]["json"] == {"name": ["Missing data for required field."]}


@pytest.mark.parametrize(("raw", "line", "column"), [
    (b'{"name": "Syringe",}', 1, 20),
    (b'{\n  "name": ', 2, 11),
    (b'{"name": NaN}', 1, 10),
    (b'{"name": "Spr\xffitze"}', 1, 14),
])
def test_invalid_json_is_a_400_that_says_where(api: Api, raw: bytes, line: int, column: int):
    r = api.call("POST", "/api/v1/items", data=raw, headers={"Content-Type": "application/json"}, role="manager",
                 expect=400).json["error"]
    assert r["code"] == "invalid_json"
    assert (r["details"]["line"], r["details"]["column"]) == (line, column), r
    assert f"line {line} column {column}" in r["message"]


def test_a_405_carries_allow(api: Api):
    r = api.call("DELETE", "/api/v1/items", expect=405)
    assert r.json["error"]["code"] == "method_not_allowed"
    assert set(r.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}


def test_a_body_over_the_limit_is_a_413_in_the_error_shape(app, api: Api):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    r = api.post("/api/v1/items", {"name": "x" * 2000}, role="manager", expect=413)
    assert r.json["error"]["code"] == "body_too_large"


def test_a_view_can_take_other_content_types(app, api: Api):
    """`@accepts` is how an upload (a logger's file) says what it takes instead of JSON."""
    @accepts("text/plain")
    def upload() -> tuple[str, int]:
        return request.get_data(as_text=True), 201

    app.add_url_rule("/api/v1/_upload", "upload", upload, methods=["POST"])
    r = api.call("POST", "/api/v1/_upload", data=b"ts,temp\n", headers={"Content-Type": "text/plain"}, expect=201)
    assert r.data == b"ts,temp\n"
    assert api.call("POST", "/api/v1/_upload", json={"a": 1}, expect=415).json["error"]["details"]["accepted"] == [
        "text/plain"]


def test_a_schema_cannot_read_times_another_way():
    """The one DateTime (site zone for a zone-less time, site midnight for a date) is enforced by the base."""
    from marshmallow import fields

    from inventory_service.api.schemas.common import DateTime, Strict

    class Plain(Strict):
        at = fields.DateTime()

    class Listed(Strict):
        at = fields.List(fields.Date())

    class Ours(Strict):
        at = DateTime()

    for schema in (Plain, Listed):
        with pytest.raises(TypeError, match=r"use schemas\.common\.DateTime/Date"):
            schema()
    assert Ours().load({"at": "2026-12-07"})["at"].isoformat() == "2026-12-07T00:00:00+00:00"  # no app: UTC
