"""GTIN check digits (GS1 General Specifications §7.9.1).

Weights 3,1,3,1,... from the right, excluding the check digit; check = (10 - sum mod 10) mod 10.
"""

from __future__ import annotations

GTIN_LENGTHS = (8, 12, 13, 14)


def check_digit(body: str) -> int:
    """The check digit for `body` (the GTIN without its last digit)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def normalise_gtin(value: str) -> str | None:
    """A valid GTIN-8/12/13/14 as 14 digits (left-padded with zeros), or None when invalid."""
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) not in GTIN_LENGTHS:
        return None
    if check_digit(value[:-1]) != int(value[-1]):
        return None
    return value.zfill(14)
