"""Download names: ASCII for old clients, the exact name (RFC 5987) for current ones."""

from __future__ import annotations

from urllib.parse import unquote

from lms.attachments import content_disposition


def test_an_ascii_name_is_sent_as_it_is():
    assert content_disposition("oqu-region-2026-Q1.csv") == (
        'attachment; filename="oqu-region-2026-Q1.csv"'
    )


def test_a_kazakh_name_keeps_its_letters_in_filename_star():
    header = content_disposition('Сертификат "Әлия".pdf')
    plain, star = header.split("; filename*=UTF-8''")
    assert plain.startswith('attachment; filename="') and plain.isascii()
    assert plain.count('"') == 2 and ";" not in plain.removeprefix("attachment;")
    assert unquote(star) == 'Сертификат "Әлия".pdf'


def test_api_export_uses_it(client, session, make_user):
    from lms.api import services

    token = services.create_token(session, user=make_user(roles=["analyst"])).secret
    response = client.get(
        "/api/v1/stats/exports/sex.json?period=2026", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.headers["Content-Disposition"] == 'attachment; filename="oqu-sex-2026.json"'
