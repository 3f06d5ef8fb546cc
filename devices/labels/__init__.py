"""Printable labels that stations read back: lot labels, location labels, the command card.

    lot_label(gtin14, expiry, lot, *, fmt="svg"|"png", title=None) -> bytes   GS1-128 (01)(17)(10)
    location_label(code, name, fmt="svg"|"png") -> bytes                     Code 128 `#LOC:<code>`
    command_card(fmt="svg"|"png", *, quantities=...) -> bytes                all command barcodes

Barcodes are encoded by python-barcode and drawn by `render` (SVG in millimetres, PNG at a dpi
with whole-pixel modules). Pure: no I/O and nothing from inventory_service. Contract: data a
barcode cannot carry, or that `devices.barcodes.parse_scan` would not read back as printed
(a GTIN that is not 14 digits with its check digit, a lot outside GS1's AI-82 set or longer
than 20, a location code the #LOC command refuses), raises ValueError; anything else renders.
"""

from __future__ import annotations

from devices.labels.designs import (
    DEFAULT_QUANTITIES,
    MODE_COMMANDS,
    Format,
    card_commands,
    command_card,
    location_command,
    location_label,
    lot_label,
)
from devices.labels.render import DEFAULT_DPI, MAX_DPI, MIN_DPI

__all__ = [
    "DEFAULT_DPI",
    "DEFAULT_QUANTITIES",
    "MAX_DPI",
    "MIN_DPI",
    "MODE_COMMANDS",
    "Format",
    "card_commands",
    "command_card",
    "location_command",
    "location_label",
    "lot_label",
]
