"""Routing rules, the alert kinds they route, unrouted alerts and delivery attempts."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from ...domain import recipients
from ...domain.alert_kinds import ALERT_KINDS
from ...services.routing_rules import CHANNELS
from .common import DateTime, Minutes, RowId, Strict, page_of

SEVERITY = validate.OneOf(["info", "warning", "critical"])
KIND = validate.OneOf(ALERT_KINDS, error="{input!r} is not a kind of alert the service raises; kinds: {choices}")


def _kinds(**kwargs: Any) -> fields.List:
    return fields.List(fields.String(validate=KIND), metadata={
        "description": "alert kinds to route (GET /api/v1/alert-kinds); empty: every kind"}, **kwargs)


def _addresses(description: str, **kwargs: Any) -> fields.List:
    return fields.List(fields.String(validate=validate.Length(min=1, max=300)), metadata={"description": description},
                       **kwargs)


RECIPIENTS = ("email: one bare address each (nurse@clinic.example); webhook: http(s) URLs; "
              "mqtt: topic names (no + or #, not starting with $); mqtt without recipients: `alerts`")


class _Addressed(Strict):
    @validates_schema(skip_on_field_errors=False)
    def _recipients_fit_the_channel(self, data: dict[str, Any], **kwargs: Any) -> None:
        """With the channel in the body, each address is checked for it here, so one answer names
        every bad value (a PATCH without the channel is checked against the stored one)."""
        channel = data.get("channel")
        if channel not in CHANNELS:
            return
        errors: dict[str, dict[int, list[str]]] = {}
        for field in ("recipients", "escalate_to"):
            for i, value in enumerate(data.get(field) or []):
                if isinstance(value, str) and (reason := recipients.problem(channel, value)):
                    errors.setdefault(field, {})[i] = [reason]
        if errors:
            raise ValidationError(errors)  # type: ignore[arg-type]


class RuleIn(_Addressed):
    name = fields.String(load_default=None, validate=validate.Length(min=1, max=100),
                         metadata={"description": "default: its kinds and channel"})
    kinds = _kinds(load_default=list)
    min_severity = fields.String(load_default="info", validate=SEVERITY)
    location_id = fields.Integer(load_default=None, validate=RowId)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    recipients = _addresses(RECIPIENTS, load_default=list)
    renotify_min = fields.Integer(load_default=None, validate=Minutes)
    escalate_after_min = fields.Integer(load_default=None, validate=Minutes)
    escalate_to = _addresses("valid for the rule's channel, like recipients", load_default=list)


class RulePatch(_Addressed):
    """Only the fields given change; the rule as changed is checked as on create."""

    name = fields.String(validate=validate.Length(min=1, max=100))
    kinds = _kinds()
    min_severity = fields.String(validate=SEVERITY)
    location_id = fields.Integer(allow_none=True, validate=RowId)
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    recipients = _addresses(RECIPIENTS)
    renotify_min = fields.Integer(allow_none=True, validate=Minutes)
    escalate_after_min = fields.Integer(allow_none=True, validate=Minutes)
    escalate_to = _addresses("valid for the rule's channel, like recipients")
    reason = fields.String(validate=validate.Length(min=1, max=1000), metadata={"description": "kept in the history"})


class RuleOut(Strict):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kinds = fields.List(fields.String(), required=True)
    min_severity = fields.String(required=True)
    location_id = fields.Integer(allow_none=True)
    channel = fields.String(required=True)
    recipients = fields.List(fields.String(), required=True)
    renotify_min = fields.Integer(allow_none=True)
    escalate_after_min = fields.Integer(allow_none=True)
    escalate_to = fields.List(fields.String(), required=True)
    active = fields.Boolean(required=True)


class RuleList(Strict):
    items = fields.List(fields.Nested(RuleOut), required=True)
    next = fields.String(allow_none=True, required=True)


class DeleteQuery(Strict):
    reason = fields.String(load_default=None, validate=validate.Length(min=1, max=1000),
                           metadata={"description": "kept in the rule's history"})


class AlertKindOut(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(ALERT_KINDS))
    description = fields.String(required=True)


class AlertKindList(Strict):
    items = fields.List(fields.Nested(AlertKindOut), required=True)


class UnroutedOut(Strict):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    severity = fields.String(required=True)
    subject = fields.String(required=True)
    status = fields.String(required=True)
    opened_at = DateTime(required=True)


UnroutedPage = page_of(UnroutedOut, "UnroutedPage")


class DeliveryOut(Strict):
    id = fields.Integer(required=True)
    alert_id = fields.Integer(required=True, validate=RowId)
    rule_id = fields.Integer(allow_none=True)
    channel = fields.String(required=True)
    recipient = fields.String(required=True)
    purpose = fields.String(required=True)
    state = fields.String(required=True, metadata={
        "description": "pending, sent, failed; `rerouted`: the unrouted marker of an alert a rule matched later"})
    attempts = fields.Integer(required=True)
    next_attempt_at = DateTime(required=True)
    last_error = fields.String(allow_none=True)
    log = fields.List(fields.Dict(), required=True)
    created_at = DateTime(required=True)
    sent_at = DateTime(allow_none=True)


class DeliveryList(Strict):
    items = fields.List(fields.Nested(DeliveryOut), required=True)
    next = fields.String(allow_none=True, required=True)
