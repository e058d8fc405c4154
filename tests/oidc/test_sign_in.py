"""Single sign-on against a real OpenID provider (node oidc-provider), in Chromium.

Run with ``LMS_TEST_OIDC=1 .venv/bin/python -m pytest -m oidc tests/oidc`` after
``(cd tests/oidc/provider && npm ci)``; skipped otherwise, and where node is absent.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from sqlalchemy import select

from lms.accounts import oidc, services
from lms.accounts.models import OidcLink, User
from lms.db import db
from tests.accounts.conftest import random_iin
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in
from tests.oidc.conftest import NAME, alter_id_token, signed_in_as, start_sign_in

pytestmark = [pytest.mark.oidc, pytest.mark.browser, pytest.mark.xdist_group("oidc")]


def address() -> str:
    return f"sso-{uuid.uuid4().hex[:10]}@example.kz"


def account(app: Any, email: str) -> User | None:
    with app.app_context():
        user = db.session().scalar(select(User).where(User.email == email))
        if user is not None:
            db.session().expunge(user)
        return user


def links(app: Any, email: str) -> list[str]:
    with app.app_context():
        rows = db.session().scalars(select(OidcLink.subject).join(User).where(User.email == email))
        return list(rows)


def test_first_sign_in_asks_in_kazakh_for_what_the_provider_did_not_give(
    new_page, live_app, live_server, provider, people
) -> None:
    email, iin = address(), random_iin()
    login = people.add(email=email, name="Әсел Бекқызы", iin=iin)
    page = new_page("kk-KZ")
    start_sign_in(page, live_server, login)

    # Back at Oqu: not signed in yet, asked in Kazakh for region, sector, year, consent;
    # neither the name nor the IIN (the provider gave both).
    assert page.url == f"{live_server}/login/oidc/profile"
    assert page.get_attribute("html", "lang") == "kk"
    assert "Есептік жазбаны ашуды аяқтаңыз" in page.inner_text("h1")
    assert email in page.inner_text("main") and "Әсел Бекқызы" in page.inner_text("main")
    assert page.locator('input[name="full_name"]').count() == 0
    assert page.locator('input[name="iin"]').count() == 0
    assert account(live_app, email) is None

    # The registration form's own rules: no year, no consent -> refused, in Kazakh.
    page.click("main form button[type=submit]")
    assert "Туған жылыңызды" in page.inner_text(".error-summary")
    assert account(live_app, email) is None

    page.select_option('select[name="region"]', "KZ-75")
    page.select_option('select[name="sector"]', "P")
    page.fill('input[name="birth_year"]', str(date.today().year - 29))
    page.check('input[name="consent"]')
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert "/login" not in page.url
    assert signed_in_as(page, live_server) == email

    user = account(live_app, email)
    assert user is not None and user.full_name == "Әсел Бекқызы" and user.password_hash == ""
    assert (user.region, user.sector, user.locale) == ("KZ-75", "P", "kk")
    assert len(links(live_app, email)) == 1
    with live_app.app_context():
        person = db.session().get(User, user.id).person
        key = services.iin_key(live_app.config)
        assert person.iin_hash == services.iin_digest(iin, key=key)
        assert person.iin_verified_by == NAME

    # Without a password the provider cannot be disconnected: the page says how to get one.
    page.goto(f"{live_server}/profile/sign-in-methods")
    with page.expect_navigation():
        page.click(f'form[action="/profile/sign-in-methods/{NAME}/unlink"] button')
    assert "Құпиясөзді ұмыттыңыз ба?" in page.inner_text(".flashes")
    assert len(links(live_app, email)) == 1

    # Signing out and in again goes straight to the account.
    with page.expect_navigation():
        page.click("form[action='/logout'] button")
    assert signed_in_as(page, live_server) is None
    start_sign_in(page, live_server, login)
    assert signed_in_as(page, live_server) == email


def test_existing_account_linked_by_a_mailed_link(
    new_page, live_app, live_server, provider, people, make_account, mailbox
) -> None:
    email = make_account()
    login = people.add(email=email.upper(), name="Someone Else")
    page = new_page()
    start_sign_in(page, live_server, login)

    assert page.url == f"{live_server}/login/oidc/link"
    assert "You already have an Oqu account" in page.inner_text("h1")
    assert links(live_app, email) == []
    with page.expect_navigation():
        page.click('button[name="send-link"]')
    assert "We have sent a link to " + email in page.inner_text("main")
    assert signed_in_as(page, live_server) is None
    assert links(live_app, email) == []

    message = mailbox.wait_for(email)
    body = message.get_content()
    assert "Test ID" in message["Subject"]
    link = re.search(r"http://\S+/login/oidc/link/\S+", body).group(0)

    # Opened in another browser: a page with a button; nothing is linked before the click.
    other = new_page()
    other.goto(link)
    assert "Connect Test ID to your account?" in other.inner_text("h1")
    assert links(live_app, email) == []
    with other.expect_navigation():
        other.click("main form button[type=submit]")
    assert "Test ID is connected to your account." in other.inner_text(".flashes")
    assert signed_in_as(other, live_server) == email
    assert len(links(live_app, email)) == 1
    user = account(live_app, email)
    assert user is not None and user.full_name == "Test User"  # the account's own name stays

    # The link works once.
    again = new_page()
    again.goto(link)
    assert "This link does not work" in again.inner_text("h1")

    # From now on the provider signs in to that account directly.
    fresh = new_page()
    start_sign_in(fresh, live_server, login)
    assert signed_in_as(fresh, live_server) == email


def test_existing_account_linked_by_its_password(
    new_page, live_app, live_server, provider, people, make_account
) -> None:
    email = make_account()
    login = people.add(email=email, name="Test User")
    page = new_page()
    start_sign_in(page, live_server, login)
    assert page.url == f"{live_server}/login/oidc/link"
    page.fill('input[name="password"]', "not the password at all")
    with page.expect_navigation():
        page.click("form[action='/login/oidc/link'] button")
    assert "The password is not right." in page.inner_text("main")
    assert links(live_app, email) == []
    page.fill('input[name="password"]', PASSWORD)
    with page.expect_navigation():
        page.click("form[action='/login/oidc/link'] button")
    assert signed_in_as(page, live_server) == email
    assert len(links(live_app, email)) == 1


def test_a_wrong_state_is_refused(new_page, live_app, live_server, provider, people, proxy) -> None:
    email = address()
    login = people.add(email=email, name="State Test")
    page = new_page()
    proxy.held.clear()
    proxy.hold = True
    try:
        start_sign_in(page, live_server, login, back=provider + "/auth/")
    finally:
        proxy.hold = False
    assert proxy.held, "the provider did not send the browser back to the callback"
    parts = urlsplit(proxy.held[0])
    assert parts.path == f"/login/oidc/{NAME}/callback"
    query = dict(parse_qsl(parts.query))
    assert query["code"] and query["state"]

    query["state"] = query["state"][:-4] + "abcd"
    response = page.goto(f"{live_server}{parts.path}?{urlencode(query)}")
    assert response.status == 400
    assert "does not belong to a sign-in started in this browser" in page.inner_text("main")
    assert signed_in_as(page, live_server) is None

    # The right answer in another browser (no flow started there) is refused just the same.
    other = new_page()
    response = other.goto(proxy.held[0])
    assert response.status == 400
    assert "does not belong to a sign-in started in this browser" in other.inner_text("main")
    assert account(live_app, email) is None


def test_a_tampered_id_token_is_refused(
    new_page, live_app, live_server, provider, people, proxy, caplog
) -> None:
    email, forged = address(), address()
    login = people.add(email=email, name="Token Test")
    proxy.tamper = lambda token: alter_id_token(token, email=forged)
    try:
        page = new_page()
        start_sign_in(page, live_server, login)
    finally:
        proxy.tamper = None
    assert f"/login/oidc/{NAME}/callback" in page.url
    assert "could not be verified, so it was refused" in page.inner_text("main")
    refusals = [r for r in caplog.records if r.name == "lms.accounts.oidc" and r.exc_info]
    assert [type(r.exc_info[1]).__name__ for r in refusals] == ["BadSignatureError"]
    assert signed_in_as(page, live_server) is None
    assert account(live_app, forged) is None and account(live_app, email) is None


def test_an_unverified_email_is_refused(
    new_page, live_app, live_server, provider, people, make_account
) -> None:
    email = make_account()
    login = people.add(email=email, email_verified=False, name="Not Verified")
    page = new_page()
    start_sign_in(page, live_server, login)
    assert "Test ID has not confirmed your e-mail address" in page.inner_text("main")
    assert signed_in_as(page, live_server) is None
    assert links(live_app, email) == []


def test_a_different_iin_on_file_stops_sign_in(
    new_page, live_app, live_server, provider, people, make_account
) -> None:
    email = make_account()
    on_file = services.iin_digest(random_iin(), key=services.iin_key(live_app.config))
    login = people.add(email=email, name="Test User", iin=random_iin())
    with live_app.app_context():
        dbs = db.session()
        user = dbs.scalar(select(User).where(User.email == email))
        user.person.iin_hash = on_file
        oidc.link(dbs, user=user, identity=oidc.Identity(NAME, login, email))
        dbs.commit()

    page = new_page()
    start_sign_in(page, live_server, login)
    text = page.inner_text("main")
    assert "differs from the one on file" in text and "contact support" in text
    assert signed_in_as(page, live_server) is None
    with live_app.app_context():
        person = db.session().scalar(select(User).where(User.email == email)).person
        assert person.iin_hash == on_file and person.iin_verified_by is None


def test_connect_and_disconnect_on_the_sign_in_methods_page(
    new_page, live_app, live_server, provider, people, make_account
) -> None:
    email = make_account()
    login = people.add(email=address(), name="Work Address")
    page = new_page()
    log_in(page, live_server, email)
    page.goto(f"{live_server}/profile/sign-in-methods")
    page.click(f'a[href="/profile/sign-in-methods/{NAME}/connect"]')
    page.wait_for_url(lambda url: "/interaction/" in url)
    page.fill("#login", login)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/profile/sign-in-methods")
    assert "Test ID is connected to your account." in page.inner_text(".flashes")
    assert links(live_app, email) == [login]

    # The provider now signs in to this account, whatever address it gives.
    fresh = new_page()
    start_sign_in(fresh, live_server, login)
    assert signed_in_as(fresh, live_server) == email

    # The account has a password, so the provider can be disconnected.
    page.goto(f"{live_server}/profile/sign-in-methods")
    with page.expect_navigation():
        page.click(f'form[action="/profile/sign-in-methods/{NAME}/unlink"] button')
    assert "Test ID is disconnected from your account." in page.inner_text(".flashes")
    assert links(live_app, email) == []
