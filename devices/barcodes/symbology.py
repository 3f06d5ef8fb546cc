"""AIM symbology identifiers (ISO/IEC 15424) that a scanner may put in front of the data.

An identifier is three characters: `]`, a symbology code letter and one modifier character
(`]C1`, `]d2`, `]Q3`, `]E0`, ...). Scanners add it only when configured to, so it may be absent.

Contract: `split_symbology(text)` never raises; it returns `(identifier or None, rest)` and
`identifier + rest == text` whenever an identifier was found.
"""

from __future__ import annotations

import re

# "]" + symbology code character + modifier character (ISO/IEC 15424, section 5).
_AIM = re.compile(r"\][A-Za-z][0-9A-Za-z]")

# Carriers of GS1 element strings: the leading FNC1 became the identifier itself
# (GS1 General Specifications 5.1.2, "Symbology identifiers").
GS1_ELEMENT_STRING = frozenset({
    "]C1",  # GS1-128
    "]d2",  # GS1 DataMatrix
    "]Q3",  # GS1 QR Code
    "]e0",  # GS1 DataBar / composite
    "]J1",  # GS1 DotCode
})

# Carriers of a bare GTIN (EAN/UPC family and ITF-14).
GTIN_ONLY = frozenset({
    "]E0",  # EAN-13, UPC-A, UPC-E (UPC-E arrives as 8 digits)
    "]E3",  # EAN-13/UPC-A with a 2- or 5-digit add-on appended
    "]E4",  # EAN-8
    "]I1",  # ITF with check digit (ITF-14)
})

# Code 39 modifiers 3 and 7: the scanner verified the mod-43 check character and did not
# transmit it (ISO/IEC 15424, Code 39 modifiers). HIBC's check is that same character.
CODE39_CHECK_STRIPPED = frozenset({"]A3", "]A7"})

NAMES = {
    "]C0": "Code 128", "]C1": "GS1-128", "]d1": "Data Matrix", "]d2": "GS1 DataMatrix",
    "]Q1": "QR Code", "]Q3": "GS1 QR Code", "]e0": "GS1 DataBar", "]E0": "EAN-13/UPC",
    "]E3": "EAN/UPC with add-on", "]E4": "EAN-8", "]I1": "ITF-14", "]J1": "GS1 DotCode",
    "]A0": "Code 39",
}


def split_symbology(text: str) -> tuple[str | None, str]:
    """Split a leading AIM identifier off `text`; `(None, text)` when there is none."""
    if _AIM.match(text):
        return text[:3], text[3:]
    return None, text


def carries_gs1(identifier: str | None) -> bool:
    """True when the identifier says the data is a GS1 element string."""
    return identifier in GS1_ELEMENT_STRING


def carries_gtin_only(identifier: str | None) -> bool:
    """True when the identifier says the data is a bare EAN/UPC/ITF-14 number."""
    return identifier in GTIN_ONLY


def is_plain(identifier: str | None) -> bool:
    """True for an identifier of a symbol that is neither GS1 nor EAN/UPC (e.g. ]C0, ]d1, ]Q1)."""
    return identifier is not None and not carries_gs1(identifier) and not carries_gtin_only(identifier)


def name_of(identifier: str | None) -> str | None:
    """A human name for a known identifier, else None."""
    return NAMES.get(identifier or "")
