"""Shapes shared by every resource: the error, pagination arguments and page envelopes."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate


class Strict(Schema):
    """Unknown fields in a request are an error, not silently dropped."""

    class Meta:
        unknown = "raise"


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
NonNegative = validate.Range(min=0)
Text = validate.Length(min=1, max=200)
