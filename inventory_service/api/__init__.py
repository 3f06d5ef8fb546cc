"""HTTP API under /api/v1: thin views that validate, call a service and answer JSON."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from . import alerts, catalog, coldchain, equipment, errors, health, labels, reorder, scanning, security, stock, tokens
from .schemas.common import ErrorSchema


class InventoryApi(Api):
    ERROR_SCHEMA = ErrorSchema


BLUEPRINTS = (
    health.blp, catalog.items, catalog.locations, stock.blp, stock.lots, stock.movements,
    reorder.par_levels, reorder.suggestions, alerts.alerts, alerts.recalls, tokens.blp,
    scanning.scanners, scanning.scans, scanning.barcodes, labels.blp,
    coldchain.units, coldchain.sensors, coldchain.readings, coldchain.excursions, coldchain.alarms,
    equipment.equipment, equipment.plans, equipment.tickets, equipment.routing, equipment.deliveries,
)


def register(app: Flask) -> Api:
    app.config.update(
        API_TITLE="Clinic inventory, cold chain and equipment",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
    )
    api = InventoryApi(app, spec_kwargs={"security": security.SECURITY})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for bp in BLUEPRINTS:
        api.register_blueprint(bp)
    security.register(app)
    errors.register(app)
    return api
