"""The public verification page: valid, revoked, deleted account, unknown code, rate limit."""

from __future__ import annotations

import re

import pytest
from flask import Flask, g

from lms.accounts import services as accounts
from lms.certificates import services
from lms.certificates.models import RevocationKind
from lms.stats import services as stats
from lms.stats.models import Correction, CorrectionKind
from tests.conftest import PASSWORD

# (valid, revoked, course title, completion date) per UI language; the course title is the
# one of the language of study (Kazakh here), stored at issue, whatever the page's language.
STUDIED = "Жасанды интеллект негіздері"
WORDS = {
    "kk": ("Жарамды", "Кері қайтарып алынған", STUDIED, "14 наурыз"),
    "ru": ("Действителен", "Отозван", STUDIED, "14 марта 2026"),
    "en": ("Valid", "Revoked", STUDIED, "March 14, 2026"),
}


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_valid_certificate_shows_name_course_and_date_in_each_language(
    client, make_user, complete, language
):
    user = make_user(full_name="Әлия Қасымқызы Нұрғалиева")
    certificate = complete(user)
    response = client.get(f"/verify/{certificate.code}", headers={"Accept-Language": language})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    valid, revoked, title, day = WORDS[language]
    assert valid in page and revoked not in page
    assert "Әлия Қасымқызы Нұрғалиева" in page
    assert title in page
    assert day in page
    assert 'datetime="2026-03-14"' in page
    assert user.email not in page


def test_unknown_code_is_a_bare_404(client, make_user, complete):
    certificate = complete(make_user())
    wrong = ("A" if certificate.code[0] != "A" else "B") + certificate.code[1:]
    for code in (wrong, wrong.lower(), "x", str(certificate.id), certificate.code + "A"):
        response = client.get(f"/verify/{code}", headers={"Accept-Language": "en"})
        assert response.status_code == 404
        body = response.get_data(as_text=True)
        assert "Not found" in body
        text = re.sub(r"<[^>]+>", " ", body)
        assert text.split() == ["Not", "found", "Not", "found"]  # <title> and <h1>, no more


def test_admin_revokes_with_a_reason_then_the_page_says_so(
    app_settings, request, make_user, complete, session
):
    app_settings["WTF_CSRF_ENABLED"] = True
    client = request.getfixturevalue("client")
    certificate = complete(make_user(full_name="Ержан Сапарұлы"))
    admin = make_user(roles=["admin"])
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": admin.email, "password": PASSWORD, "csrf_token": token})
    # The test's app context (and so ``g``) outlives requests: drop the token cached there
    # before the login renewed the session, as a real next request would.
    g.pop("csrf_token", None)
    lookup = client.get(f"/admin/certificates?q={certificate.code.lower()}")
    assert lookup.status_code == 200
    html = lookup.get_data(as_text=True)
    assert "Ержан Сапарұлы" in html
    form_token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    url = f"/admin/certificates/{certificate.code}/revoke"
    assert client.post(url, data={"kind": "fraud"}).status_code == 400  # no CSRF token
    response = client.post(
        url, data={"kind": "fraud", "note": "Plagiarised assignment", "csrf_token": form_token}
    )
    assert response.status_code == 302
    page = client.get(f"/verify/{certificate.code}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert "Revoked" in page and "fraud" in page
    assert "Plagiarised assignment" not in page  # the admin's note stays inside
    assert "Ержан Сапарұлы" in page


def test_learner_cannot_revoke(client, login, make_user, complete):
    certificate = complete(make_user())
    login(make_user())
    response = client.post(
        f"/admin/certificates/{certificate.code}/revoke", data={"kind": "fraud", "note": "mine now"}
    )
    assert response.status_code == 403
    page = client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert "mine now" not in page


def test_deleted_account_verifies_as_revoked_without_the_name(client, session, make_user, complete):
    user = make_user(full_name="Гүлнар Өтебайқызы")
    certificate = complete(user)
    accounts.delete_account(session, user=user, password=PASSWORD)
    response = client.get(f"/verify/{certificate.code}", headers={"Accept-Language": "kk"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Кері қайтарып алынған" in page
    assert "иесінің тіркелгісі жойылған" in page
    assert "Гүлнар" not in page and "Өтебайқызы" not in page


def test_deleting_the_user_row_alone_also_revokes(client, session, make_user, complete):
    user = make_user(full_name="Бауыржан Ілиясов")
    certificate = complete(user)
    session.delete(user)
    session.flush()
    session.expire_all()
    page = client.get(f"/verify/{certificate.code}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert "Revoked" in page and "holder&#39;s account deleted" in page
    assert "Бауыржан" not in page


def test_annulled_completion_revokes_its_certificate(client, session, make_user, complete):
    certificate = complete(make_user())
    services.revoke_for_completion(
        session,
        completion=certificate.completion,
        kind=RevocationKind.COMPLETION_ANNULLED,
        note="shared account",
    )
    page = client.get(f"/verify/{certificate.code}", headers={"Accept-Language": "ru"}).get_data(
        as_text=True
    )
    assert "Отозван" in page and "прохождение курса аннулировано" in page
    assert "shared account" not in page


def test_admin_annulment_through_statistics_revokes(client, session, make_user, complete):
    certificate = complete(make_user(full_name="Асқар Жұмабеков"))
    admin = make_user(roles=["admin"])
    stats.annul_completion(
        session,
        completion=certificate.completion,
        reason="Exam taken by another person",
        by_user=admin,
    )
    page = client.get(f"/verify/{certificate.code}", headers={"Accept-Language": "kk"}).get_data(
        as_text=True
    )
    assert "Кері қайтарып алынған" in page
    assert "курсты аяқтаудың күші жойылды" in page and "Exam taken" not in page


def test_an_annulment_recorded_without_revoking_still_shows_revoked(
    client, session, make_user, complete
):
    certificate = complete(make_user())
    session.add(
        Correction(
            completion_id=certificate.completion_id,
            kind=CorrectionKind.ANNULLED,
            reason="Fraud confirmed",
        )
    )
    session.flush()
    page = client.get(f"/verify/{certificate.code}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert "Revoked" in page and "completion annulled" in page
    assert "Fraud confirmed" not in page


def test_verification_is_rate_limited(app_settings, request, make_user, complete):
    app_settings["RATELIMIT_ENABLED"] = True
    app_settings["RATELIMIT_VERIFY"] = "3 per day"
    app: Flask = request.getfixturevalue("app")
    client = app.test_client()
    certificate = complete(make_user())
    codes = [client.get(f"/verify/{certificate.code}").status_code for _ in range(3)]
    assert codes == [200, 200, 200]
    assert client.get(f"/verify/{certificate.code}").status_code == 429
    assert client.get("/verify/UNKNOWNCODE").status_code == 429  # guessing is limited too
