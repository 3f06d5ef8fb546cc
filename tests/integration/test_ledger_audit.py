"""`inventory-service audit verify` finds rows edited or deleted directly in SQL."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import text

from inventory_service.db.uow import Database
from tests.conftest import Api
from tests.integration.conftest import World, receive


def audit(db_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "INVENTORY_DATABASE_URL": db_url}
    return subprocess.run([sys.executable, "-m", "inventory_service.cli", "audit", "verify"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def _three_movements(api: Api, world: World) -> None:
    for lot in ("A", "B", "C"):
        receive(api, world, lot, "2027-01-31", 5)


def test_an_intact_ledger_verifies(api: Api, world: World, db_url: str):
    _three_movements(api, world)
    result = audit(db_url)
    assert result.returncode == 0, result.stderr
    assert "ledger intact" in result.stdout


def test_a_row_edited_in_sql_is_named(api: Api, world: World, db: Database, db_url: str):
    _three_movements(api, world)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE movements SET quantity = 50 WHERE id = 2"))
    result = audit(db_url)
    assert result.returncode == 1
    assert "movement 2" in result.stderr and "edited" in result.stderr


def test_a_row_deleted_in_sql_is_found_at_the_next_row(api: Api, world: World, db: Database, db_url: str):
    _three_movements(api, world)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM movements WHERE id = 2"))
    result = audit(db_url)
    assert result.returncode == 1
    assert "movement 3" in result.stderr


def test_the_newest_row_deleted_in_sql_is_found_by_the_head(api: Api, world: World, db: Database, db_url: str):
    _three_movements(api, world)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM movements WHERE id = 3"))
    result = audit(db_url)
    assert result.returncode == 1
    assert "chain head" in result.stderr


def test_movements_cannot_be_changed_through_the_api(api: Api, world: World):
    _three_movements(api, world)
    assert api.call("DELETE", "/api/v1/movements", role="admin").status_code == 405
    assert api.call("PUT", "/api/v1/movements", role="admin", json={}).status_code == 405
