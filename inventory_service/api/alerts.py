"""Alerts (any token reads; a manager acknowledges) and recalls (manager)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from ..services import alerts as alert_service
from ..services import delivery
from ..services import recalls as recall_service
from .runtime import context, reader, writer
from .schemas.alerts import AckIn, AlertOut, AlertPage, AlertQuery, RecallIn, RecallOut
from .security import role

alerts = Blueprint("alerts", __name__, url_prefix="/api/v1/alerts", description="Alerts raised for the manager")
recalls = Blueprint("recalls", __name__, url_prefix="/api/v1/recalls", description="Product recalls")


@alerts.route("")
class Alerts(MethodView):
    @alerts.arguments(AlertQuery, location="query")
    @alerts.response(200, AlertPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Newest first; `status=active` lists every alert whose condition still holds; each says whether
        it is `unrouted` (no routing rule matched it)."""
        with reader() as uow:
            page = alert_service.list_alerts(uow, **args)
            flags = delivery.unrouted_alert_ids(uow, [a["id"] for a in page.items])
        return {"items": [{**a, "unrouted": a["id"] in flags} for a in page.items], "next": page.next}


@alerts.route("/<int:alert_id>/ack")
class Ack(MethodView):
    @role("manager")
    @alerts.arguments(AckIn)
    @alerts.response(200, AlertOut)
    def post(self, body: dict[str, Any], alert_id: int) -> dict[str, Any]:
        """Acknowledge with a reason; records who and when. A second acknowledgement is added to
        `acknowledgements` and never replaces the first."""
        with writer() as uow:
            alert = alert_service.acknowledge(uow, context(), alert_id, body["reason"])
            uow.commit()
            history = alert_service.acknowledgements(uow, alert_ids=[alert.id])
            return {**alert_service.alert_to_dict(alert, history[alert.id]),
                    "unrouted": alert.id in delivery.unrouted_alert_ids(uow, [alert.id])}


@recalls.route("")
class Recalls(MethodView):
    @role("manager")
    @recalls.arguments(RecallIn)
    @recalls.response(201, RecallOut)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Recall lots of an item (by `item_id` or `gtin`): quarantine everywhere and alert."""
        with writer() as uow:
            recall = recall_service.create_recall(uow, context(), **body)
            uow.commit()
            return recall_service.recall_report(uow, recall.id)


@recalls.route("/<int:recall_id>")
class RecallById(MethodView):
    @recalls.response(200, RecallOut)
    def get(self, recall_id: int) -> dict[str, Any]:
        """Affected lots, on hand per location, and what was already consumed (when, where, by whom)."""
        with reader() as uow:
            return recall_service.recall_report(uow, recall_id)
