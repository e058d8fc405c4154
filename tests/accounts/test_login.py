"""Logging in and out: generic failures, blocked accounts, safe redirects, UI language."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD

EN = {"Accept-Language": "en"}


def test_login_redirects_and_logout_ends_the_session(client, make_user) -> None:
    user = make_user(full_name="Ержан Сапаров")
    response = client.post("/login", data={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    assert "Ержан Сапаров" in client.get("/profile", headers=EN).get_data(as_text=True)
    assert client.get("/profile").status_code == 200
    assert client.post("/logout").status_code == 302
    response = client.get("/profile")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_logout_needs_post(client, make_user, login) -> None:
    login(make_user())
    assert client.get("/logout").status_code == 405
    assert client.get("/profile").status_code == 200


@pytest.mark.parametrize("case", ["wrong password", "unknown e-mail"])
def test_failure_message_does_not_say_which_part_was_wrong(client, make_user, case) -> None:
    user = make_user()
    data = (
        {"email": user.email, "password": "not the password"}
        if case == "wrong password"
        else {"email": "nobody-here@example.kz", "password": PASSWORD}
    )
    response = client.post("/login", data=data, headers=EN)
    assert response.status_code == 400
    assert "The e-mail address or the password is not right." in response.get_data(as_text=True)
    assert client.get("/profile").status_code == 302


def test_synthetic_account_and_empty_password_hash_can_never_log_in(client, make_user) -> None:
    synthetic = make_user(is_synthetic=True)
    no_password = make_user(password_hash="")
    for user in (synthetic, no_password):
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 400
        response = client.post("/login", data={"email": user.email, "password": ""})
        assert response.status_code == 400
    assert client.get("/profile").status_code == 302


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/profile", "/profile"),
        ("https://evil.example/steal", None),
        ("//evil.example/steal", None),
        ("javascript:alert(1)", None),
    ],
)
def test_next_is_honoured_only_for_local_paths(client, make_user, target, expected) -> None:
    user = make_user()
    response = client.post(
        f"/login?next={target}", data={"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    if expected:
        assert location == expected
    else:
        assert location.startswith("/") and not location.startswith("//")
        assert "evil" not in location and "javascript" not in location


def test_anonymous_visitor_is_sent_to_login_and_back(client, make_user) -> None:
    response = client.get("/profile")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert 'name="next" type="hidden" value="/profile"' in page
    user = make_user()
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "next": "/profile"}
    )
    assert response.headers["Location"] == "/profile"


def test_login_switches_the_ui_to_the_users_language(client, make_user) -> None:
    user = make_user(locale="ru")
    response = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD},
        headers={"Accept-Language": "en"},
    )
    assert "oqu_lang=ru" in response.headers.get("Set-Cookie", "")
    html = client.get("/profile", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="ru">' in html and "Выйти" in html
