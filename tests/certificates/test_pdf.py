"""The PDF: Kazakh text in an embedded font, a QR code of the verification address, owner only."""

from __future__ import annotations

import io

import pypdf
import qrcode
from qrcode.constants import ERROR_CORRECT_M

from tests.certificates.conftest import BASE_URL, KAZAKH_LETTERS

NAME = "Әйгерім Ғалымқызы Қоңыратбаева"


def _pdf(response) -> pypdf.PdfReader:
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    return pypdf.PdfReader(io.BytesIO(response.data))


def _embedded_fonts(reader: pypdf.PdfReader) -> set[str]:
    names = set()
    for font in reader.pages[0]["/Resources"]["/Font"].values():
        font = font.get_object()
        for descendant in font.get("/DescendantFonts", []):
            descriptor = descendant.get_object()["/FontDescriptor"].get_object()
            if "/FontFile2" in descriptor:
                names.add(str(descriptor["/FontName"]))
    return names


def _qr_modules(image, border: int = 4) -> list[list[bool]]:
    """Sample the QR image at the centre of each module: True is dark."""
    grey = image.convert("L")
    side = grey.width
    for modules in range(21, 178, 4):
        box = side / (modules + 2 * border)
        if abs(box - round(box)) < 1e-9:
            break
    else:
        raise AssertionError(f"not a QR image of width {side}")
    n = side // round(box)
    return [
        [grey.getpixel((int((x + 0.5) * box), int((y + 0.5) * box))) < 128 for x in range(n)]
        for y in range(n)
    ]


def test_pdf_prints_kazakh_name_course_tier_date_code_and_url(client, login, make_user, complete):
    user = make_user(full_name=NAME)
    certificate = complete(user, language="kk")
    login(user)
    reader = _pdf(client.get(f"/certificates/{certificate.code}.pdf"))
    text = reader.pages[0].extract_text()
    url = f"{BASE_URL}/verify/{certificate.code}"
    for expected in (
        NAME,
        "Жасанды интеллект негіздері: " + KAZAKH_LETTERS,
        "Курсты аяқтағаны туралы сертификат",
        "Барлығына арналған ЖИ",
        "14 наурыз",
        certificate.code,
        url,
    ):
        assert expected in text, expected
    for letter in KAZAKH_LETTERS + KAZAKH_LETTERS.upper():
        assert letter in text, letter
    assert any("DejaVuSans" in name for name in _embedded_fonts(reader))
    page = reader.pages[0]
    assert page.mediabox.width > page.mediabox.height  # landscape
    assert round(float(page.mediabox.width) / 72 * 25.4) == 297


def test_pdf_in_other_languages_and_specialist_tier(
    client, login, make_user, complete, make_course
):
    user = make_user(full_name="Ivan Petrov")
    certificate = complete(user, course=make_course(tier="specialist"), language="ru")
    login(user)
    russian = _pdf(client.get(f"/certificates/{certificate.code}.pdf")).pages[0].extract_text()
    assert "Сертификат о прохождении курса" in russian
    assert "Основы искусственного интеллекта" in russian
    assert "ИИ для отраслевых специалистов" in russian
    assert "14 марта 2026" in russian
    english = (
        _pdf(client.get(f"/certificates/{certificate.code}.pdf?lang=en")).pages[0].extract_text()
    )
    assert "Certificate of completion" in english
    # The course as it was studied (in Russian), whatever the wording's language.
    assert "Основы искусственного интеллекта" in english
    assert "AI for industry specialists" in english
    assert "March 14, 2026" in english


def test_qr_code_is_the_verification_address(client, login, make_user, complete):
    user = make_user(full_name=NAME)
    certificate = complete(user)
    login(user)
    reader = _pdf(client.get(f"/certificates/{certificate.code}.pdf"))
    images = reader.pages[0].images
    assert len(images) == 1
    printed = _qr_modules(images[0].image)
    expected = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    expected.add_data(f"{BASE_URL}/verify/{certificate.code}")
    expected.make(fit=True)
    assert printed == [list(row) for row in expected.get_matrix()]
    last = "B" if certificate.code.endswith("A") else "A"
    wrong = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    wrong.add_data(f"{BASE_URL}/verify/{certificate.code[:-1]}{last}")
    wrong.make(fit=True)
    assert printed != [list(row) for row in wrong.get_matrix()]


def test_pdf_holds_nothing_beyond_what_is_printed(client, login, make_user, complete):
    user = make_user(full_name=NAME, birth_year=1987)
    certificate = complete(user)
    login(user)
    response = client.get(f"/certificates/{certificate.code}.pdf")
    reader = _pdf(response)
    text = reader.pages[0].extract_text()
    metadata = {k: str(v) for k, v in (reader.metadata or {}).items()}
    assert set(metadata) <= {"/Title", "/Author", "/Creator", "/Producer", "/CreationDate"}
    for value in metadata.values():
        if not value.startswith("D:"):
            assert all(part in text for part in value.split(": ")), value
    for secret in (user.email, user.email.encode(), "1987", user.person_key.encode()):
        if isinstance(secret, bytes):
            assert secret not in response.data
        else:
            assert secret not in text


def test_only_the_owner_downloads(client, login, make_user, complete):
    owner = make_user()
    certificate = complete(owner)
    for path in (
        f"/certificates/{certificate.code}.pdf",
        f"/certificates/{certificate.code}.jwt",
        "/certificates",
    ):
        anonymous = client.get(path)
        assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    login(make_user())
    for path in (
        f"/certificates/{certificate.code}.pdf",
        f"/certificates/{certificate.code}.jwt",
        "/certificates/NOSUCHCODE.pdf",
    ):
        assert client.get(path).status_code == 404


def test_my_certificates_lists_downloads_and_verification(
    client, login, make_user, complete, session
):
    from lms.certificates import services

    user = make_user()
    kept, revoked = complete(user), complete(user)
    services.revoke(session, certificate=revoked, kind=services.RevocationKind.ISSUED_IN_ERROR)
    login(user)
    page = client.get("/certificates").get_data(as_text=True)
    assert f"/certificates/{kept.code}.pdf" in page
    assert f"/certificates/{kept.code}.jwt" in page
    assert f"/verify/{kept.code}" in page
    assert f"/certificates/{revoked.code}.pdf" not in page
    assert "issued in error" in page
    assert client.get(f"/certificates/{revoked.code}.pdf").status_code == 410
    assert client.get(f"/certificates/{revoked.code}.jwt").status_code == 410
