"""Items, locations and tokens."""

from __future__ import annotations

from marshmallow import fields, validate

from ...services.auth import ROLES
from ...services.catalog import LOCATION_KINDS, STORAGE_KINDS
from .common import Cursor, DateTime, Limit, Strict, Text, page_of


class ItemIn(Strict):
    name = fields.String(required=True, validate=Text)
    sku = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    unit = fields.String(load_default="each", validate=validate.Length(min=1, max=32))
    gtins = fields.List(fields.String(validate=validate.Length(min=8, max=14)), load_default=list)
    storage = fields.String(load_default="room", validate=validate.OneOf(STORAGE_KINDS))
    hibc_codes = fields.List(fields.String(validate=validate.Length(min=6, max=24)), load_default=list,
                             metadata={"description": "HIBC LIC + PCN + unit of measure, e.g. A123BJC5D6E71"})


class ItemOut(Strict):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    sku = fields.String(allow_none=True)
    unit = fields.String(required=True)
    storage = fields.String(required=True)
    gtins = fields.List(fields.String(), required=True)
    hibc_codes = fields.List(fields.String(), required=True)
    created_at = DateTime(required=True)


class ItemQuery(Strict):
    limit = fields.Integer(load_default=None, validate=Limit)
    cursor = Cursor()
    gtin = fields.String(load_default=None, validate=validate.Length(max=14))


ItemPage = page_of(ItemOut, "ItemPage")


class LocationIn(Strict):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9._-]{1,64}$"))
    name = fields.String(required=True, validate=Text)
    kind = fields.String(required=True, validate=validate.OneOf(LOCATION_KINDS))


class LocationOut(Strict):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    created_at = DateTime(required=True)


LocationPage = page_of(LocationOut, "LocationPage")


class TokenIn(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class TokenOut(Strict):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True)
    prefix = fields.String(required=True)
    created_at = DateTime(required=True)
    revoked_at = DateTime(allow_none=True)
    token = fields.String(metadata={"description": "only in the answer to create; never shown again"})


class TokenList(Strict):
    items = fields.List(fields.Nested(TokenOut), required=True)


class ItemPatch(Strict):
    """Only the fields given change; `gtins` and `hibc_codes` replace the item's lists."""

    name = fields.String(validate=Text)
    sku = fields.String(allow_none=True, validate=validate.Length(max=64))
    unit = fields.String(validate=validate.Length(min=1, max=32))
    storage = fields.String(validate=validate.OneOf(STORAGE_KINDS))
    gtins = fields.List(fields.String(validate=validate.Length(min=8, max=14)),
                        metadata={"description": "the item's GTINs from now on (the full list)"})
    hibc_codes = fields.List(fields.String(validate=validate.Length(min=6, max=24)),
                             metadata={"description": "the item's HIBC codes from now on (the full list)"})
    reason = fields.String(validate=validate.Length(min=1, max=1000), metadata={"description": "kept in the history"})
