"""Alert routing rules (manager), the alert kinds they can name, unrouted alerts and delivery attempts."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from ..domain.alert_kinds import ALERT_KINDS, DESCRIPTIONS
from ..services import delivery, routing_rules
from .runtime import context, reader, writer
from .schemas.common import PageArgs
from .schemas.history import ChangePage
from .schemas.routing import (
    AlertKindList,
    DeleteQuery,
    DeliveryList,
    RuleIn,
    RuleList,
    RuleOut,
    RulePatch,
    UnroutedPage,
)
from .security import role

routing = Blueprint("routing-rules", __name__, url_prefix="/api/v1/routing-rules", description="Alert routing")
deliveries = Blueprint("deliveries", __name__, url_prefix="/api/v1/alerts", description="Alert delivery attempts")
kinds = Blueprint("alert-kinds", __name__, url_prefix="/api/v1/alert-kinds",
                  description="The kinds of alert the service raises")


@routing.route("")
class Rules(MethodView):
    @role("manager")
    @routing.response(200, RuleList)
    def get(self) -> dict[str, Any]:
        with reader() as uow:
            return {"items": routing_rules.list_rules(uow), "next": None}

    @role("manager")
    @routing.arguments(RuleIn)
    @routing.response(201, RuleOut)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Alerts of `kinds` (all when empty) at or above `min_severity` go to `channel` for `recipients`.
        Kinds must be ones the service raises and recipients valid for the channel (422 otherwise)."""
        with writer() as uow:
            rule = routing_rules.create_rule(uow, context(), **body)
            uow.commit()
            return routing_rules.rule_to_dict(rule)


@routing.route("/unrouted")
class Unrouted(MethodView):
    @role("manager")
    @routing.arguments(PageArgs, location="query")
    @routing.response(200, UnroutedPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Active alerts that no rule matches, so nobody was told (newest first). Adding or changing a rule
        that matches one routes it within a delivery run."""
        with reader() as uow:
            page = delivery.list_unrouted(uow, **args)
        return {"items": page.items, "next": page.next}


@routing.route("/<int:rule_id>")
class RuleById(MethodView):
    @role("manager")
    @routing.response(200, RuleOut)
    def get(self, rule_id: int) -> dict[str, Any]:
        with reader() as uow:
            return routing_rules.rule_to_dict(routing_rules.get_rule(uow, rule_id))

    @role("manager")
    @routing.arguments(RulePatch, required=False)
    @routing.response(200, RuleOut)
    def patch(self, body: dict[str, Any], rule_id: int) -> dict[str, Any]:
        """Change any field; checked as on create and kept in the rule's history."""
        with writer() as uow:
            rule = routing_rules.update_rule(uow, context(), rule_id, **body)
            uow.commit()
            return routing_rules.rule_to_dict(rule)

    @role("manager")
    @routing.arguments(DeleteQuery, location="query")
    @routing.response(204)
    def delete(self, args: dict[str, Any], rule_id: int) -> None:
        """Deactivate the rule (kept, with its deliveries; recorded in its history)."""
        with writer() as uow:
            routing_rules.delete_rule(uow, context(), rule_id, args["reason"])
            uow.commit()


@routing.route("/<int:rule_id>/history")
class RuleHistory(MethodView):
    @role("manager")
    @routing.arguments(PageArgs, location="query")
    @routing.response(200, ChangePage)
    def get(self, args: dict[str, Any], rule_id: int) -> dict[str, Any]:
        """Every change of the rule, oldest first: one entry per field (`created`, and `active` when deleted)."""
        with reader() as uow:
            page = routing_rules.rule_history(uow, rule_id, **args)
        return {"items": page.items, "next": page.next}


@kinds.route("")
class AlertKinds(MethodView):
    @kinds.response(200, AlertKindList)
    def get(self) -> dict[str, Any]:
        """The kinds a routing rule may name, with what raises each."""
        return {"items": [{"kind": k, "description": DESCRIPTIONS[k]} for k in ALERT_KINDS]}


@deliveries.route("/<int:alert_id>/deliveries")
class Deliveries(MethodView):
    @deliveries.response(200, DeliveryList)
    def get(self, alert_id: int) -> dict[str, Any]:
        """Every delivery of the alert with its attempts: `sent`, `pending` (retrying) or `failed`; an alert
        no rule matched has one to `unrouted` (`rerouted` once a rule matched it later)."""
        with reader() as uow:
            return {"items": delivery.deliveries_of(uow, alert_id), "next": None}
