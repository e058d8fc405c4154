"""CSRF, cookies, Content-Security-Policy and rate limits, on real pages and forms."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from lms import create_app
from lms.accounts.models import User
from lms.db import db
from tests.accounts.conftest import registration
from tests.conftest import PASSWORD


def count_users(session) -> int:
    return session.scalar(select(func.count()).select_from(User))


@pytest.fixture
def csrf_client(app_settings, session):
    """A client of an app with CSRF on, each request in its own app context.

    (The shared ``app`` fixture keeps one app context open, and Flask-WTF caches the
    session's token in ``g``: it would outlive the session cleared at login.)
    """
    app_settings["WTF_CSRF_ENABLED"] = True
    application = create_app(app_settings)
    db.use_session(application, session)
    return application.test_client()


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'type="hidden" name="csrf_token" value="([^"]+)"', html
    )
    assert match, "the form carries a CSRF token"
    return match.group(1)


def test_registration_without_csrf_token_is_refused_and_stores_nothing(
    csrf_client, session
) -> None:
    before = count_users(session)
    data = registration()
    response = csrf_client.post("/register", data=data)
    assert response.status_code == 400
    response = csrf_client.post("/register", data={**data, "csrf_token": "forged"})
    assert response.status_code == 400
    assert count_users(session) == before
    # With the token from the form, the same data goes through.
    token = csrf_token(csrf_client.get("/register").get_data(as_text=True))
    response = csrf_client.post("/register", data={**data, "csrf_token": token})
    assert response.status_code == 302
    assert count_users(session) == before + 1


def test_logout_and_role_changes_need_the_csrf_token(csrf_client, session, make_user) -> None:
    admin = make_user(roles=["admin"])
    token = csrf_token(csrf_client.get("/login").get_data(as_text=True))
    assert (
        csrf_client.post(
            "/login", data={"email": admin.email, "password": PASSWORD, "csrf_token": token}
        ).status_code
        == 302
    )
    other = make_user()
    response = csrf_client.post(
        f"/admin/users/{other.id}/roles", data={"role": "admin", "action": "grant"}
    )
    assert response.status_code == 400
    session.refresh(other)
    assert not other.has_role("admin")
    assert csrf_client.post("/logout").status_code == 400
    assert csrf_client.get("/profile").status_code == 200, "still logged in"


def test_a_forged_language_switch_leaves_the_profile_alone(csrf_client, session, make_user) -> None:
    user = make_user(locale="kk")
    token = csrf_token(csrf_client.get("/login").get_data(as_text=True))
    assert (
        csrf_client.post(
            "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
        ).status_code
        == 302
    )
    # Another site can make the browser follow a link or post a form, without the token.
    csrf_client.get("/lang/en?next=/profile")
    assert csrf_client.post("/lang/en", data={"next": "/profile"}).status_code == 400
    session.refresh(user)
    assert user.locale == "kk"
    # The header's own form carries the token and switches.
    token = csrf_token(csrf_client.get("/profile").get_data(as_text=True))
    assert (
        csrf_client.post("/lang/en", data={"next": "/profile", "csrf_token": token}).status_code
        == 303
    )
    session.refresh(user)
    assert user.locale == "en"


def test_session_cookie_is_httponly_and_samesite(client, make_user) -> None:
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session_cookie
    assert "SameSite=Lax" in session_cookie


def test_session_cookie_is_secure_behind_https(app_settings, request, make_user) -> None:
    app_settings["BASE_URL"] = "https://oqu.example.kz"
    client = request.getfixturevalue("app").test_client()
    user = make_user()
    response = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD},
        base_url="https://oqu.example.kz",
    )
    session_cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")
    )
    assert "Secure" in session_cookie


@pytest.mark.parametrize(
    "path", ["/register", "/login", "/password/forgot", "/profile", "/admin/users"]
)
def test_pages_have_csp_and_no_inline_script_or_style(client, make_user, login, path) -> None:
    login(make_user(roles=["admin"]))
    if path in ("/register", "/login", "/password/forgot"):
        client.post("/logout")
    response = client.get(path)
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "style-src 'self'" in csp
    html = response.get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script> found"
    assert not re.search(r"\sstyle=", html), "inline style attribute found"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler found"


def test_login_rate_limit_answers_429(app_settings, request, make_user) -> None:
    app_settings.update(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per day")
    client = request.getfixturevalue("app").test_client()
    user = make_user()
    for _ in range(3):
        response = client.post("/login", data={"email": user.email, "password": "wrong!"})
        assert response.status_code == 400
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
    # Reading the page is not limited; only attempts are.
    assert client.get("/login").status_code == 200


def test_registration_rate_limit_answers_429(app_settings, request, session) -> None:
    app_settings.update(RATELIMIT_ENABLED=True, RATELIMIT_REGISTER="2 per day")
    client = request.getfixturevalue("app").test_client()
    for _ in range(2):
        assert client.post("/register", data=registration(email="bad")).status_code == 400
    before = count_users(session)
    assert client.post("/register", data=registration()).status_code == 429
    assert count_users(session) == before


def test_password_reset_rate_limit_answers_429(app_settings, request) -> None:
    app_settings.update(RATELIMIT_ENABLED=True, RATELIMIT_PASSWORD_RESET="2 per hour")
    client = request.getfixturevalue("app").test_client()
    for _ in range(2):
        client.post("/password/forgot", data={"email": "someone@example.kz"})
    assert client.post("/password/forgot", data={"email": "someone@example.kz"}).status_code == 429


def test_prefixed_profile_forms_accept_their_own_csrf_token(
    csrf_client, session, make_user
) -> None:
    user = make_user()
    token = csrf_token(csrf_client.get("/login").get_data(as_text=True))
    csrf_client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    html = csrf_client.get("/profile").get_data(as_text=True)
    pw_token = re.search(r'name="pw-csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    new = "another long password"
    form = {"pw-current_password": PASSWORD, "pw-new_password": new, "pw-confirm": new}
    assert csrf_client.post("/profile/password", data=form).status_code == 400
    response = csrf_client.post("/profile/password", data={**form, "pw-csrf_token": pw_token})
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]


@pytest.mark.parametrize(("hops", "limited"), [(0, True), (1, False)])
def test_behind_a_proxy_each_visitor_has_their_own_limit(
    app_settings, request, make_user, hops, limited
) -> None:
    # Two visitors reach the app through one load balancer. Trusted (LMS_PROXY_HOPS=1),
    # X-Forwarded-For tells them apart; untrusted, they share the balancer's bucket.
    app_settings.update(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="2 per day", PROXY_HOPS=hops)
    client = request.getfixturevalue("app").test_client()
    user = make_user()
    for _ in range(2):
        client.post(
            "/login",
            data={"email": user.email, "password": "wrong!"},
            headers={"X-Forwarded-For": "203.0.113.7"},
        )
    other = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.20"},
    )
    assert (other.status_code == 429) is limited


@pytest.mark.parametrize("where", ["path", "query", "form"])
def test_a_nul_character_anywhere_is_refused_and_stores_nothing(
    client, session, make_user, login, where
) -> None:
    # PostgreSQL cannot store NUL: without this guard these were server errors there, and
    # on SQLite the name was stored as sent.
    before = count_users(session)
    if where == "form":
        response = client.post("/register", data=registration(full_name="Ab\x00cd"))
        assert response.status_code == 400
        assert count_users(session) == before
        assert (
            client.post(
                "/login", data={"email": "a\x00@example.kz", "password": PASSWORD}
            ).status_code
            == 400
        )
        user = make_user(full_name="Unchanged")
        login(user)
        assert client.post("/profile", data={"full_name": "X\x00"}).status_code == 400
        session.refresh(user)
        assert user.full_name == "Unchanged"
    elif where == "query":
        assert client.get("/courses?q=ai%00").status_code == 400
    else:
        assert client.get("/courses/ex%00ample").status_code == 400
        assert client.get("/courses/example/files/a%00b.png").status_code == 400
