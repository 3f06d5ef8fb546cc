"""A label as geometry: bars and text placed in millimetres, independent of the output format.

python-barcode encodes (start/stop characters, code sets, FNC1, check character) and gives the
module pattern (`build()`: "1" bar, "0" space); this module places patterns and text on a sheet,
and `render` draws the same sheet as SVG or PNG, so both formats have one layout.

Coordinates: x to the right, y down, millimetres, origin at the sheet's top-left corner.
"""

from __future__ import annotations

import textwrap
import unicodedata
from dataclasses import dataclass, field

from barcode.codex import Code128, Gs1_128

# 10 mil modules: 3 dots at 300 dpi, 6 at 600 dpi, ~2 at the 203 dpi of common label printers.
MODULE_MM = 0.254
BAR_HEIGHT_MM = 12.0
# Code 128 and GS1-128 need a quiet zone of at least 10 modules on each side (ISO/IEC 15417,
# GS1 General Specifications 5.4.4): nothing is drawn closer to the bars than this.
QUIET_ZONE_MM = 10 * MODULE_MM
MARGIN_MM = 4.0
PT_MM = 25.4 / 72
# Advance of DejaVu Sans Mono (the font python-barcode ships, used for PNG) is 0.602 em;
# SVG names it first, so the width estimate holds for both.
CHAR_WIDTH_EM = 0.61
LINE_GAP_MM = 1.2


@dataclass(frozen=True)
class Bars:
    """A symbol's modules, drawn from x (left of the first bar) at y (top of the bars)."""

    x: float
    y: float
    modules: str
    height: float = BAR_HEIGHT_MM
    module: float = MODULE_MM

    @property
    def width(self) -> float:
        return len(self.modules) * self.module

    def runs(self) -> list[tuple[int, int]]:
        """(first module, count) of each bar: consecutive dark modules drawn as one rectangle."""
        out: list[tuple[int, int]] = []
        start = None
        for i, m in enumerate(self.modules + "0"):
            if m == "1" and start is None:
                start = i
            elif m != "1" and start is not None:
                out.append((start, i - start))
                start = None
        return out


@dataclass(frozen=True)
class Text:
    """One line of text; x is its centre (anchor "middle") or its left end ("start"); y its baseline."""

    x: float
    y: float
    text: str
    size_pt: float = 9.0
    anchor: str = "middle"
    bold: bool = False


@dataclass
class Sheet:
    """A page or label: its size and what is drawn on it."""

    width: float
    height: float
    items: list[Bars | Text] = field(default_factory=list)


def code128_modules(text: str) -> str:
    """Module pattern of a plain Code 128 symbol (python-barcode adds start, check and stop)."""
    return Code128(text).build()[0]


def gs1_128_modules(data: str) -> str:
    """Module pattern of a GS1-128 symbol: python-barcode adds the leading FNC1; `data` carries
    any later FNC1 itself (see gs1.element_data)."""
    return Gs1_128(data).build()[0]


def printable(text: str) -> str:
    """`text` without control characters (not allowed in XML 1.0, and meaningless on a label)."""
    return "".join(" " if unicodedata.category(c) in ("Cc", "Cs", "Cn") else c for c in text)


def text_width(text: str, size_pt: float) -> float:
    """Estimated width in mm of `text` in a monospaced font of `size_pt` points."""
    return len(text) * CHAR_WIDTH_EM * size_pt * PT_MM


def wrap(text: str, size_pt: float, width: float) -> list[str]:
    """Split `text` at spaces into lines that fit `width` mm (a word longer than a line is cut)."""
    columns = max(8, int(width / (CHAR_WIDTH_EM * size_pt * PT_MM)))
    return textwrap.wrap(printable(text), columns, break_on_hyphens=False) or [""]


class Column:
    """Stacks lines of text and symbols top to bottom, centred on a column of a given width."""

    def __init__(self, x: float, y: float, width: float) -> None:
        self.x, self.y, self.width = x, y, width
        self.items: list[Bars | Text] = []

    @property
    def centre(self) -> float:
        return self.x + self.width / 2

    def text(self, text: str, size_pt: float = 9.0, *, bold: bool = False, wrapped: bool = True) -> None:
        """Add `text`, wrapped to the column width unless `wrapped` is False (data that must stay
        on one line, such as a barcode's interpretation line: make the column wide enough)."""
        for line in wrap(text, size_pt, self.width) if wrapped else [printable(text)]:
            self.y += size_pt * PT_MM * 0.8  # ascent: the baseline sits below the line's top
            self.items.append(Text(self.centre, self.y, line, size_pt, bold=bold))
            self.y += size_pt * PT_MM * 0.2 + LINE_GAP_MM

    def bars(self, modules: str, height: float = BAR_HEIGHT_MM) -> Bars:
        """Add a symbol centred in the column (the column must leave room for its quiet zones)."""
        bars = Bars(self.centre - len(modules) * MODULE_MM / 2, self.y, modules, height)
        self.items.append(bars)
        self.y += height + LINE_GAP_MM
        return bars

    def gap(self, mm: float) -> None:
        self.y += mm


def symbol_width(modules: str) -> float:
    """Width of a symbol with its quiet zones."""
    return len(modules) * MODULE_MM + 2 * QUIET_ZONE_MM


def single_label(lines_above: list[tuple[str, float]], modules: str, lines_below: list[tuple[str, float]],
                 *, min_width: float = 50.0) -> Sheet:
    """A label holding one symbol, with text (text, size in pt) above it, wrapped to the label's
    width, and single lines below it, which the label is made wide enough to hold."""
    width = max([min_width, symbol_width(modules)] + [text_width(text, size) for text, size in lines_below])
    column = Column(MARGIN_MM, MARGIN_MM, width)
    for text, size in lines_above:
        column.text(text, size, bold=True)
    column.gap(1.0)
    column.bars(modules)
    for text, size in lines_below:
        column.text(text, size, wrapped=False)
    return Sheet(width + 2 * MARGIN_MM, column.y + MARGIN_MM, column.items)
