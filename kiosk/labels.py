"""Parcel labels: the trade number in large print, the same number as a 1-D code, and the
store's tag as a QR code, rendered to PNG, SVG or PDF.

    ┌────────────┬──────────────────────┐
    │ ▓▓ QR ▓▓   │ TRADE NUMBER         │   100 mm × 60 mm
    │ ▓▓ tag ▓▓  │ 1234-5678            │   QR: the tag (numeric mode, ECC M or better)
    │ ▓▓▓▓▓▓▓▓   │ F2 tag · format v1   │   print: for people
    ├────────────┴──────────────────────┤   Code 128: the trade number, for the automatic
    │ ║│║║│║│║║│ Code 128 ║│║║│║│║║│║   │   label-versus-tag comparison (docs/tags.md)
    └───────────────────────────────────┘

One layout, computed once in printer dots (300 dpi unless told), drawn by three
backends, so every format shows the same modules at the same places: PNG and PDF through
Pillow (the PDF is the page at printer resolution, bilevel and lossless, sized in
millimetres: what a label printer prints anyway), SVG by hand (whole-dot rectangles in one path; the text is
stretched to its measured width, so the look does not depend on the viewer's fonts).
Module sizes are whole dots: a QR module never straddles two printer dots.

    kiosk label --trade-number 1234-5678 [--tag DIGITS] --out label.png|svg|pdf [--dpi 300]
"""

from __future__ import annotations

import argparse
import io
import sys
from typing import Any, cast
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import segno
import zxingcpp
from PIL import Image, ImageDraw, ImageFont, features

from kiosk.domain.parcels import normalise_trade_number, valid_trade_number
from kiosk.errors import TagMalformed
from kiosk.security import tags

WIDTH_MM, HEIGHT_MM, MARGIN_MM = 100.0, 60.0, 4.0
QR_MM = 38.0                 # the QR's square, quiet zone included
BARS_MM = 11.0               # height of the Code 128 bars
QR_QUIET, BAR_QUIET = 4, 10  # quiet zones in modules (ISO/IEC 18004, 15417)
MIN_BAR_DOTS = 2             # thinner Code 128 modules are left out rather than misread
FONT_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
              "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
FORMATS = ("png", "svg", "pdf")


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class Text:
    x: int
    y: int           # top of the text box (the font's ascender line)
    size: int        # font size, dots
    width: int       # measured width, dots (SVG stretches to it)
    text: str

    @property
    def baseline(self) -> int:
        return self.y + _font(self.size).getmetrics()[0]


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    dpi: int
    boxes: tuple[Box, ...]    # black rectangles: QR modules and bars
    texts: tuple[Text, ...]
    qr_version: str | None
    has_bars: bool


def _font(size: int) -> ImageFont.FreeTypeFont:
    for path in FONT_FILES:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    # Pillow's own font: no system font needed (a FreeType font: Pillow's wheels bundle FreeType).
    return cast(ImageFont.FreeTypeFont, ImageFont.load_default(size=size))


def _fit(text: str, max_w: int, max_h: int) -> tuple[int, int]:
    """The largest font size (and its width) at which ``text`` fits the box."""
    size = max_h
    while size > 6:
        left, _, right, _ = _font(size).getbbox(text)
        if right - left <= max_w:
            return size, round(right - left)
        size = int(size * 0.92)
    return size, _width(size, text)


def _width(size: int, text: str) -> int:
    """The width of ``text`` at ``size``, in whole dots."""
    return round(_font(size).getbbox(text)[2])


def _runs(row, x0: int, y0: int, unit: int, h: int, black) -> list[Box]:
    """Horizontal runs of black modules as rectangles (fewer shapes than one per module)."""
    boxes, start = [], None
    for i, value in enumerate([*row, None]):
        if value is not None and black(value):
            start = i if start is None else start
        elif start is not None:
            boxes.append(Box(x0 + start * unit, y0, (i - start) * unit, h))
            start = None
    return boxes


