"""Stock movements, balances, lots, par levels and reorder suggestions."""

from __future__ import annotations

from marshmallow import fields, validate

from ...domain.lots import LotStatus
from .common import MAX_QUANTITY, Cursor, Date, DateTime, Days, Limit, Quantity, RowId, Strict, page_of

STATUSES = [s.value for s in LotStatus]
Reason = validate.Length(min=1, max=500)
Reference = validate.Length(max=100)
#: A counted balance, a par level: zero up to what one movement may move.
Counted = validate.Range(min=0, max=MAX_QUANTITY)
#: A signed correction (0 is refused by the service: `bad_quantity`).
Signed = validate.Range(min=-MAX_QUANTITY, max=MAX_QUANTITY)


class ReceiveIn(Strict):
    item_id = fields.Integer(required=True, validate=RowId)
    location_id = fields.Integer(required=True, validate=RowId)
    lot_number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    expiry = Date(required=True)
    quantity = fields.Integer(required=True, validate=Quantity)
    reference = fields.String(load_default=None, validate=Reference)
    quarantine = fields.Boolean(load_default=False, metadata={
        "description": "manager only: receive an expired lot into quarantine (e.g. for return); needs `reason`"})
    reason = fields.String(load_default=None, validate=Reason)


class ConsumeIn(Strict):
    item_id = fields.Integer(required=True, validate=RowId)
    location_id = fields.Integer(required=True, validate=RowId)
    quantity = fields.Integer(required=True, validate=Quantity)
    lot_id = fields.Integer(load_default=None, allow_none=True, validate=RowId)
    reason = fields.String(load_default=None, validate=Reason)
    reference = fields.String(load_default=None, validate=Reference)


class TransferIn(ConsumeIn):
    to_location_id = fields.Integer(required=True, validate=RowId)


class AdjustIn(Strict):
    item_id = fields.Integer(required=True, validate=RowId)
    location_id = fields.Integer(required=True, validate=RowId)
    lot_id = fields.Integer(required=True, validate=RowId)
    quantity = fields.Integer(required=True, validate=Signed, metadata={"description": "signed change"})
    reason = fields.String(required=True, validate=Reason)


class CountIn(Strict):
    item_id = fields.Integer(required=True, validate=RowId)
    location_id = fields.Integer(required=True, validate=RowId)
    lot_id = fields.Integer(required=True, validate=RowId)
    counted_quantity = fields.Integer(required=True, validate=Counted)
    reason = fields.String(load_default=None, validate=Reason)


class DisposeIn(Strict):
    item_id = fields.Integer(required=True, validate=RowId)
    location_id = fields.Integer(required=True, validate=RowId)
    lot_id = fields.Integer(required=True, validate=RowId)
    quantity = fields.Integer(required=True, validate=Quantity)
    reason = fields.String(required=True, validate=Reason)


class MovementOut(Strict):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    item_id = fields.Integer(required=True, validate=RowId)
    lot_id = fields.Integer(required=True, validate=RowId)
    location_id = fields.Integer(required=True, validate=RowId)
    quantity = fields.Integer(required=True)
    balance_after = fields.Integer(required=True)
    occurred_at = DateTime(required=True)
    actor = fields.String(required=True)
    source = fields.String(required=True)
    reason = fields.String(allow_none=True)
    reference = fields.String(allow_none=True)
    hash = fields.String(required=True)


