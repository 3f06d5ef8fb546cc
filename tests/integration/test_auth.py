"""Tokens: hashed at rest, shown once, roles enforced, revocable; errors in the one shape."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from inventory_service.db.models import ApiToken
from inventory_service.db.uow import Database
from tests.conftest import Api

WRITES = [
    ("/api/v1/stock/consume", "staff"),
    ("/api/v1/stock/receive", "staff"),
    ("/api/v1/items", "manager"),
    ("/api/v1/locations", "manager"),
    ("/api/v1/par-levels", "manager"),
    ("/api/v1/recalls", "manager"),
    ("/api/v1/alerts/1/ack", "manager"),
    ("/api/v1/tokens", "manager"),  # a manager creates staff tokens (others: 403 from the service)
]
RANK = ["staff", "manager", "admin"]


def test_every_endpoint_but_health_and_the_spec_needs_a_token(client):
    assert client.get("/api/v1/health").status_code == 200
    assert client.get("/api/v1/openapi.json").status_code == 200
    for path in ("/api/v1/items", "/api/v1/stock", "/api/v1/lots", "/api/v1/alerts", "/api/v1/movements",
                 "/api/v1/reorder-suggestions"):
        r = client.get(path)
        assert r.status_code == 401, path
        assert r.get_json()["error"]["code"] == "unauthorized"
        assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_token_is_401(client):
    r = client.get("/api/v1/items", headers={"Authorization": "Bearer inv_not-a-token"})
    assert r.status_code == 401


@pytest.mark.parametrize(("path", "needed"), WRITES)
def test_writes_need_the_right_role_before_the_body_is_even_read(api: Api, path: str, needed: str):
    for role in RANK:
        r = api.post(path, {"nonsense": True}, role=role)
        if RANK.index(role) < RANK.index(needed):
            assert r.status_code == 403, (path, role)
            assert r.get_json()["error"]["code"] == "forbidden"
        else:
            assert r.status_code in (404, 422), (path, role, r.get_json())


def test_the_database_holds_only_a_hash_of_each_token(api: Api, db: Database, tokens: dict[str, str]):
    with db.unit_of_work(write=False) as uow:
        stored = uow.session.scalars(select(ApiToken.token_hash)).all()
    assert stored and not set(stored) & set(tokens.values())
    assert all(len(h) == 64 for h in stored)


def test_an_admin_creates_a_token_shown_once_and_revokes_it(api: Api):
    created = api.post("/api/v1/tokens", {"name": "front-desk", "role": "staff"}, role="admin", expect=201).json
    secret = created["token"]
    assert secret.startswith("inv_")
    listed = api.get("/api/v1/tokens", role="admin", expect=200).json["items"]
    assert all("token" not in t for t in listed)
    header = {"Authorization": f"Bearer {secret}"}
    assert api.client.get("/api/v1/items", headers=header).status_code == 200
    api.call("DELETE", f"/api/v1/tokens/{created['id']}", role="admin", expect=200)
    assert api.client.get("/api/v1/items", headers=header).status_code == 401


def test_the_cli_prints_the_token_once_and_revokes_by_name(db: Database, db_url: str):
    env = {**os.environ, "INVENTORY_DATABASE_URL": db_url}
    cli = [sys.executable, "-m", "inventory_service.cli", "token"]
    made = subprocess.run([*cli, "create", "--name", "station-1", "--role", "staff"], env=env,
                          capture_output=True, text=True, timeout=60, check=True)
    token = made.stdout.strip()
    assert token.startswith("inv_") and "shown only this once" in made.stderr
    listed = subprocess.run([*cli, "list"], env=env, capture_output=True, text=True, timeout=60, check=True)
    assert "station-1" in listed.stdout and token not in listed.stdout
    subprocess.run([*cli, "revoke", "--name", "station-1"], env=env, capture_output=True, timeout=60, check=True)
    with db.unit_of_work(write=False) as uow:
        row = uow.session.scalar(select(ApiToken).where(ApiToken.name == "station-1"))
    assert row is not None and row.revoked_at is not None


def test_a_duplicate_token_name_is_409(api: Api):
    api.post("/api/v1/tokens", {"name": "x", "role": "staff"}, role="admin", expect=201)
    r = api.post("/api/v1/tokens", {"name": "x", "role": "staff"}, role="admin", expect=409)
    assert r.json["error"]["code"] == "token_name_taken"
