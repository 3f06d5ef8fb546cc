"""Alerts, recalls and health."""

from __future__ import annotations

from marshmallow import fields, validate

from ...domain.alert_kinds import ALERT_KINDS
from .common import Cursor, Date, DateTime, Limit, RowId, Strict, page_of


class AckRecord(Strict):
    acknowledged_by = fields.String(required=True)
    acknowledged_at = DateTime(required=True)
    reason = fields.String(required=True)
    source = fields.String(required=True)


class AlertOut(Strict):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    severity = fields.String(required=True)
    subject = fields.String(required=True)
    message = fields.String(required=True)
    key = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["open", "acknowledged", "resolved"]))
    details = fields.Dict(required=True)
    opened_at = DateTime(required=True)
    resolved_at = DateTime(allow_none=True)
    acknowledged_at = DateTime(allow_none=True)
    acknowledged_by = fields.String(allow_none=True)
    ack_reason = fields.String(allow_none=True)
    unrouted = fields.Boolean(required=True, metadata={
        "description": "no routing rule matched it, so it was delivered to nobody (see GET /routing-rules/unrouted)"})
    acknowledgements = fields.List(fields.Nested(AckRecord), required=True, metadata={
        "description": "every acknowledgement, oldest first; the first is `acknowledged_at/by`"})


AlertPage = page_of(AlertOut, "AlertPage")


class AlertQuery(Strict):
    status = fields.String(load_default=None,
                           validate=validate.OneOf(["open", "acknowledged", "resolved", "active"]))
    kind = fields.String(load_default=None, validate=validate.OneOf(ALERT_KINDS))
    unrouted = fields.Boolean(load_default=None, metadata={
        "description": "true: only alerts no routing rule matched (nobody was told)"})
    limit = fields.Integer(load_default=None, validate=Limit)
    cursor = Cursor()


class AckIn(Strict):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class RecallIn(Strict):
    item_id = fields.Integer(load_default=None, validate=RowId)
    gtin = fields.String(load_default=None, validate=validate.Length(min=8, max=14))
    lot_numbers = fields.List(fields.String(validate=validate.Length(min=1, max=64)), required=True,
                              validate=validate.Length(min=1))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    reference = fields.String(load_default=None, validate=validate.Length(max=100))


class OnHand(Strict):
    location_id = fields.Integer(required=True, validate=RowId)
    location_code = fields.String(required=True)
    quantity = fields.Integer(required=True)


class Consumed(Strict):
    movement_id = fields.Integer(required=True, validate=RowId)
    quantity = fields.Integer(required=True)
    occurred_at = DateTime(required=True)
    location_id = fields.Integer(required=True, validate=RowId)
    location_code = fields.String(required=True)
    actor = fields.String(required=True)
    source = fields.String(required=True)


class RecallLotOut(Strict):
    lot_id = fields.Integer(required=True, validate=RowId)
    lot_number = fields.String(required=True)
    expiry = Date(required=True)
    status = fields.String(required=True)
    on_hand = fields.List(fields.Nested(OnHand), required=True)
    quantity_on_hand = fields.Integer(required=True)
    consumed = fields.List(fields.Nested(Consumed), required=True)
    quantity_consumed = fields.Integer(required=True)


class RecallOut(Strict):
    id = fields.Integer(required=True)
    item_id = fields.Integer(required=True, validate=RowId)
    reason = fields.String(required=True)
    reference = fields.String(allow_none=True)
    created_by = fields.String(required=True)
    created_at = DateTime(required=True)
    lot_numbers = fields.List(fields.String(), required=True)
    unmatched_lot_numbers = fields.List(fields.String(), required=True)
    lots = fields.List(fields.Nested(RecallLotOut), required=True)


class HealthProblem(Strict):
    component = fields.String(required=True, metadata={"description": "what is wrong: `scanner` (a definition in "
                                                                     "INVENTORY_SCANNERS), `database`"})
    id = fields.String(required=True, metadata={"description": "the station id, `INVENTORY_SCANNERS[<index>]` for an "
                                                               "entry without a usable id, or `INVENTORY_SCANNERS`"})
    reason = fields.String(required=True)
    instance = fields.String(allow_none=True, metadata={"description": "the ingest process (INVENTORY_INSTANCE) "
                                                                       "whose configuration it is"})


class HealthOut(Strict):
    status = fields.String(required=True, metadata={"description": "`ok`, or `degraded` when the database fails "
                                                                   "or `problems` is not empty"})
    database = fields.String(required=True)
    mqtt = fields.String(required=True)
    version = fields.String(required=True)
    problems = fields.List(fields.Nested(HealthProblem), required=True,
                           metadata={"description": "what keeps the service from running as configured, e.g. a "
                                                    "scanner definition that could not be used"})
