"""JSON answers write times as RFC 3339 (`2026-12-07T15:07:13+00:00`) and dates as `YYYY-MM-DD`.

Marshmallow schemas already do; this covers what Flask serialises itself, such as datetimes in the
plain dicts of a `fields.Dict` or a history row, which Flask's default provider writes as HTTP dates.
"""

from __future__ import annotations

from typing import Any

from flask.json.provider import DefaultJSONProvider

from ..domain.instants import wire_value


class Rfc3339JSONProvider(DefaultJSONProvider):
    sort_keys = False

    @staticmethod
    def default(o: Any) -> Any:
        try:
            return wire_value(o)
        except TypeError:
            return DefaultJSONProvider.default(o)
