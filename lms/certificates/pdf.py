"""The certificate as a PDF: A4 landscape, DejaVu Sans embedded, a QR code of its address.

DejaVu Sans has every Kazakh letter (ә ғ қ ң ө ұ ү һ і). It is taken from matplotlib's
package data, which the project installs anyway, so no font is vendored here.
``render`` takes only the printed texts: whatever it is not given cannot leak into the file.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cache
from pathlib import Path

import qrcode
from fpdf import FPDF
from qrcode.constants import ERROR_CORRECT_M

# fontTools logs each step of subsetting the font at INFO: noise in every PDF request's log.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FAMILY = "DejaVu"
INK = (25, 45, 80)
ACCENT = (0, 110, 120)
MUTED = (90, 100, 115)


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


def qr_image(url: str):
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
    pdf.set_font(FAMILY, style, size)
    return size


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

    text_width = width - 60
    pdf.set_text_color(*ACCENT)
    pdf.set_font(FAMILY, "B", 20)
    pdf.set_xy(30, 20)
    pdf.cell(text_width, 10, sheet.issuer, align="C")
    pdf.set_font(FAMILY, "", 10)
    pdf.set_text_color(*MUTED)
    pdf.set_xy(30, 30)
    pdf.cell(text_width, 6, sheet.issuer_tagline, align="C")

    pdf.set_text_color(*INK)
    _fit(pdf, sheet.heading, "B", 30, text_width, 18)
    pdf.set_xy(30, 44)
    pdf.cell(text_width, 14, sheet.heading, align="C")

    pdf.set_font(FAMILY, "", 13)
    pdf.set_xy(30, 64)
    pdf.cell(text_width, 8, sheet.certifies, align="C")
    _fit(pdf, sheet.holder_name, "B", 26, text_width, 14)
    pdf.set_xy(30, 74)
    pdf.multi_cell(text_width, 12, sheet.holder_name, align="C")

    pdf.set_font(FAMILY, "", 13)
    pdf.set_xy(30, pdf.get_y() + 3)
    pdf.cell(text_width, 8, sheet.completed, align="C")
    _fit(pdf, sheet.course_title, "B", 20, text_width, 13)
    pdf.set_xy(30, pdf.get_y() + 10)
    pdf.set_text_color(*ACCENT)
    pdf.multi_cell(text_width, 9, sheet.course_title, align="C")

    pdf.set_text_color(*INK)
    pdf.set_font(FAMILY, "", 12)
    pdf.set_xy(30, pdf.get_y() + 4)
    pdf.cell(text_width, 7, sheet.tier_line, align="C")
    pdf.set_xy(30, pdf.get_y() + 7)
    pdf.cell(text_width, 7, sheet.date_line, align="C")

    qr_size = 42
    qr_x, qr_y = width - 24 - qr_size, height - 22 - qr_size
    pdf.image(qr_image(sheet.verify_url), x=qr_x, y=qr_y, w=qr_size, h=qr_size)
    pdf.set_text_color(*MUTED)
    left = 24
    info_width = qr_x - left - 6
    pdf.set_font(FAMILY, "", 10)
    pdf.set_xy(left, height - 46)
    pdf.multi_cell(info_width, 5.5, sheet.code_line, align="L")
    pdf.set_xy(left, pdf.get_y() + 1)
    pdf.multi_cell(info_width, 5.5, sheet.verify_line, align="L")
    pdf.set_xy(left, pdf.get_y())
    pdf.set_text_color(*ACCENT)
    _fit(pdf, sheet.verify_url, "", 10, info_width, 6)
    pdf.cell(info_width, 5.5, sheet.verify_url, align="L", link=sheet.verify_url)
    return bytes(pdf.output())
