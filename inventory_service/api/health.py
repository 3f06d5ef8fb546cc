"""`GET /api/v1/health`: liveness of the service, its database and its broker (no token)."""

from __future__ import annotations

import logging
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import text

from .. import __version__
from ..services import station_setup
from .runtime import reader, runtime
from .schemas.alerts import HealthOut
from .security import public

log = logging.getLogger(__name__)
blp = Blueprint("health", __name__, url_prefix="/api/v1", description="Service health")


@blp.route("/health")
class Health(MethodView):
    @public
    @blp.doc(security=[])
    @blp.response(200, HealthOut)
    def get(self) -> dict[str, Any]:
        """Database and MQTT status. 200 while the API runs; `status` is `degraded` if the database fails
        or `problems` lists something, such as a scanner definition that could not be used."""
        problems: list[dict[str, Any]] = []
        try:
            with reader() as uow:
                uow.session.execute(text("SELECT 1"))
            database = "ok"
        except Exception:
            log.exception("health: database check failed")
            database = "unavailable"
        if database == "ok":
            try:
                with reader() as uow:
                    problems = station_setup.config_problems(uow)
            except Exception:  # e.g. a database not yet upgraded to this version's schema
                log.exception("health: could not read the stored configuration problems")
                problems = [{"component": "database", "id": "scanner_config_problems", "instance": None,
                             "reason": "stored problems unreadable (has `inventory-service db upgrade` run?)"}]
        mqtt = "ok" if runtime().mqtt_status() else "unavailable"
        return {"status": "ok" if database == "ok" and not problems else "degraded", "database": database,
                "mqtt": mqtt, "version": __version__, "problems": problems}
