"""HTTP API under /api/v1: thin views that validate, call a service and answer JSON."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_smorest import Api
from werkzeug.routing import IntegerConverter, Map

from . import (
    alerts,
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
from .schemas.common import ErrorSchema


class InventoryApi(Api):
    ERROR_SCHEMA = ErrorSchema


MAX_ID = 2**31 - 1  # an `integer` id column on PostgreSQL; every id in a route is one


class IdConverter(IntegerConverter):
    """`<int:...>` in a route: at most `MAX_ID`, so a larger number in a path is a 404 instead of an
    integer overflow in the database (a route to a BIGINT id would say `<int(max=...):...>`)."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


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
    api = InventoryApi(app, spec_kwargs={"security": security.SECURITY})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for bp in BLUEPRINTS:
        api.register_blueprint(bp)
    security.register(app)
    errors.register(app)
    return api
