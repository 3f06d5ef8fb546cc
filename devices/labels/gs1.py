"""GS1 element strings for printing: validation, FNC1 placement and the human-readable line.

python-barcode's `Gs1_128` only adds the leading FNC1 (the symbol's GS1 flag); every later FNC1
that the standard needs is inserted here as `FNC1` (`\\xf1`, python-barcode's FNC1 character).

Contract: `element_data(elements)` and `lot_elements(...)` raise ValueError for anything that a
GS1-128 symbol may not carry; what they return always encodes.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Sequence

FNC1 = "\xf1"

# GS1 General Specifications, figure 7.11-1: the 82 characters allowed in alphanumeric AIs (X).
AI82 = frozenset("!\"%&'()*+,-./:;<=>?_" + string.digits + string.ascii_letters)

# GS1 GenSpecs figure 7.8.5-2: AIs of predefined length, the only ones that need no FNC1
# after them. Every other AI is terminated by FNC1 unless it is the last in the symbol.
PREDEFINED_LENGTH_PREFIXES = frozenset(
    ["00", "01", "02", "03", "04", "20", "41"] + [str(n) for n in range(11, 20)] + [str(n) for n in range(31, 37)]
)

# GS1 GenSpecs 5.4.1: a GS1-128 symbol holds at most 48 data characters (FNC1s not counted).
MAX_DATA_CHARACTERS = 48
MAX_LOT_LENGTH = 20  # AI (10): X..20
_AI = re.compile(r"[0-9]{2,4}")
_GTIN14 = re.compile(r"[0-9]{14}")

Element = tuple[str, str]


def gtin_check_digit(payload: str) -> int:
    """GS1 GenSpecs 7.9.1: weights 3,1,3,1,... from the right; check = (10 - sum mod 10) mod 10."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return (10 - total % 10) % 10


def check_gtin14(gtin: str) -> str:
    """Return `gtin` when it is 14 ASCII digits with a correct check digit, else raise ValueError."""
    if not isinstance(gtin, str) or _GTIN14.fullmatch(gtin) is None:
        raise ValueError(f"GTIN must be 14 digits, got {gtin!r}")
    if gtin_check_digit(gtin[:-1]) != int(gtin[-1]):
        raise ValueError(f"GTIN {gtin} has a wrong check digit")
    return gtin


def check_lot(lot: str) -> str:
    """Return `lot` when AI (10) can carry it: 1-20 characters of the AI-82 set, else raise ValueError."""
    if not isinstance(lot, str) or not 1 <= len(lot) <= MAX_LOT_LENGTH:
        raise ValueError(f"a GS1 lot has 1 to {MAX_LOT_LENGTH} characters, got {lot!r}")
    bad = sorted({c for c in lot if c not in AI82})
    if bad:
        raise ValueError(f"lot {lot!r} has characters outside the GS1 AI-82 set: {''.join(bad)!r}")
    return lot


def lot_elements(gtin14: str, expiry: dt.date, lot: str) -> list[Element]:
    """(01) GTIN, (17) expiry YYMMDD, (10) lot: the variable-length lot last, so no FNC1 follows it."""
    if not isinstance(expiry, dt.date):
        raise ValueError("expiry must be a date")
    return [("01", check_gtin14(gtin14)), ("17", expiry.strftime("%y%m%d")), ("10", check_lot(lot))]


def needs_separator(ai: str) -> bool:
    """True when a field with this AI must be followed by FNC1 if anything comes after it."""
    return ai[:2] not in PREDEFINED_LENGTH_PREFIXES


def element_data(elements: Sequence[Element]) -> str:
    """The data for `Gs1_128` (without its leading FNC1), with FNC1 after each variable-length
    field that is not last (GS1 GenSpecs 7.8.5)."""
    if not elements:
        raise ValueError("a GS1 symbol needs at least one element")
    parts: list[str] = []
    for index, (ai, value) in enumerate(elements):
        if _AI.fullmatch(ai) is None:
            raise ValueError(f"bad application identifier {ai!r}")
        if not value or any(c not in AI82 for c in value):
            raise ValueError(f"value of AI ({ai}) is empty or has characters outside AI-82: {value!r}")
        parts.append(ai + value)
        if index < len(elements) - 1 and needs_separator(ai):
            parts.append(FNC1)
    data = "".join(parts)
    if len(data.replace(FNC1, "")) > MAX_DATA_CHARACTERS:
        raise ValueError(f"a GS1-128 symbol holds at most {MAX_DATA_CHARACTERS} data characters")
    return data


def human_readable(elements: Sequence[Element]) -> str:
    """The interpretation line printed under the bars: each AI in parentheses (GS1 GenSpecs 4.15)."""
    return "".join(f"({ai}){value}" for ai, value in elements)
