"""The Flask application factory. Nothing is built at import time."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from flask import Flask, Response, g, request

from . import api
from .api.runtime import Runtime
from .config import Settings
from .db.engine import make_engine
from .db.uow import Database
from .ingest.broker import BrokerAddress, BrokerProbe
from .observability.exposition import add_metrics_route
from .observability.metrics import HttpMetrics, Metrics
from .services.context import Clock, system_clock
from .web import web


def create_app(
    settings: Settings | None = None, *, db: Database | None = None, clock: Clock | None = None,
    mqtt_status: Callable[[], bool] | None = None, metrics: Metrics | None = None,
) -> Flask:
    """Build the app from `settings` (read from the environment when omitted).

    `db`, `clock` and `mqtt_status` can be injected (tests, the `run` role sharing one engine), and so can
    `metrics`, the process's registry (the console script's; else the app builds its own). With
    INVENTORY_METRICS=api the app serves it at `/metrics`.
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
    metrics = metrics or Metrics.for_process("api")
    app.extensions["inventory_metrics"] = metrics
    _count_requests(app, metrics.http)
    if settings.metrics == "api":
        add_metrics_route(app, metrics.registry, settings.metrics_token)
    logging.getLogger(__name__).debug("app created for %s", settings.bind)
    return app


def _count_requests(app: Flask, http: HttpMetrics) -> None:
    """Every answer in `inventory_http_requests_total` and its time in the latency histogram."""

    def started() -> None:
        g.metrics_started = time.perf_counter()

    def answered(response: Response) -> Response:
        began = g.get("metrics_started")
        if began is not None:
            http.answered(request.method, response.status_code, time.perf_counter() - began)
        return response

    app.before_request_funcs.setdefault(None, []).insert(0, started)  # before the API's token check
    app.after_request(answered)
