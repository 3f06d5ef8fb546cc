"""Shapes shared by every resource: the schema base class, times, bounds, the error and page envelopes.

`Strict` is the base of every request and answer schema. What it enforces holds for every field of
every schema built on it, so a new endpoint gets it without asking:

- unknown fields are an error, and so is text that no database could store (a lone surrogate, NUL);
- JSON types are what the document says: no float (not even 2.0) for an integer, no number or string
  for a boolean, no string for a number, no boolean for either. A query string is text, so there an
  integer is `-?[0-9]+`, a number a JSON number and a boolean `true` or `false`;
- times are `DateTime` and dates `Date` from this module (a plain marshmallow one is refused when the
  schema is built): a date-time without a zone is read in the site's zone (INVENTORY_TIMEZONE), and a
  plain date where a date-time is asked means the site's midnight starting that day.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from marshmallow import Schema, ValidationError, fields, pre_load, validate
from webargs.multidictproxy import MultiDictProxy

#: The largest value of an `integer` column on PostgreSQL (ids, quantities, counters stored as INTEGER).
INT32_MAX = 2**31 - 1
#: The largest value of a `bigint` column (reading ids, sequence numbers, lifetime cycle counters).
INT64_MAX = 2**63 - 1
#: Dates and times the service takes: far enough either way for any record, near enough that date
#: arithmetic (expiry + 1 day, a window in UTC) never leaves Python's range.
EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)

_INTEGER_TEXT = re.compile(r"-?[0-9]+")
_NUMBER_TEXT = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_TIME_TEXT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?([Zz]|[+-][0-9]{2}:[0-9]{2})?")


def _ill_formed(value: Any) -> str | None:
    """Why `value` holds text no database could store: a lone surrogate (JSON can escape one, UTF-8
    cannot encode it) or NUL (PostgreSQL's text refuses it); None when it holds none."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "text must be well-formed Unicode (it holds a lone surrogate)"
        return "text must not contain NUL (\\u0000)" if "\x00" in value else None
    if isinstance(value, Mapping):
        return next((p for k, v in value.items() if (p := _ill_formed(k) or _ill_formed(v))), None)
    if isinstance(value, list | tuple):
        return next((p for v in value if (p := _ill_formed(v))), None)
    return None


def _wire_problem(field: fields.Field, value: Any, text: bool) -> Any:
    """The error for `value` given to `field` if its type is not the document's; None if it is.

    `text`: the value comes from a query string, where every value is text."""
    if value is None:
        return None  # allow_none is the field's business
    if isinstance(field, fields.List) and isinstance(value, list):
        inner = {i: p for i, v in enumerate(value) if (p := _wire_problem(field.inner, v, text)) is not None}
        return inner or None
    if isinstance(field, fields.Boolean):
        ok = value in ("true", "false") if text else isinstance(value, bool)
        return None if ok else ["Not a valid boolean."]
    if isinstance(field, fields.Integer):
        ok = (isinstance(value, str) and _INTEGER_TEXT.fullmatch(value) is not None) if text else (
            isinstance(value, int) and not isinstance(value, bool))
        return None if ok else ["Not a valid integer."]
    if isinstance(field, fields.Number):
        if text:
            ok = isinstance(value, str) and _NUMBER_TEXT.fullmatch(value) is not None and math.isfinite(float(value))
        else:
            ok = isinstance(value, int | float) and not isinstance(value, bool) and _finite(value)
        return None if ok else ["Not a valid number."]
    return None


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer beyond any float
        return False


def site_zone() -> ZoneInfo:
    """The site's zone (INVENTORY_TIMEZONE) of the app handling the request; UTC outside one."""
    if has_app_context():
        return current_app.extensions["inventory"].settings.tz  # type: ignore[no-any-return]
    return ZoneInfo("UTC")


class DateTime(fields.DateTime):
    """An instant, written as RFC 3339 with its offset (`2026-12-07T15:07:13+00:00`).

    Read: RFC 3339; without a zone (`2026-12-07T15:00:00`) the time is the site's wall-clock time;
    a plain date (`2026-12-07`) is the site's midnight starting that day. Years 1900-2999.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> datetime:
        if not isinstance(value, str):
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        zone = site_zone()
        if _DATE_TEXT.fullmatch(value):
            day = Date().deserialize(value)
            return datetime.combine(day, time(0, 0), zone)
        if not _DATE_TIME_TEXT.fullmatch(value):
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        try:
            parsed = datetime.fromisoformat(value.upper().replace(" ", "T"))
        except ValueError as exc:
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from exc
        if not EARLIEST.year <= parsed.year <= LATEST.year:
            raise ValidationError(f"must be between {EARLIEST.year} and {LATEST.year}")
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


class Date(fields.Date):
    """A calendar date, `YYYY-MM-DD`, between 1900-01-01 and 2999-12-31."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", validate.Range(min=EARLIEST, max=LATEST))
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> date:
        if not isinstance(value, str) or not _DATE_TEXT.fullmatch(value):
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        return super()._deserialize(value, attr, data, **kwargs)


