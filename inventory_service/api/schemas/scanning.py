"""Scanners, scans and barcode parsing."""

from __future__ import annotations

from marshmallow import fields, validate

from ...domain.station import Mode
from .common import INT32_MAX, Cursor, Date, DateTime, Limit, RowId, Strict, page_of

MODES = [m.value for m in Mode]
OUTCOMES = ["applied", "command", "rejected", "pending"]


class ScannerOut(Strict):
    id = fields.String(required=True)
    url = fields.String(required=True)
    port_settings = fields.Dict(required=True)
    location_id = fields.Integer(required=True, allow_none=True,
                                 metadata={"description": "null only for a station never set up with a usable "
                                                          "definition (see config_error)"})
    location_code = fields.String(allow_none=True)
    home_mode = fields.String(required=True, validate=validate.OneOf(MODES))
    mode = fields.String(required=True, validate=validate.OneOf(MODES))
    pending_quantity = fields.Integer(allow_none=True)
    target_location = fields.String(allow_none=True)
    count_open = fields.Boolean(required=True)
    updated_at = DateTime(required=True)
    port_state = fields.String(required=True, metadata={
        "description": "unknown, open, disconnected, stopped, or misconfigured (its reader is not started)"})
    port_detail = fields.String(allow_none=True)
    port_changed_at = DateTime(allow_none=True)
    config_error = fields.String(allow_none=True, metadata={
        "description": "why the station's definition in INVENTORY_SCANNERS could not be used at the last start "
                       "(port_state misconfigured); null when it could"})


class ScannerList(Strict):
    items = fields.List(fields.Nested(ScannerOut), required=True)
    next = fields.String(allow_none=True, required=True)


class ScannerPatch(Strict):
    location_id = fields.Integer(load_default=None, validate=RowId)
    mode = fields.String(load_default=None, validate=validate.OneOf(MODES))


class ScanOut(Strict):
    id = fields.Integer(required=True)
    scanner_id = fields.String(required=True)
    received_at = DateTime(required=True)
    raw = fields.String(required=True, metadata={"description": "the frame, escaped: \\x1d is GS"})
    kind = fields.String(required=True)
    symbology = fields.String(allow_none=True)
    gtin = fields.String(allow_none=True)
    hibc_code = fields.String(allow_none=True)
    lot_number = fields.String(allow_none=True)
    expiry = Date(allow_none=True)
    quantity = fields.Integer(allow_none=True)
    mode = fields.String(required=True)
    location_id = fields.Integer(required=True, validate=RowId)
    target_location = fields.String(allow_none=True)
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    reason = fields.String(allow_none=True)
    message = fields.String(allow_none=True)
    warnings = fields.List(fields.String(), required=True)
    movement_ids = fields.List(fields.Integer(), required=True)
    item_id = fields.Integer(allow_none=True)
    lot_id = fields.Integer(allow_none=True)
    resolved_at = DateTime(allow_none=True)
    resolved_by = fields.String(allow_none=True)
    rereads = fields.Integer(required=True, metadata={"description": "suppressed presentation re-reads of this frame"})
    parsed = fields.Dict(required=True)


ScanPage = page_of(ScanOut, "ScanPage")


class ScanQuery(Strict):
    scanner_id = fields.String(load_default=None, validate=validate.Length(max=64))
    outcome = fields.String(load_default=None, validate=validate.OneOf(OUTCOMES))
    reason = fields.String(load_default=None, validate=validate.Length(max=64))
    after_id = fields.Integer(load_default=None, validate=validate.Range(min=0, max=INT32_MAX),
                              metadata={"description": "only scans after this id, oldest first"})
    limit = fields.Integer(load_default=None, validate=Limit)
    cursor = Cursor()


class ResolveIn(Strict):
    item_id = fields.Integer(required=True, validate=RowId)


class ParseIn(Strict):
    raw = fields.String(required=True, validate=validate.Length(min=1, max=8192))


class ParseOut(Strict):
    kind = fields.String(required=True)
    raw = fields.String(required=True)
    symbology = fields.String(allow_none=True)
    gtin = fields.String(allow_none=True)
    lot = fields.String(allow_none=True)
    expiry = fields.String(allow_none=True)
    serial = fields.String(allow_none=True)
    quantity = fields.Integer(allow_none=True)
    production_date = fields.String(allow_none=True)
    lic = fields.String(allow_none=True)
    pcn = fields.String(allow_none=True)
    unit_of_measure = fields.Integer(allow_none=True)
    link_character = fields.String(allow_none=True)
    command = fields.String(allow_none=True)
    argument = fields.String(allow_none=True)
    elements = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    warnings = fields.List(fields.String(), required=True)
    error = fields.String(allow_none=True)
    needs_confirmation = fields.Boolean(required=True)


class EventsQuery(Strict):
    after = fields.Integer(load_default=None, validate=validate.Range(min=0, max=INT32_MAX),
                           metadata={"description": "resume after this scan id"})
    timeout = fields.Float(load_default=300.0, validate=validate.Range(min=0.1, max=3600),
                           metadata={"description": "seconds before the stream ends (EventSource reconnects)"})
