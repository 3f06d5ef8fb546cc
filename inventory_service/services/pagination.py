"""Keyset pagination with opaque cursors: stable under inserts, O(page) at any depth."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from ..domain.errors import InvalidRequest

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
#: What `encode_cursor` writes: base64url without padding. Anything else was not made here.
CURSOR = re.compile(r"[A-Za-z0-9_-]{1,500}")
_ID_MAX = 2**63 - 1  # a cursor's id is a row id: within a bigint


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next: str | None


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int) -> list[Any] | None:
    """Decode a cursor made by `encode_cursor`; a damaged one is a 422 `bad_cursor`, not a 500."""
    if not cursor:
        return None
    if not CURSOR.fullmatch(cursor):
        raise InvalidRequest("malformed cursor: pass back the `next` of the page before, as it came",
                             code="bad_cursor")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequest("malformed cursor", code="bad_cursor") from exc
    if not isinstance(key, list) or len(key) != arity:
        raise InvalidRequest("malformed cursor", code="bad_cursor")
    return key


def cursor_id(value: Any) -> int:
    """The row id a cursor holds: an integer within a bigint, else `bad_cursor`."""
    if isinstance(value, bool) or not isinstance(value, int) or not -_ID_MAX <= value <= _ID_MAX:
        raise InvalidRequest("malformed cursor", code="bad_cursor")
    return value


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    return max(1, min(MAX_LIMIT, limit))


def page_by_id(
    session: Session, query: Select[Any], id_column: Any, *, limit: int | None, cursor: str | None,
    to_dict: Callable[[Any], dict[str, Any]], newest_first: bool = False, scalars: bool = True,
) -> Page:
    """One page of `query` ordered by `id_column` (ascending, or descending with `newest_first`).

    Rows come from `session.scalars` (mapped objects) or, with `scalars=False`, `session.execute`
    (rows that must expose an `id` attribute).
    """
    limit = clamp_limit(limit)
    order = id_column.desc() if newest_first else id_column
    q = query.order_by(order).limit(limit + 1)
    key = decode_cursor(cursor, 1)
    if key:
        last = cursor_id(key[0])
        q = q.where(id_column < last if newest_first else id_column > last)
    rows = list(session.scalars(q) if scalars else session.execute(q))
    nxt = encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
    return Page([to_dict(r) for r in rows[:limit]], nxt)