class Strict(Schema):
    """The base of every schema: see the module's docstring for what it enforces."""

    class Meta:
        unknown = "raise"

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        inner = field_obj.inner if isinstance(field_obj, fields.List) else field_obj
        if type(inner) in (fields.DateTime, fields.Date, fields.AwareDateTime, fields.NaiveDateTime):
            raise TypeError(f"{type(self).__name__}.{field_name}: use schemas.common.DateTime/Date, which read "
                            "times the one way the API documents")

    @pre_load
    def _wire_types(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, Mapping):
            if problem := _ill_formed(data):
                raise ValidationError(problem)
            return data  # marshmallow answers "Invalid input type"
        text = isinstance(data, MultiDictProxy)  # a query string (webargs); a JSON body is a plain dict
        errors: dict[str, Any] = {}
        for key in data:
            if problem := _ill_formed(key):
                raise ValidationError(problem)
        for name, field in self.load_fields.items():
            key = field.data_key or name
            if key not in data:
                continue
            if problem := _ill_formed(data[key]):
                errors[key] = [problem]
            elif (problem := _wire_problem(field, data[key], text)) is not None:
                errors[key] = problem
        if errors:
            raise ValidationError(errors)
        return data


class ErrorBody(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Raw(allow_none=True)


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBody, required=True)


#: What `next` holds and `cursor` takes back: an opaque token (base64url), never built by hand.
CURSOR_PATTERN = r"^[A-Za-z0-9_-]{0,500}$"


def Cursor() -> fields.String:
    """A page's `cursor` argument. Its pattern is documented here and checked by the pagination
    service, which answers `422 bad_cursor` for anything it did not write."""
    return fields.String(load_default=None, metadata={"pattern": CURSOR_PATTERN, "description": (
        "an opaque token: the `next` of the previous page, passed back as it came; absent or empty: the first "
        "page (anything else is `422 bad_cursor`)")})


#: `@blp.doc(**CSV_TOO)` on a view whose 200 is JSON or, with `format=csv`, CSV: both are documented.
CSV_TOO: dict[str, Any] = {"responses": {200: {"content": {"text/csv": {"schema": {"type": "string"}}}}}}

Positive = validate.Range(min=1)
#: A row id in a body or query: what an `integer` id column holds on PostgreSQL.
RowId = validate.Range(min=1, max=INT32_MAX)
#: An id of a `bigint` column (readings).
BigRowId = validate.Range(min=1, max=INT64_MAX)
NonNegative = validate.Range(min=0)
Text = validate.Length(min=1, max=200)
#: Stock is counted in eaches: one movement moves at most a million, a balance holds at most INT32_MAX.
MAX_QUANTITY = 1_000_000
Quantity = validate.Range(min=1, max=MAX_QUANTITY)
#: A count of days in a query or a setting (lead times, horizons): at most 100 years.
Days = validate.Range(min=0, max=36_500)
#: Minutes in a setting (delays, reminders): at most a year.
Minutes = validate.Range(min=1, max=525_600)
#: A temperature in °C a unit, a rule or a reading can have (absolute zero to an autoclave and beyond).
Celsius = validate.Range(min=-273.15, max=1000)
Limit = validate.Range(min=1, max=500)


class PageArgs(Strict):
    limit = fields.Integer(load_default=None, validate=Limit)
    cursor = Cursor()


def page_of(item_schema: type[Schema], name: str) -> type[Schema]:
    """A `{"items": [...], "next": cursor or null}` envelope around `item_schema`."""
    attrs: dict[str, Any] = {
        "items": fields.List(fields.Nested(item_schema), required=True),
        "next": fields.String(allow_none=True, required=True,
                              metadata={"description": "the cursor of the next page (an opaque token), or null"}),
    }
    return Schema.from_dict(attrs, name=name)
