"""Draw a Sheet as an SVG document or a PNG image.

SVG: one user unit is one millimetre (viewBox), so the label prints at its true size; every text
is escaped by ElementTree, so names from the database cannot inject markup.
PNG: module widths are snapped to whole pixels at the requested dpi (uneven bar widths from
rounding are what makes a printed Code 128 hard to read; 10 mil modules are exactly 3 dots at
300 dpi), and the dpi is stored in the file so printing at 100 % keeps the size.
"""

from __future__ import annotations

import io
import math
from functools import lru_cache
from importlib import resources
from xml.etree import ElementTree as ET

from PIL import Image, ImageDraw, ImageFont

from devices.labels.sheet import PT_MM, Bars, Sheet, Text

SVG_NS = "http://www.w3.org/2000/svg"
FONT_FAMILY = "DejaVu Sans Mono, Menlo, Consolas, monospace"
DEFAULT_DPI = 300
MIN_DPI, MAX_DPI = 100, 1200


def to_svg(sheet: Sheet, *, title: str | None = None) -> bytes:
    """The sheet as a standalone SVG 1.1 document (UTF-8 bytes with an XML declaration)."""
    root = ET.Element("svg", {
        "xmlns": SVG_NS, "version": "1.1",
        "width": f"{sheet.width:.2f}mm", "height": f"{sheet.height:.2f}mm",
        "viewBox": f"0 0 {sheet.width:.3f} {sheet.height:.3f}",
    })
    if title:
        ET.SubElement(root, "title").text = title
    ET.SubElement(root, "rect", {"width": "100%", "height": "100%", "fill": "#ffffff"})
    bars_group = ET.SubElement(root, "g", {"fill": "#000000", "shape-rendering": "crispEdges"})
    text_group = ET.SubElement(root, "g", {"fill": "#000000", "font-family": FONT_FAMILY})
    for item in sheet.items:
        if isinstance(item, Bars):
            for start, count in item.runs():
                ET.SubElement(bars_group, "rect", {
                    "x": _mm(item.x + start * item.module), "y": _mm(item.y),
                    "width": _mm(count * item.module), "height": _mm(item.height),
                })
        else:
            attributes = {"x": _mm(item.x), "y": _mm(item.y), "font-size": _mm(item.size_pt * PT_MM),
                          "text-anchor": item.anchor}
            if item.bold:
                attributes["font-weight"] = "bold"
            ET.SubElement(text_group, "text", attributes).text = item.text
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def to_png(sheet: Sheet, *, dpi: int = DEFAULT_DPI) -> bytes:
    """The sheet as a greyscale PNG at `dpi` (100-1200)."""
    if not MIN_DPI <= dpi <= MAX_DPI:
        raise ValueError(f"dpi must be between {MIN_DPI} and {MAX_DPI}")
    scale = dpi / 25.4
    image = Image.new("L", (math.ceil(sheet.width * scale), math.ceil(sheet.height * scale)), 255)
    draw = ImageDraw.Draw(image)
    for item in sheet.items:
        if isinstance(item, Bars):
            _draw_bars(draw, item, scale)
        else:
            _draw_text(draw, item, scale)
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi), optimize=True)
    return out.getvalue()


def _mm(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _draw_bars(draw: ImageDraw.ImageDraw, bars: Bars, scale: float) -> None:
    # Whole pixels, rounded down: a symbol never grows into its quiet zones or off the sheet.
    module = max(1, math.floor(bars.module * scale + 1e-6))
    centre = (bars.x + bars.width / 2) * scale
    left = round(centre - len(bars.modules) * module / 2)
    top, bottom = round(bars.y * scale), round((bars.y + bars.height) * scale) - 1
    for start, count in bars.runs():
        draw.rectangle((left + start * module, top, left + (start + count) * module - 1, bottom), fill=0)


def _draw_text(draw: ImageDraw.ImageDraw, text: Text, scale: float) -> None:
    font = _font(max(1, round(text.size_pt * PT_MM * scale)))
    anchor = "ms" if text.anchor == "middle" else "ls"  # x at the middle or left, y at the baseline
    draw.text((text.x * scale, text.y * scale), text.text, font=font, fill=0, anchor=anchor,
              stroke_width=1 if text.bold else 0, stroke_fill=0)


@lru_cache(maxsize=16)
def _font(size_px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans Mono as shipped by python-barcode; Pillow's own font if it is missing."""
    try:
        data = resources.files("barcode").joinpath("fonts", "DejaVuSansMono.ttf").read_bytes()
        return ImageFont.truetype(io.BytesIO(data), size_px)
    except OSError:
        return ImageFont.load_default(size_px)
