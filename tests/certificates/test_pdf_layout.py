"""The PDF's layout: however long the name and the course title, no text overprints another,
runs off the page or into the QR code, and nothing is cut."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache

import pypdf
import pytest
from fontTools.ttLib import TTFont

from lms.certificates import pdf
from tests.certificates.conftest import KAZAKH_LETTERS

MM = 72 / 25.4  # points per millimetre
BORDER = 11 * MM  # the inner frame
# 200 characters, the most a profile allows, with every Kazakh letter.
LONG_NAME = (
    "Әйгерім-Гүлжаһан Ғалымқызы Қоңыратбаева-Нұрсұлтанқызы Өтеміс Ұлықбек Үмбетәліқызы "
    "Һадиша Ілиясқызы " * 3
)[:200]
LONG_TITLE = (
    "Прикладное машинное обучение и анализ данных для отраслей промышленности, "
    "энергетики, транспорта, строительства и сельского хозяйства Республики "
    "Казахстан: продвинутый уровень с практикумом по компьютерному зрению, "
    "обработке естественного языка и прогнозированию временных рядов"
)


@dataclass(frozen=True)
class Box:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box, slack: float = 0.01) -> bool:
        return (
            self.x0 < other.x1 - slack
            and other.x0 < self.x1 - slack
            and self.y0 < other.y1 - slack
            and other.y0 < self.y1 - slack
        )


@cache
def _font(bold: bool) -> tuple[dict[int, int], dict[str, tuple[int, int]], int, int, int]:
    """cmap, advance widths, units per em, ascent, descent of DejaVu Sans (read directly)."""
    regular, heavy = pdf.font_files()
    font = TTFont(str(heavy if bold else regular))
    hhea = font["hhea"]
    return (
        font.getBestCmap(),
        font["hmtx"].metrics,
        font["head"].unitsPerEm,
        hhea.ascent,
        hhea.descent,
    )


def _box(text: str, x: float, y: float, size: float, bold: bool) -> Box:
    cmap, metrics, em, ascent, descent = _font(bold)
    width = sum(metrics[cmap[ord(char)]][0] for char in text) / em * size
    return Box(text, x, y + descent / em * size, x + width, y + ascent / em * size)


def _layout(data: bytes) -> tuple[list[Box], Box, pypdf.PageObject]:
    """The box of every printed line and of the QR image, in points from the bottom left."""
    page = pypdf.PdfReader(io.BytesIO(data)).pages[0]
    lines: list[Box] = []
    images: list[Box] = []

    def text(chunk, cm, tm, font, size):
        if not chunk.strip():
            return
        assert cm == [1, 0, 0, 1, 0, 0] and tm[:4] == [1, 0, 0, 1], (cm, tm)
        bold = "Bold" in str(font["/BaseFont"])
        lines.append(_box(chunk.strip("\n"), tm[4], tm[5], size, bold))

    def operator(op, args, cm, tm):
        if op == b"Do":
            images.append(Box("QR", cm[4], cm[5], cm[4] + cm[0], cm[5] + cm[3]))

    page.extract_text(visitor_text=text, visitor_operand_before=operator)
    assert len(images) == 1
    return lines, images[0], page


def _render(**changes) -> bytes:
    texts = {
        "language": "ru",
        "heading": "Сертификат о прохождении курса",
        "certifies": "Настоящим подтверждается, что",
        "holder_name": LONG_NAME,
        "completed": "успешно завершил(а) курс",
        "course_title": LONG_TITLE,
        "tier_line": "Уровень: ИИ для отраслевых специалистов (уровень специалистов)",
        "date_line": "Дата завершения: 14 марта 2026 г.",
        "code_line": "Код сертификата: JQQ5TMUAYCL66KV5DKYBIHMPDOKUXTR4",
        "verify_line": "Проверить действительность сертификата можно по адресу:",
        "verify_url": "https://oqu.example.kz/verify/JQQ5TMUAYCL66KV5DKYBIHMPDOKUXTR4",
        "issuer": "Oqu",
        "issuer_tagline": "Национальная платформа навыков ИИ Казахстана",
    }
    texts.update(changes)
    from datetime import date

    return pdf.render(pdf.Sheet(completed_on=date(2026, 3, 14), **texts))


def _assert_clear(data: bytes, *expected: str) -> None:
    lines, qr, page = _layout(data)
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    for line in lines:
        assert line.x0 >= BORDER and line.x1 <= width - BORDER, line
        assert line.y0 >= BORDER and line.y1 <= height - BORDER, line
        assert not line.overlaps(qr), line
    for i, line in enumerate(lines):
        for other in lines[i + 1 :]:
            assert not line.overlaps(other), (line, other)
    # Every text printed whole, wrapped perhaps, but not cut.
    printed = "".join("".join(line.text.split()) for line in lines)
    for text in expected:
        assert "".join(text.split()) in printed, text


def test_long_kazakh_name_and_long_russian_title_do_not_overprint(
    client, login, make_user, complete, make_course
):
    assert len(LONG_NAME) == 200 and set(KAZAKH_LETTERS) <= set(LONG_NAME.lower())
    user = make_user(full_name=LONG_NAME)
    course = make_course(tier="specialist", title={"ru": LONG_TITLE, "kk": LONG_TITLE})
    certificate = complete(user, course=course, language="ru")
    login(user)
    response = client.get(f"/certificates/{certificate.code}.pdf")
    assert response.status_code == 200
    _assert_clear(
        response.data,
        LONG_NAME,
        LONG_TITLE,
        certificate.code,
        f"/verify/{certificate.code}",
        "14 марта 2026",
    )


@pytest.mark.parametrize(
    "name, title",
    [
        ("Ли Ан", "ИИ"),
        (LONG_NAME, "ИИ"),
        ("Ли Ан", LONG_TITLE),
        (LONG_NAME.replace(" ", ""), LONG_TITLE * 3),  # no spaces to break at; an absurd title
    ],
)
def test_no_overlap_whatever_the_lengths(name, title):
    _assert_clear(_render(holder_name=name, course_title=title), name, title)


def test_a_short_name_keeps_its_large_type():
    lines, _qr, _page = _layout(_render(holder_name="Әлия Нұрғалиева", course_title="ИИ"))
    name = next(line for line in lines if line.text == "Әлия Нұрғалиева")
    assert name.y1 - name.y0 > 25  # 26 pt DejaVu Sans: about 30 pt from descent to ascent
