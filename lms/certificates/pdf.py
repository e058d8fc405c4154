"""The certificate as a PDF: A4 landscape, DejaVu Sans embedded, a QR code of its address.

DejaVu Sans has every Kazakh letter (ә ғ қ ң ө ұ ү һ і). It is taken from matplotlib's
package data, which the project installs anyway, so no font is vendored here.
``render`` takes only the printed texts: whatever it is not given cannot leak into the file.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cache
from pathlib import Path
from typing import Any, cast

import qrcode
from fpdf import FPDF
from fpdf.enums import MethodReturnValue, WrapMode
from qrcode.constants import ERROR_CORRECT_M

# fontTools logs each step of subsetting the font at INFO: noise in every PDF request's log.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FAMILY = "DejaVu"
INK = (25, 45, 80)
ACCENT = (0, 110, 120)
MUTED = (90, 100, 115)
FOOTER_LINE = 5.5  # mm
BODY_CLEARANCE = 4  # mm between the body and the footer
LONG_TEXT_FLOOR = 0.6  # the name and title shrink to this scale before anything else


@dataclass(frozen=True)
class Sheet:
    """Every text printed on a certificate, already translated and formatted."""

    language: str
    heading: str
    certifies: str
    holder_name: str
    completed: str
    course_title: str
    tier_line: str
    date_line: str
    code_line: str
    verify_line: str
    verify_url: str
    issuer: str
    issuer_tagline: str
    completed_on: date  # also the document's creation date, so the bytes are reproducible


@cache
def font_files() -> tuple[Path, Path]:
    """DejaVu Sans regular and bold, from the installed matplotlib package."""
    spec = importlib.util.find_spec("matplotlib")  # finds it without importing it
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("matplotlib (which ships DejaVu Sans) is not installed")
    folder = Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"
    regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
    for path in (regular, bold):
        if not path.is_file():
            raise RuntimeError(f"font file missing: {path}")
    return regular, bold


def qr_image(url: str) -> Any:
    """The QR code of ``url`` as a black-and-white image (one module = 10 pixels)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(url)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image()


def _fit(pdf: FPDF, text: str, style: str, size: float, width: float, smallest: float) -> float:
    """The largest font size from ``size`` down to ``smallest`` at which ``text`` fits."""
    while size > smallest:
        pdf.set_font(FAMILY, style, size)
        if pdf.get_string_width(text) <= width:
            break
        size -= 1
    size = max(size, smallest)
    pdf.set_font(FAMILY, style, size)
    return size


def _lines(pdf: FPDF, width: float, text: str, **options: Any) -> list[str]:
    """The lines ``multi_cell`` would print ``text`` in, in the current font."""
    lines = pdf.multi_cell(width, 1, text, dry_run=True, output=MethodReturnValue.LINES, **options)
    return cast(list[str], lines)


@dataclass(frozen=True)
class _Block:
    """One centred paragraph of the certificate's body, at full scale."""

    text: str
    style: str
    size: float  # points
    smallest: float  # shrink towards this to stay on one line, then wrap
    leading: float  # line height in mm per point of font size
    gap: float  # mm above the paragraph
    color: tuple[int, int, int] = INK
    long: bool = False  # the holder's name or the course title: shrinks first


@dataclass(frozen=True)
class _Placed:
    block: _Block
    size: float
    line_height: float
    lines: int


def _layout(
    pdf: FPDF, blocks: list[_Block], width: float, scale: float, long_scale: float
) -> tuple[list[_Placed], float]:
    """Each block's font size and line count, and the height of them all.

    ``long_scale`` applies to the blocks that may be long (the name, the course title),
    ``scale`` to the others and to the gaps.
    """
    placed, height = [], 0.0
    for block in blocks:
        factor = long_scale if block.long else scale
        size = _fit(
            pdf, block.text, block.style, block.size * factor, width, block.smallest * factor
        )
        line_height = size * block.leading
        lines = max(1, len(_lines(pdf, width, block.text, align="C")))
        placed.append(_Placed(block, size, line_height, lines))
        height += block.gap * scale + line_height * lines
    return placed, height


def _scales() -> Iterator[tuple[float, float]]:
    """(scale, long_scale) pairs, step by step: first the long texts shrink, then all."""
    long_scale = 1.0
    while long_scale > LONG_TEXT_FLOOR:
        yield 1.0, long_scale
        long_scale *= 0.95
    scale = 1.0
    while scale > 0.01:
        yield scale, long_scale * scale
        scale *= 0.95


