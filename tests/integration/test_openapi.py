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


OPERATIONS = ("get", "post", "put", "patch", "delete")


def _operations(spec: dict) -> list[tuple[str, str, dict]]:
    return [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()
            if method in OPERATIONS]


def test_every_operation_documents_its_errors_in_the_error_shape(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    error = {"$ref": "#/components/schemas/Error"}
    missing = []
    for path, method, op in _operations(spec):
        codes = {"400", "404", "422"}
        if op.get("security") != []:
            codes |= {"401", "403"}
        if method != "get":
            codes.add("409")
        if method in ("post", "put", "patch"):
            codes |= {"413", "415"}
        for code in sorted(codes):
            answer = _resolve(op["responses"].get(code), spec) if code in op["responses"] else None
            if answer is None or answer["content"]["application/json"]["schema"] != _resolve(error, spec):
                missing.append(f"{method.upper()} {path} {code}")
    assert missing == []


def test_csv_answers_are_documented(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    with_format = [(path, op) for path, method, op in _operations(spec)
                   if any(p["name"] == "format" for p in op.get("parameters", []))]
    assert len(with_format) == 3
    for path, op in with_format:
        assert set(op["responses"]["200"]["content"]) == {"application/json", "text/csv"}, path


def _request_schemas(spec: dict) -> list[tuple[str, dict]]:
    """(where, schema) of every query parameter and every request body property, nested ones too."""
    found: list[tuple[str, dict]] = []

    def walk(where: str, schema: dict) -> None:
        schema = _resolve(schema, spec)
        if schema.get("type") == "object":
            for name, prop in schema.get("properties", {}).items():
                walk(f"{where}.{name}", prop)
        elif schema.get("type") == "array":
            walk(f"{where}[]", schema["items"])
        else:
            found.append((where, schema))

    for path, method, op in _operations(spec):
        for p in op.get("parameters", []):
            if p["in"] == "query":
                found.append((f"{method.upper()} {path} ?{p['name']}", _resolve(p["schema"], spec)))
        body = op.get("requestBody", {}).get("content", {}).get("application/json")
        if body:
            walk(f"{method.upper()} {path} body", body["schema"])
    return found


def test_every_value_a_request_gives_has_the_bounds_the_server_checks(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    unbounded = []
    for where, schema in _request_schemas(spec):
        kind = schema.get("type")
        if kind in ("integer", "number") and not (("minimum" in schema and "maximum" in schema) or "enum" in schema):
            unbounded.append(where)
        if kind == "string" and not {"maxLength", "enum", "pattern", "format"} & set(schema):
            unbounded.append(where)
    assert unbounded == [], unbounded


def test_a_cursor_is_documented_as_the_opaque_next(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    cursors = [p for _, _, op in _operations(spec) for p in op.get("parameters", []) if p["name"] == "cursor"]
    assert len(cursors) >= 10
    assert all(p["schema"]["pattern"] == "^[A-Za-z0-9_-]{0,500}$" and "opaque" in p["description"] for p in cursors)
    assert not [p for _, _, op in _operations(spec) for p in op.get("parameters", [])
                if p["in"] == "query" and p["schema"].get("nullable")]  # a query string cannot send null


def test_the_document_says_how_times_and_types_are_read(client):
    description = " ".join(client.get("/api/v1/openapi.json").get_json()["info"]["description"].split())
    assert "site's wall-clock" in description and "site's midnight" in description and "415" in description
