"""A manager creates, lists and revokes staff tokens, never manager or admin ones (issue point 9)."""

from __future__ import annotations

from sqlalchemy import func, select

from inventory_service.db.models import ApiToken
from inventory_service.db.uow import Database
from tests.conftest import Api
from tests.integration.test_openapi import assert_matches_spec

TOKENS = "/api/v1/tokens"


def test_a_manager_creates_a_staff_token_that_works(api: Api):
    r = api.post(TOKENS, {"name": "stockroom-tablet", "role": "staff"}, role="manager", expect=201)
    assert_matches_spec(api.client.get("/api/v1/openapi.json").get_json(), TOKENS, "post", r)
    header = {"Authorization": f"Bearer {r.json['token']}"}
    assert api.client.get("/api/v1/items", headers=header).status_code == 200
    assert api.client.post("/api/v1/items", json={"name": "x"}, headers=header).status_code == 403  # staff only


def test_a_manager_cannot_create_manager_or_admin_tokens(api: Api, db: Database):
    for wanted in ("manager", "admin"):
        r = api.post(TOKENS, {"name": f"new-{wanted}", "role": wanted}, role="manager", expect=403)
        error = r.json["error"]
        assert error["code"] == "forbidden"
        assert error["message"] == f"a manager can create staff tokens only; a {wanted} token needs an admin"
        assert_matches_spec(api.client.get("/api/v1/openapi.json").get_json(), TOKENS, "post", r)
    with db.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.name.like("new-%"))) == 0


def test_a_manager_lists_staff_tokens_only_and_an_admin_all(api: Api):
    api.post(TOKENS, {"name": "front-desk", "role": "staff"}, role="manager", expect=201)
    r = api.get(TOKENS, role="manager", expect=200)
    assert_matches_spec(api.client.get("/api/v1/openapi.json").get_json(), TOKENS, "get", r)
    assert sorted((t["name"], t["role"]) for t in r.json["items"]) == [("front-desk", "staff"),
                                                                        ("staff-token", "staff")]
    assert {t["role"] for t in api.get(TOKENS, role="admin", expect=200).json["items"]} == {"staff", "manager",
                                                                                            "admin"}


def test_a_manager_revokes_staff_tokens_but_no_others(api: Api):
    made = api.post(TOKENS, {"name": "front-desk", "role": "staff"}, role="manager", expect=201).json
    revoked = api.call("DELETE", f"{TOKENS}/{made['id']}", role="manager", expect=200).json
    assert revoked["revoked_at"] is not None
    assert api.client.get("/api/v1/items", headers={"Authorization": f"Bearer {made['token']}"}).status_code == 401
    everyone = {t["role"]: t["id"] for t in api.get(TOKENS, role="admin", expect=200).json["items"]
                if t["name"].endswith("-token")}
    for other in ("manager", "admin"):
        error = api.call("DELETE", f"{TOKENS}/{everyone[other]}", role="manager", expect=403).json["error"]
        assert error["code"] == "forbidden" and "revoke staff tokens only" in error["message"]
    assert api.get("/api/v1/items", role="admin", expect=200)  # the admin token still works
    api.call("DELETE", f"{TOKENS}/999", role="manager", expect=404)


def test_staff_manage_no_tokens_and_an_admin_any(api: Api):
    for method, path in (("GET", TOKENS), ("POST", TOKENS), ("DELETE", f"{TOKENS}/1")):
        r = api.call(method, path, json={"name": "x", "role": "staff"}, role="staff", expect=403)
        assert r.json["error"]["code"] == "forbidden"
    made = api.post(TOKENS, {"name": "deputy", "role": "manager"}, role="admin", expect=201).json
    api.call("DELETE", f"{TOKENS}/{made['id']}", role="admin", expect=200)
