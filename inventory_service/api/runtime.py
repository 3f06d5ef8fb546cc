"""What the API needs at run time, held on the app (never in globals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, g

from ..config import Settings
from ..db.uow import Database, UnitOfWork
from ..services.context import Clock, Context


@dataclass
class Runtime:
    settings: Settings
    db: Database
    clock: Clock
    mqtt_status: Callable[[], bool]


def runtime() -> Runtime:
    return current_app.extensions["inventory"]  # type: ignore[no-any-return]


def writer() -> UnitOfWork:
    return runtime().db.unit_of_work(write=True)


def reader() -> UnitOfWork:
    return runtime().db.unit_of_work(write=False)


def context() -> Context:
    """Who is acting (the token's name), via the API, now, in the site's time zone."""
    rt = runtime()
    principal = getattr(g, "principal", None)
    return Context(actor=principal.name if principal else "anonymous", source="api", now=rt.clock(),
                   tz=rt.settings.tz)
