"""How the service writes a time, in every body it sends (JSON, CSV, server-sent events, webhooks,
MQTT, e-mail): RFC 3339 with the offset (`2026-12-07T15:07:13+00:00`), dates as `YYYY-MM-DD`.

Python's `str(datetime)` puts a space between date and time and Flask's JSON writes HTTP dates
("Mon, 07 Dec 2026 15:07:13 GMT"); neither is what the API documents.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any


def rfc3339(value: datetime) -> str:
    """`value` as RFC 3339. A time without a zone has no single meaning, so it is refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"a time without a zone cannot be written as RFC 3339: {value!r}")
    return value.isoformat()


def wire_value(value: Any) -> Any:
    """The JSON form of a value the standard encoder cannot write: times and dates as above, a
    Decimal as its exact text. Raises TypeError for anything else (as `json.dumps(default=...)` expects)."""
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def as_text(value: Any) -> str:
    """A CSV cell: a time or date as above, None as empty, anything else as `str`."""
    if value is None:
        return ""
    if isinstance(value, date):
        return str(wire_value(value))
    return str(value)
