"""The OpenAPI document covers every route, and real answers validate against it."""

from __future__ import annotations

import re
from typing import Any

from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from tests.conftest import Api
from tests.integration.conftest import World, receive


def _resolve(node: Any, spec: dict) -> Any:
    """Inline every local $ref so a schema can be validated on its own."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = spec
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return _resolve(target, spec)
        return {k: _resolve(v, spec) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, spec) for v in node]
    return node


def assert_matches_spec(spec: dict, path: str, method: str, response: Any) -> None:
    op = spec["paths"][path][method]
    documented = _resolve(op["responses"].get(str(response.status_code)) or op["responses"]["default"], spec)
    schema = documented["content"]["application/json"]["schema"]
    OAS30Validator(schema).validate(response.get_json())


def test_the_document_is_valid_openapi(client):
    validate(client.get("/api/v1/openapi.json").get_json())


def test_every_registered_route_is_documented(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.endpoint.startswith("api-docs."):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if method.lower() not in spec["paths"].get(path, {}):
                missing.append(f"{method} {path}")
    assert missing == []
    assert len(spec["paths"]) >= 20


def test_main_answers_validate_against_the_document(api: Api, world: World):
    spec = api.client.get("/api/v1/openapi.json").get_json()
    lot = receive(api, world, "L1", "2027-01-31", 10)["lot"]["id"]
    api.post("/api/v1/par-levels", {"item_id": world.item, "location_id": world.stockroom, "reorder_point": 20,
                                     "order_up_to": 50}, role="manager", expect=201)
    checks = [
        ("/api/v1/health", "get", api.get("/api/v1/health", expect=200)),
        ("/api/v1/items", "get", api.get("/api/v1/items", expect=200)),
        ("/api/v1/locations", "get", api.get("/api/v1/locations", expect=200)),
        ("/api/v1/stock/receive", "post", api.post("/api/v1/stock/receive", {
            "item_id": world.item, "location_id": world.stockroom, "lot_number": "L2", "expiry": "2027-02-28",
            "quantity": 1}, role="staff", expect=201)),
        ("/api/v1/stock/consume", "post", api.post("/api/v1/stock/consume", {
            "item_id": world.item, "location_id": world.stockroom, "quantity": 2}, role="staff", expect=201)),
        ("/api/v1/stock/consume", "post", api.post("/api/v1/stock/consume", {
            "item_id": world.item, "location_id": world.stockroom, "quantity": 200}, role="staff", expect=409)),
        ("/api/v1/stock/count", "post", api.post("/api/v1/stock/count", {
            "item_id": world.item, "location_id": world.stockroom, "lot_id": lot, "counted_quantity": 8},
            role="staff", expect=201)),
        ("/api/v1/stock", "get", api.get("/api/v1/stock", expect=200)),
        ("/api/v1/lots", "get", api.get("/api/v1/lots?expiring_within_days=400", expect=200)),
        ("/api/v1/movements", "get", api.get("/api/v1/movements", expect=200)),
        ("/api/v1/reorder-suggestions", "get", api.get("/api/v1/reorder-suggestions", expect=200)),
        ("/api/v1/alerts", "get", api.get("/api/v1/alerts", expect=200)),
        ("/api/v1/recalls", "post", api.post("/api/v1/recalls", {
            "item_id": world.item, "lot_numbers": ["L1"], "reason": "x"}, role="manager", expect=201)),
        ("/api/v1/items", "post", api.post("/api/v1/items", {"name": ""}, role="manager", expect=422)),
    ]
    for path, method, response in checks:
        assert_matches_spec(spec, path, method, response)
