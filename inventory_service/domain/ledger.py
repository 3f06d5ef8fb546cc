"""The hash chain that makes the movement log tamper-evident.

Each movement's hash covers its own fields and the previous movement's hash, so editing or
deleting any row breaks every later link; the chain head (last hash and row count) is stored
apart so that removing the newest rows is detected too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64

#: The movement fields covered by the hash. Adding a field here is a ledger format change.
HASHED_FIELDS = (
    "id", "kind", "item_id", "lot_id", "location_id", "quantity", "balance_after",
    "occurred_at", "actor", "source", "reason", "reference",
)


def canonical_value(value: Any) -> Any:
    """Datetimes become UTC ISO strings so both databases hash the same instant the same way."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def movement_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """SHA-256 over the previous hash and a canonical JSON of the hashed fields."""
    body = {name: canonical_value(fields.get(name)) for name in HASHED_FIELDS}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    movement_id: int | None
    problem: str


def verify_chain(
    rows: Iterable[tuple[Mapping[str, Any], str, str]], head_hash: str, head_count: int
) -> ChainBreak | None:
    """Check rows given as (fields, prev_hash, hash) in id order; return the first break or None."""
    expected_prev = GENESIS
    count = 0
    for fields, prev_hash, stored_hash in rows:
        count += 1
        if prev_hash != expected_prev:
            return ChainBreak(fields["id"], "previous hash does not match: a row before it was removed or edited")
        if movement_hash(prev_hash, fields) != stored_hash:
            return ChainBreak(fields["id"], "row content does not match its hash: the row was edited")
        expected_prev = stored_hash
    if count != head_count or expected_prev != head_hash:
        return ChainBreak(None, f"chain head expects {head_count} rows ending in {head_hash[:12]}, found {count}")
    return None