def _body(
    pdf: FPDF, blocks: list[_Block], *, left: float, top: float, width: float, bottom: float
) -> None:
    """Print ``blocks`` centred from ``top`` down, smaller until they end above ``bottom``.

    Names may have 200 characters and course titles any length: the long texts shrink
    step by step, then everything, so that the body never runs into the footer.
    """
    for scale, long_scale in _scales():
        placed, height = _layout(pdf, blocks, width, scale, long_scale)
        if top + height <= bottom:
            break
    y = top
    for item in placed:
        y += item.block.gap * scale
        pdf.set_font(FAMILY, item.block.style, item.size)
        pdf.set_text_color(*item.block.color)
        pdf.set_xy(left, y)
        pdf.multi_cell(width, item.line_height, item.block.text, align="C")
        y += item.line_height * item.lines


def _footer_height(pdf: FPDF, sheet: Sheet, width: float) -> float:
    """The height of the code line, the invitation to verify and the address."""
    pdf.set_font(FAMILY, "", 10)
    lines = sum(
        len(_lines(pdf, width, text, align="L")) for text in (sheet.code_line, sheet.verify_line)
    )
    _fit(pdf, sheet.verify_url, "", 10, width, 6)
    lines += len(_lines(pdf, width, sheet.verify_url, align="L", wrapmode=WrapMode.CHAR))
    return lines * FOOTER_LINE + 1


def render(sheet: Sheet) -> bytes:
    """The certificate PDF of ``sheet``."""
    regular, bold = font_files()
    pdf = FPDF(orientation="landscape", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.add_font(FAMILY, "", str(regular))
    pdf.add_font(FAMILY, "B", str(bold))
    # Metadata repeats printed facts only; the fixed date keeps the bytes reproducible.
    pdf.set_title(f"{sheet.heading}: {sheet.course_title}")
    pdf.set_author(sheet.issuer)
    pdf.set_creator(sheet.issuer)
    pdf.set_producer(sheet.issuer)
    pdf.set_lang(sheet.language)
    pdf.set_creation_date(datetime.combine(sheet.completed_on, time(), tzinfo=UTC))
    pdf.add_page()
    width, height = pdf.w, pdf.h

    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(1.2)
    pdf.rect(8, 8, width - 16, height - 16)
    pdf.set_line_width(0.3)
    pdf.rect(11, 11, width - 22, height - 22)

    # The footer: code and address at the left, the QR code at the right, both kept at
    # the bottom; the body above gets whatever room they leave.
    qr_size = 42
    qr_x, qr_y = width - 24 - qr_size, height - 22 - qr_size
    left = 24
    info_width = qr_x - left - 6
    footer_top = min(height - 46, qr_y + qr_size - _footer_height(pdf, sheet, info_width))

    blocks = [
        _Block(sheet.issuer, "B", 20, 10, 0.5, 0, ACCENT),
        _Block(sheet.issuer_tagline, "", 10, 7, 0.6, 0, MUTED),
        _Block(sheet.heading, "B", 30, 18, 14 / 30, 8),
        _Block(sheet.certifies, "", 13, 10, 8 / 13, 6),
        _Block(sheet.holder_name, "B", 26, 14, 12 / 26, 2, long=True),
        _Block(sheet.completed, "", 13, 10, 8 / 13, 3),
        _Block(sheet.course_title, "B", 20, 13, 9 / 20, 2, ACCENT, long=True),
        _Block(sheet.tier_line, "", 12, 9, 7 / 12, 4),
        _Block(sheet.date_line, "", 12, 9, 7 / 12, 0),
    ]
    _body(
        pdf,
        blocks,
        left=30,
        top=20,
        width=width - 60,
        bottom=min(qr_y, footer_top) - BODY_CLEARANCE,
    )

    pdf.image(qr_image(sheet.verify_url), x=qr_x, y=qr_y, w=qr_size, h=qr_size)
    pdf.set_text_color(*MUTED)
    pdf.set_font(FAMILY, "", 10)
    pdf.set_xy(left, footer_top)
    pdf.multi_cell(info_width, FOOTER_LINE, sheet.code_line, align="L")
    pdf.set_xy(left, pdf.get_y() + 1)
    pdf.multi_cell(info_width, FOOTER_LINE, sheet.verify_line, align="L")
    pdf.set_xy(left, pdf.get_y())
    pdf.set_text_color(*ACCENT)
    _fit(pdf, sheet.verify_url, "", 10, info_width, 6)
    pdf.multi_cell(
        info_width,
        FOOTER_LINE,
        sheet.verify_url,
        align="L",
        link=sheet.verify_url,
        wrapmode=WrapMode.CHAR,
    )
    return bytes(pdf.output())
