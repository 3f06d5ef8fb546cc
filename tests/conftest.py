"""Fixtures shared by every test: databases on both backends, the app, clients and tokens."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from inventory_service.app import create_app
from inventory_service.config import Settings
from inventory_service.db import migrate
from inventory_service.db.engine import make_engine
from inventory_service.db.uow import Database
from inventory_service.services import auth
from inventory_service.services.context import Context
from tests.support.clock import FrozenClock
from tests.support.database import reset
from tests.support.services import mosquitto_broker, postgres_database

SITE_TZ = "America/New_York"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'inventory.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    with postgres_database() as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture(scope="session")
def mqtt_url() -> Iterator[str]:
    with mosquitto_broker() as url:
        yield url


_databases: dict[str, Database] = {}


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest) -> str:
    """The URL of a migrated database; the test runs once per backend."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def db(db_url: str) -> Database:
    """An emptied, migrated database (engines are kept for the session)."""
    if db_url not in _databases:
        _databases[db_url] = Database(make_engine(db_url))
    database = _databases[db_url]
    reset(database)
    return database


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for database in _databases.values():
        database.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(data_dir=Path(tempfile.gettempdir()), database_url=db_url, timezone=SITE_TZ,
                    mqtt_url="mqtt://127.0.0.1:1")


@pytest.fixture
def ctx(clock: FrozenClock, settings: Settings) -> Callable[..., Context]:
    """Build a service context at the clock's current time."""
    def make(actor: str = "tester", source: str = "api") -> Context:
        return Context(actor=actor, source=source, now=clock(), tz=settings.tz)
    return make


@pytest.fixture
def app(settings: Settings, db: Database, clock: FrozenClock) -> Flask:
    application = create_app(settings, db=db, clock=clock, mqtt_status=lambda: False)
    application.testing = True
    return application


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def tokens(db: Database, ctx: Callable[..., Context]) -> dict[str, str]:
    """One token per role, by role name."""
    out = {}
    with db.unit_of_work() as uow:
        for role in auth.ROLES:
            _, token = auth.create_token(uow, ctx("setup", "cli"), name=f"{role}-token", role=role)
            out[role] = token
        uow.commit()
    return out


class Api:
    """A test client that sends a role's token and checks statuses."""

    def __init__(self, client: FlaskClient, tokens: dict[str, str]) -> None:
        self.client, self.tokens = client, tokens

    def call(self, method: str, path: str, *, role: str = "admin", expect: int | None = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        headers.update(kw.pop("headers", {}))
        response = self.client.open(path, method=method, headers=headers, **kw)
        if expect is not None:
            assert response.status_code == expect, (response.status_code, response.get_json())
        return response

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.call("POST", path, json=json, **kw)


@pytest.fixture
def api(client: FlaskClient, tokens: dict[str, str]) -> Api:
    return Api(client, tokens)
