"""Shapes shared by every resource: the error, pagination arguments and page envelopes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate


def _ill_formed(value: Any) -> bool:
    """Whether `value` holds a string with a lone surrogate (JSON can escape one, UTF-8 cannot
    encode it, so no database could store it)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, Mapping):
        return any(_ill_formed(k) or _ill_formed(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_ill_formed(v) for v in value)
    return False


class Strict(Schema):
    """Unknown fields in a request are an error, not silently dropped; so is text that is not
    well-formed Unicode."""

    class Meta:
        unknown = "raise"

    @pre_load
    def _well_formed_text(self, data: Any, **kwargs: Any) -> Any:
        if _ill_formed(data):
            raise ValidationError("text must be well-formed Unicode (it holds a lone surrogate)")
        return data


class ErrorBody(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Raw(allow_none=True)


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBody, required=True)


class PageArgs(Strict):
    limit = fields.Integer(load_default=None, validate=validate.Range(min=1, max=500))
    cursor = fields.String(load_default=None)


def page_of(item_schema: type[Schema], name: str) -> type[Schema]:
    """A `{"items": [...], "next": cursor or null}` envelope around `item_schema`."""
    attrs: dict[str, Any] = {
        "items": fields.List(fields.Nested(item_schema), required=True),
        "next": fields.String(allow_none=True, required=True),
    }
    return Schema.from_dict(attrs, name=name)


Positive = validate.Range(min=1)
#: A row id in a body or query: what an `integer` id column holds on PostgreSQL.
RowId = validate.Range(min=1, max=2**31 - 1)
NonNegative = validate.Range(min=0)
Text = validate.Length(min=1, max=200)
