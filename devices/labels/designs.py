"""The labels the service prints: lot labels (GS1-128), location labels and the command card.

Each design lays out a Sheet; `render` turns it into SVG or PNG. What the bars carry is exactly
what `devices.barcodes.parse_scan` reads back (tests decode the PNGs with a real decoder).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Literal

from devices.labels import gs1
from devices.labels.render import DEFAULT_DPI, to_png, to_svg
from devices.labels.sheet import (
    MARGIN_MM,
    Column,
    Sheet,
    code128_modules,
    gs1_128_modules,
    printable,
    single_label,
    symbol_width,
)

Format = Literal["svg", "png"]

# Command barcodes (ARCHITECTURE §4, Serial scanners), with what staff read next to them.
MODE_COMMANDS: tuple[tuple[str, str], ...] = (
    ("#MODE:RECEIVE", "Receive"),
    ("#MODE:CONSUME", "Consume"),
    ("#MODE:COUNT", "Count"),
    ("#MODE:TRANSFER", "Transfer"),
    ("#DONE", "Done"),
)
DEFAULT_QUANTITIES = (1, 2, 3, 4, 5, 6, 10, 12, 20, 25, 50, 100)
MAX_CARD_QUANTITY = 100_000  # the station's limit for one scan
# What the command parser accepts after #LOC: (devices/barcodes/commands.py); a code outside it
# would print a label that no station can use.
LOCATION_CODE = re.compile(r"[A-Za-z0-9._/-]{1,64}")
CARD_WIDTH_MM = 190.0  # fits A4 (210 mm) and US Letter (216 mm) with printer margins
CARD_COLUMNS = 3
GUTTER_MM = 8.0


def _output(sheet: Sheet, fmt: Format, title: str, dpi: int) -> bytes:
    if fmt == "svg":
        return to_svg(sheet, title=title)
    if fmt == "png":
        return to_png(sheet, dpi=dpi)
    raise ValueError(f"unknown label format {fmt!r} (svg or png)")


def lot_label(gtin14: str, expiry: dt.date, lot: str, *, fmt: Format = "svg", title: str | None = None,
              dpi: int = DEFAULT_DPI) -> bytes:
    """A GS1-128 label for a lot: (01) GTIN (17) expiry (10) lot, with the interpretation line
    and a plain-language expiry/lot line for staff. ValueError for data GS1 cannot carry."""
    elements = gs1.lot_elements(gtin14, expiry, lot)
    modules = gs1_128_modules(gs1.element_data(elements))
    above = [(title, 10.0)] if title else []
    below = [(gs1.human_readable(elements), 9.0), (f"EXP {expiry.isoformat()}   LOT {lot}", 9.0)]
    sheet = single_label(above, modules, below)
    return _output(sheet, fmt, printable(title or f"Lot {lot}"), dpi)


def location_command(code: str) -> str:
    """`#LOC:<code>`, the command a location label carries; ValueError for a code stations reject."""
    if not isinstance(code, str) or LOCATION_CODE.fullmatch(code) is None:
        raise ValueError(f"location code {code!r} is not 1-64 of A-Z a-z 0-9 . _ / -")
    return f"#LOC:{code}"


def location_label(code: str, name: str, fmt: Format = "svg", *, dpi: int = DEFAULT_DPI) -> bytes:
    """A Code 128 label carrying `#LOC:<code>`: scanned in transfer mode it picks the destination."""
    command = location_command(code)
    sheet = single_label([(name, 12.0)], code128_modules(command), [(command, 9.0)])
    return _output(sheet, fmt, printable(f"Location {code}: {name}"), dpi)


def quantity_commands(quantities: Sequence[int]) -> tuple[tuple[str, str], ...]:
    """`#QTY:<n>` commands with their captions; ValueError for a quantity a station refuses."""
    out = []
    for n in quantities:
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_CARD_QUANTITY:
            raise ValueError(f"card quantities are whole numbers from 1 to {MAX_CARD_QUANTITY}, got {n!r}")
        out.append((f"#QTY:{n}", f"Quantity {n}"))
    return tuple(out)


def card_commands(quantities: Sequence[int] = DEFAULT_QUANTITIES) -> tuple[str, ...]:
    """Every command printed on the card, in order."""
    return tuple(c for c, _ in MODE_COMMANDS + quantity_commands(quantities))


def command_card(fmt: Format = "svg", *, quantities: Sequence[int] = DEFAULT_QUANTITIES,
                 dpi: int = DEFAULT_DPI) -> bytes:
    """One printable page with every mode command, #DONE and `#QTY:<n>` for each quantity."""
    sections = [
        ("Mode: scan one, then the supplies. Done ends a count or transfer.", MODE_COMMANDS),
        ("Quantity: the next supply scan counts this many.", quantity_commands(quantities)),
    ]
    column = Column(MARGIN_MM, MARGIN_MM, CARD_WIDTH_MM)
    column.text("Scanner command card", 14.0, bold=True)
    for heading, commands in sections:
        column.gap(3.0)
        column.text(heading, 10.0)
        column.gap(2.0)
        _grid(column, commands)
    sheet = Sheet(CARD_WIDTH_MM + 2 * MARGIN_MM, column.y + MARGIN_MM, column.items)
    return _output(sheet, fmt, "Scanner command card", dpi)


def _grid(column: Column, commands: Sequence[tuple[str, str]]) -> None:
    """Add captioned symbols to `column` in rows of CARD_COLUMNS cells, moving it below them."""
    patterns = [(code128_modules(command), command, caption) for command, caption in commands]
    cell = max(symbol_width(modules) for modules, _, _ in patterns)
    if CARD_COLUMNS * cell + (CARD_COLUMNS - 1) * GUTTER_MM > column.width:
        raise ValueError("a command is too long for the card")
    for row in range(0, len(patterns), CARD_COLUMNS):
        bottom = column.y
        for col, (modules, command, caption) in enumerate(patterns[row:row + CARD_COLUMNS]):
            cell_column = Column(column.x + col * (cell + GUTTER_MM), column.y, cell)
            cell_column.text(caption, 9.0, bold=True)
            cell_column.bars(modules)
            cell_column.text(command, 8.0, wrapped=False)
            column.items.extend(cell_column.items)
            bottom = max(bottom, cell_column.y)
        column.y = bottom + GUTTER_MM
