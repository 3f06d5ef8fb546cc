"""Keyset pagination with opaque cursors: stable under inserts, O(page) at any depth."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from ..domain.errors import InvalidRequest

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next: str | None


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int) -> list[Any] | None:
    """Decode a cursor made by `encode_cursor`; a damaged one is a 422, not a 500."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequest("malformed cursor", code="bad_cursor") from exc
    if not isinstance(key, list) or len(key) != arity:
        raise InvalidRequest("malformed cursor", code="bad_cursor")
    return key


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    return max(1, min(MAX_LIMIT, limit))
