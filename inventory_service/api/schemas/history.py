"""Configuration history: one entry per changed field."""

from __future__ import annotations

from marshmallow import fields, validate

from ...services.history import ENTITIES
from .common import DateTime, Strict, page_of


class ChangeOut(Strict):
    id = fields.Integer(required=True)
    entity = fields.String(required=True, validate=validate.OneOf(ENTITIES))
    entity_id = fields.String(required=True)
    field = fields.String(required=True, metadata={"description": "`created` for the creation (the record in `new`)"})
    old = fields.Raw(allow_none=True, required=True, metadata={"description": "the value before, as JSON"})
    new = fields.Raw(allow_none=True, required=True, metadata={"description": "the value after, as JSON"})
    changed_by = fields.String(required=True)
    changed_at = DateTime(required=True)
    reason = fields.String(allow_none=True, required=True)


ChangePage = page_of(ChangeOut, "ChangePage")
