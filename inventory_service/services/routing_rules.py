"""Routing rules: which alerts go to whom, over which channel. Configured by a manager.

A rule must be able to fire and to reach someone: its `kinds` are alert kinds the service raises
(domain.alert_kinds), its recipients and `escalate_to` are valid for its channel (domain.recipients:
e-mail addresses, http(s) URLs, MQTT topic names), its location exists. Creating, changing and
deactivating a rule is recorded in its configuration history. A rule is never deleted: DELETE
deactivates it, so the deliveries made under it keep naming it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..db.models import Location, RoutingRule
from ..db.uow import UnitOfWork
from ..domain import recipients as addressing
from ..domain.alert_kinds import ALERT_KINDS
from ..domain.errors import InvalidRequest, NotFound
from . import history
from .alerts import SEVERITIES
from .context import Context
from .pagination import Page

CHANNELS = ("email", "webhook", "mqtt")
#: What a rule is configured with (POST takes them all, PATCH any subset).
RULE_FIELDS = ("name", "kinds", "min_severity", "location_id", "channel", "recipients", "renotify_min",
               "escalate_after_min", "escalate_to")
DEFAULT_MQTT_TOPIC = "alerts"


def rule_to_dict(r: RoutingRule) -> dict[str, Any]:
    return {"id": r.id, "name": r.name, "kinds": r.kinds, "min_severity": r.min_severity, "location_id": r.location_id,
            "channel": r.channel, "recipients": r.recipients, "renotify_min": r.renotify_min,
            "escalate_after_min": r.escalate_after_min, "escalate_to": r.escalate_to, "active": r.active}


def _editable(r: RoutingRule) -> dict[str, Any]:
    d = rule_to_dict(r)
    return {k: d[k] for k in (*RULE_FIELDS, "active")}


def default_name(channel: str, kinds: list[str]) -> str:
    return f"{', '.join(kinds) or 'every kind'} by {channel}"[:100]


def _checked(uow: UnitOfWork, rule: dict[str, Any]) -> dict[str, Any]:
    """The rule's fields once checked, with defaults filled in; a rule that could never fire or reach
    anyone is a 422 naming what is wrong."""
    channel = rule.get("channel")
    if channel not in CHANNELS:
        raise InvalidRequest(f"channel must be one of {', '.join(CHANNELS)}", code="bad_channel")
    if rule.get("min_severity") not in SEVERITIES:
        raise InvalidRequest(f"min_severity must be one of {', '.join(SEVERITIES)}", code="bad_severity")
    kinds = list(dict.fromkeys(rule.get("kinds") or []))
    unknown = [k for k in kinds if k not in ALERT_KINDS]
    if unknown:
        raise InvalidRequest(f"no alert is ever raised of kind {', '.join(repr(k) for k in unknown)}; "
                             f"the kinds are {', '.join(ALERT_KINDS)}", code="unknown_alert_kind",
                             details={"unknown": unknown, "kinds": list(ALERT_KINDS)})
    to = list(rule.get("recipients") or [])
    if not to and channel == "mqtt":
        to = [DEFAULT_MQTT_TOPIC]
    if not to:
        raise InvalidRequest("recipients are required for email and webhook", code="bad_recipients")
    escalate_to = list(rule.get("escalate_to") or [])
    problems = [{"field": field, "value": value, "reason": reason}
                for field, values in (("recipients", to), ("escalate_to", escalate_to))
                for value in values if (reason := addressing.problem(channel, value)) is not None]
    if problems:
        raise InvalidRequest("; ".join(p["reason"] for p in problems), code="bad_recipient",
                             details={"channel": channel, "problems": problems})
    location_id = rule.get("location_id")
    if location_id is not None and uow.session.get(Location, location_id) is None:
        raise InvalidRequest(f"location {location_id} does not exist, so the rule could never match",
                             code="unknown_location")
    name = str(rule.get("name") or "").strip() or default_name(channel, kinds)
    return {**rule, "name": name, "kinds": kinds, "recipients": to, "escalate_to": escalate_to}


def create_rule(uow: UnitOfWork, ctx: Context, *, active: bool = True, **fields: Any) -> RoutingRule:
    """Create a rule from `RULE_FIELDS` (`channel` needed; `name` defaults to its kinds and channel;
    an MQTT rule without recipients publishes to `alerts`). 422 codes: `bad_channel`,
    `bad_severity`, `unknown_alert_kind`, `bad_recipients`, `bad_recipient`, `unknown_location`."""
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise InvalidRequest(f"routing rules have no field {', '.join(sorted(unknown))}", code="bad_field")
    values = _checked(uow, {"min_severity": "info", **fields})
    rule = RoutingRule(**values, active=active)
    uow.session.add(rule)
    uow.session.flush()
    history.record_created(uow, ctx, "routing_rule", rule.id, _editable(rule))
    return rule


def get_rule(uow: UnitOfWork, rule_id: int, *, lock: bool = False) -> RoutingRule:
    rule = uow.session.get(RoutingRule, rule_id, with_for_update=lock)
    if rule is None:
        raise NotFound(f"routing rule {rule_id} not found", code="rule_not_found")
    return rule


def list_rules(uow: UnitOfWork) -> list[dict[str, Any]]:
    """The active rules, oldest first."""
    rows = uow.session.scalars(select(RoutingRule).where(RoutingRule.active.is_(True)).order_by(RoutingRule.id))
    return [rule_to_dict(r) for r in rows]


def update_rule(uow: UnitOfWork, ctx: Context, rule_id: int, *, reason: str | None = None,
                **changes: Any) -> RoutingRule:
    """Change any of `RULE_FIELDS`; the rule as changed is checked as on create (so changing the
    channel needs recipients valid for the new one). Each changed field is recorded in its history.
    Alerts still active that no rule matched get deliveries at the next routing run when the rule
    now matches them (delivery.route_new)."""
    unknown = set(changes) - set(RULE_FIELDS)
    if unknown:
        raise InvalidRequest(f"routing rules have no field {', '.join(sorted(unknown))}", code="bad_field")
    rule = get_rule(uow, rule_id, lock=True)
    before = _editable(rule)
    values = _checked(uow, {**{k: before[k] for k in RULE_FIELDS}, **changes})
    for key in RULE_FIELDS:
        setattr(rule, key, values[key])
    uow.session.flush()
    history.record(uow, ctx, "routing_rule", rule.id, before, _editable(rule), reason)
    return rule


def delete_rule(uow: UnitOfWork, ctx: Context, rule_id: int, reason: str | None = None) -> RoutingRule:
    """Deactivate the rule (recorded in its history); its deliveries stay as they are."""
    rule = get_rule(uow, rule_id, lock=True)
    if rule.active:
        before = _editable(rule)
        rule.active = False
        uow.session.flush()
        history.record(uow, ctx, "routing_rule", rule.id, before, _editable(rule), reason)
    return rule


def rule_history(uow: UnitOfWork, rule_id: int, *, limit: int | None = None, cursor: str | None = None) -> Page:
    get_rule(uow, rule_id)
    return history.changes(uow, "routing_rule", rule_id, limit=limit, cursor=cursor)