def layout(trade_number: str, tag: str | None, dpi: int = 300) -> Layout:
    """Where everything goes. Raises ValueError (not a trade number, dpi) and TagMalformed
    (the tag is not one, or an F1 tag names another trade number)."""
    trade = normalise_trade_number(trade_number)
    if not valid_trade_number(trade):
        raise ValueError(f"not a trade number: {trade_number!r}")
    if not 150 <= dpi <= 1200:
        raise ValueError("dpi must be between 150 and 1200")
    dots = dpi / 25.4
    width, height, margin = round(WIDTH_MM * dots), round(HEIGHT_MM * dots), round(MARGIN_MM * dots)
    boxes: list[Box] = []
    texts: list[Text] = []
    qr_side = round(QR_MM * dots)
    caption = "no tag: secret only"
    version = None
    if tag is not None:
        parsed = tags.parse(tag)   # refuse to print something no counter will read
        if parsed.trade_number is not None and parsed.trade_number != trade:
            raise TagMalformed(f"this F1 tag is for {parsed.trade_number}, not {trade}")
        qr = segno.make(tag.strip(), error="M", boost_error=True, micro=False)
        version = qr.designator
        modules = int(qr.symbol_size(border=0)[0])
        unit = qr_side // (modules + 2 * QR_QUIET)
        corner = margin + (qr_side - modules * unit) // 2   # centred in its square, quiet zone around
        for r, row in enumerate(qr.matrix):
            boxes += _runs(row, corner, corner + r * unit, unit, unit, bool)
        caption = f"{parsed.kind.name} tag · format v{tags.VERSION}"

    # Right of the QR (the whole width without one): a caption, the number as large as
    # fits (two lines if it must), the kind.
    col_x = margin + qr_side + margin if tag is not None else margin
    col_w = width - col_x - margin
    small = round(3.2 * dots)
    texts.append(Text(col_x, margin + round(1 * dots), small, _width(small, "TRADE NUMBER"), "TRADE NUMBER"))
    lines = [trade]
    size, measured = _fit(trade, col_w, round(12 * dots))
    if size < round(6 * dots) and "-" in trade:
        cut = min((i for i, ch in enumerate(trade) if ch == "-"), key=lambda i: abs(i - len(trade) / 2))
        lines = [trade[:cut + 1], trade[cut + 1:]]
        size = min(_fit(line, col_w, round(10 * dots))[0] for line in lines)
    y = margin + round(7 * dots)
    for line in lines:
        texts.append(Text(col_x, y, size, _width(size, line), line))
        y += round(size * 1.15)
    texts.append(Text(col_x, margin + qr_side - small, small, _width(small, caption), caption))

    # Along the bottom: the trade number as Code 128 (Zint picks the shortest code sets).
    bars = zxingcpp.create_barcode(trade, zxingcpp.BarcodeFormat.Code128).to_image(
        scale=1, add_hrt=False, add_quiet_zones=False)
    view = memoryview(cast(Any, bars))   # zxing-cpp's Image has the buffer protocol; its stub does not say so
    bar_row = view.tobytes()[:(view.shape or (0, 0))[1]]
    unit = (width - 2 * margin) // (len(bar_row) + 2 * BAR_QUIET)
    has_bars = unit >= MIN_BAR_DOTS
    if has_bars:
        x0 = (width - len(bar_row) * unit) // 2
        bar_h = round(BARS_MM * dots)
        boxes += _runs(bar_row, x0, height - margin - bar_h, unit, bar_h, lambda v: v < 128)
    return Layout(width, height, dpi, tuple(boxes), tuple(texts), version, has_bars)


# --- backends ----------------------------------------------------------------------------------

def to_image(lay: Layout) -> Image.Image:
    image = Image.new("L", (lay.width, lay.height), 255)
    draw = ImageDraw.Draw(image)
    for b in lay.boxes:
        draw.rectangle((b.x, b.y, b.x + b.w - 1, b.y + b.h - 1), fill=0)
    for t in lay.texts:
        draw.text((t.x, t.y), t.text, font=_font(t.size), fill=0, anchor="la")
    return image


def to_png(lay: Layout) -> bytes:
    out = io.BytesIO()
    to_image(lay).save(out, "PNG", dpi=(lay.dpi, lay.dpi))
    return out.getvalue()


def to_pdf(lay: Layout) -> bytes:
    # Pillow would store a grey page as JPEG, whose ringing blurs module edges. A bilevel
    # page goes in as CCITT G4 (lossless, and what a label printer prints anyway); without
    # libtiff, an indexed page (lossless, larger).
    image = to_image(lay)
    if features.check("libtiff"):
        image = image.point(lambda v: 255 if v >= 128 else 0).convert("1", dither=Image.Dither.NONE)
    else:
        image = image.convert("P")
    out = io.BytesIO()
    image.save(out, "PDF", resolution=float(lay.dpi), title="Parcel label")
    return out.getvalue()


def to_svg(lay: Layout) -> str:
    path = "".join(f"M{b.x} {b.y}h{b.w}v{b.h}h{-b.w}z" for b in lay.boxes)
    texts = "".join(
        f'<text x="{t.x}" y="{t.baseline}" font-size="{t.size}" textLength="{t.width}" '
        f'lengthAdjust="spacingAndGlyphs">{escape(t.text)}</text>' for t in lay.texts)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH_MM}mm" height="{HEIGHT_MM}mm" '
            f'viewBox="0 0 {lay.width} {lay.height}" shape-rendering="crispEdges">'
            f'<rect width="{lay.width}" height="{lay.height}" fill="#fff"/>'
            f'<path fill="#000" d="{path}"/>'
            f'<g fill="#000" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-weight="bold">'
            f'{texts}</g></svg>\n')


def render(trade_number: str, tag: str | None, fmt: str, dpi: int = 300) -> bytes:
    """The label as bytes in ``fmt`` ("png", "svg" or "pdf"). Raises ValueError, TagMalformed."""
    lay = layout(trade_number, tag, dpi)
    if fmt == "png":
        return to_png(lay)
    if fmt == "pdf":
        return to_pdf(lay)
    if fmt == "svg":
        return to_svg(lay).encode("utf-8")
    raise ValueError(f"format must be one of {', '.join(FORMATS)}")


def label_main(argv: list[str] | None = None) -> int:
    """``kiosk label``: exit 0 written, 2 bad input (message on stderr)."""
    parser = argparse.ArgumentParser(prog="kiosk label", description="Render a parcel label (PNG, SVG or PDF)")
    parser.add_argument("--trade-number", required=True)
    parser.add_argument("--tag", help="the tag's digits as the store made them (omit for a label without a tag)")
    parser.add_argument("--out", required=True, type=Path, help="file to write; its suffix picks the format")
    parser.add_argument("--dpi", type=int, default=300, help="printer resolution for PNG and PDF (default 300)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    fmt = args.out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        print(f"kiosk label: --out must end in .{', .'.join(FORMATS)}", file=sys.stderr)
        return 2
    try:
        data = render(args.trade_number, args.tag, fmt, args.dpi)
    except (ValueError, TagMalformed) as err:
        print(f"kiosk label: {err}", file=sys.stderr)
        return 2
    try:
        args.out.write_bytes(data)
    except OSError as err:
        print(f"kiosk label: cannot write {args.out}: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(label_main())
