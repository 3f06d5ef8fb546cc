"""The Flask application factory. Nothing is built at import time."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask

from . import api
from .api.runtime import Runtime
from .config import Settings
from .db.engine import make_engine
from .db.uow import Database
from .ingest.broker import BrokerAddress, BrokerProbe
from .services.context import Clock, system_clock
from .web import web


def create_app(
    settings: Settings | None = None, *, db: Database | None = None, clock: Clock | None = None,
    mqtt_status: Callable[[], bool] | None = None,
) -> Flask:
    """Build the app from `settings` (read from the environment when omitted).

    `db`, `clock` and `mqtt_status` can be injected (tests, the `run` role sharing one engine).
    """
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes  # a larger body is a 413 (api.errors)
    app.extensions["inventory"] = Runtime(
        settings=settings,
        db=db or Database(make_engine(settings.database_url)),
        clock=clock or system_clock,
        mqtt_status=mqtt_status or BrokerProbe(BrokerAddress.parse(settings.mqtt_url)),
    )
    api.register(app)
    app.register_blueprint(web)
    logging.getLogger(__name__).debug("app created for %s", settings.bind)
    return app