class LotOut(Strict):
    id = fields.Integer(required=True)
    item_id = fields.Integer(required=True, validate=RowId)
    lot_number = fields.String(required=True)
    expiry = Date(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    status_reason = fields.String(allow_none=True)
    held_at = fields.List(fields.Integer(), metadata={
        "description": "locations where this lot's stock is on hold after an excursion (elsewhere it is not)"})
    created_at = DateTime(required=True)


class Movements(Strict):
    movements = fields.List(fields.Nested(MovementOut), required=True)


class ReceiveOut(Movements):
    lot = fields.Nested(LotOut, required=True)
    warnings = fields.List(fields.String(), required=True,
                           metadata={"description": "e.g. `expires_soon:2026-12-20` (INVENTORY_RECEIVE_WARN_DAYS)"})


class CountSummary(Strict):
    counted_quantity = fields.Integer(required=True)
    on_record = fields.Integer(required=True)
    variance = fields.Integer(required=True)


class CountOut(Movements):
    count = fields.Nested(CountSummary, required=True)


class StockQuery(Strict):
    item_id = fields.Integer(load_default=None, validate=RowId)
    location_id = fields.Integer(load_default=None, validate=RowId)
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    limit = fields.Integer(load_default=None, validate=Limit)
    cursor = Cursor()


class StockRow(Strict):
    item_id = fields.Integer(required=True, validate=RowId)
    item_name = fields.String(required=True)
    lot_id = fields.Integer(required=True, validate=RowId)
    lot_number = fields.String(required=True)
    expiry = Date(required=True)
    location_id = fields.Integer(required=True, validate=RowId)
    location_code = fields.String(required=True)
    quantity = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES),
                           metadata={"description": "the lot's status at this location"})


StockPage = page_of(StockRow, "StockPage")


class LotQuery(Strict):
    expiring_within_days = fields.Integer(load_default=None, validate=Days)
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    item_id = fields.Integer(load_default=None, validate=RowId)
    limit = fields.Integer(load_default=None, validate=Limit)
    cursor = Cursor()


LotPage = page_of(LotOut, "LotPage")


class ParLevelIn(Strict):
    item_id = fields.Integer(required=True, validate=RowId)
    location_id = fields.Integer(required=True, validate=RowId)
    reorder_point = fields.Integer(required=True, validate=Counted)
    order_up_to = fields.Integer(required=True, validate=Counted)
    lead_time_days = fields.Integer(load_default=0, validate=Days)


class ParLevelOut(ParLevelIn):
    id = fields.Integer(required=True)


class ParLevelQuery(Strict):
    item_id = fields.Integer(load_default=None, validate=RowId)
    location_id = fields.Integer(load_default=None, validate=RowId)


class ParLevelList(Strict):
    items = fields.List(fields.Nested(ParLevelOut), required=True)
    next = fields.String(allow_none=True, required=True)


class SuggestionQuery(Strict):
    location_id = fields.Integer(load_default=None, validate=RowId)


class Suggestion(Strict):
    par_level_id = fields.Integer(required=True)
    item_id = fields.Integer(required=True, validate=RowId)
    item_name = fields.String(required=True)
    unit = fields.String(required=True)
    location_id = fields.Integer(required=True, validate=RowId)
    location_code = fields.String(required=True)
    reorder_point = fields.Integer(required=True)
    order_up_to = fields.Integer(required=True)
    lead_time_days = fields.Integer(required=True)
    usable_quantity = fields.Integer(required=True)
    on_hold_quantity = fields.Integer(required=True)
    average_daily_usage = fields.Float(required=True)
    days_of_supply = fields.Float(allow_none=True, required=True)
    suggested_quantity = fields.Integer(required=True)


class SuggestionList(Strict):
    items = fields.List(fields.Nested(Suggestion), required=True)
    next = fields.String(allow_none=True, required=True, metadata={"description": "always null: the full list"})


class MovementQuery(Strict):
    item_id = fields.Integer(load_default=None, validate=RowId)
    location_id = fields.Integer(load_default=None, validate=RowId)
    lot_id = fields.Integer(load_default=None, validate=RowId)
    kind = fields.String(load_default=None,
                         validate=validate.OneOf(["receive", "consume", "transfer", "adjust", "count", "dispose"]))
    limit = fields.Integer(load_default=None, validate=Limit)
    cursor = Cursor()


MovementPage = page_of(MovementOut, "MovementPage")
