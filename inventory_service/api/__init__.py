"""HTTP API under /api/v1: thin views that validate, call a service and answer JSON."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_smorest import Api
from werkzeug.routing import IntegerConverter, Map, UnicodeConverter

from . import (
    alerts,
    boundary,
    catalog,
    coldchain,
    equipment,
    errors,
    health,
    labels,
    reorder,
    routing,
    scanning,
    security,
    stock,
    tokens,
)
from .document import DESCRIPTION, ErrorResponses
from .json_provider import Rfc3339JSONProvider
from .schemas.common import INT32_MAX, ErrorSchema


class InventoryApi(Api):
    ERROR_SCHEMA = ErrorSchema


MAX_ID = INT32_MAX  # an `integer` id column on PostgreSQL; every id in a route is one


class IdConverter(IntegerConverter):
    """`<int:...>` in a route: at most `MAX_ID`, so a larger number in a path is a 404 instead of an
    integer overflow in the database (a route to a BIGINT id would say `<int(max=...):...>`)."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


class TextConverter(UnicodeConverter):
    """A text segment of a route (an equipment, scanner or sensor id): never NUL, which no row can hold
    and PostgreSQL refuses to compare, so `%00` in a path is a 404."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(url_map, *args, **kwargs)
        self.regex = self.regex.replace("[^/]", "[^/\x00]")


BLUEPRINTS = (
    health.blp, catalog.items, catalog.locations, stock.blp, stock.lots, stock.movements,
    reorder.par_levels, reorder.suggestions, alerts.alerts, alerts.recalls, tokens.blp,
    scanning.scanners, scanning.scans, scanning.barcodes, labels.blp,
    coldchain.units, coldchain.sensors, coldchain.readings, coldchain.excursions, coldchain.alarms,
    equipment.equipment, equipment.plans, equipment.tickets, routing.routing, routing.deliveries, routing.kinds,
)


def register(app: Flask) -> Api:
    app.config.update(
        API_TITLE="Clinic inventory, cold chain and equipment",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
    )
    app.url_map.converters["int"] = IdConverter  # before any route is added
    app.url_map.converters["default"] = app.url_map.converters["string"] = TextConverter
    app.json = Rfc3339JSONProvider(app)
    api = InventoryApi(app, spec_kwargs={"security": security.SECURITY, "extra_plugins": [ErrorResponses()],
                                         "info": {"description": DESCRIPTION}})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for bp in BLUEPRINTS:
        api.register_blueprint(bp)
    security.register(app)
    boundary.register(app)  # after security: a request is authenticated before its body is read
    errors.register(app)
    return api
