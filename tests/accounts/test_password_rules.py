"""Password rules: common passwords refused; wrong guesses at the profile limited too."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lms.accounts import services
from lms.db import utcnow
from tests.accounts.conftest import NEW_PASSWORD, field_errors, registration
from tests.conftest import PASSWORD

EN = {"Accept-Language": "en"}
TOO_EASY = "This password is too easy to guess"


@pytest.mark.parametrize(
    "password", ["aaaaaaaaaa", "1234567890", "qwertyuiop", "password123", "iloveyou12"]
)
def test_common_passwords_are_refused_at_registration(client, session, password) -> None:
    data = registration(password=password, confirm=password)
    response = client.post("/register", data=data, headers=EN)
    assert response.status_code == 400
    assert any(TOO_EASY in error for error in field_errors(response.get_data(as_text=True)))
    assert services.find_by_email(session, email=data["email"]) is None


def test_common_password_refused_when_changing_it(client, make_user, login) -> None:
    user = make_user()
    login(user)
    response = client.post(
        "/profile/password",
        data={
            "pw-current_password": PASSWORD,
            "pw-new_password": "aaaaaaaaaa",
            "pw-confirm": "aaaaaaaaaa",
        },
        headers=EN,
    )
    assert response.status_code == 400 and TOO_EASY in response.get_data(as_text=True)
    client.post("/logout")
    assert (
        client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    )


def test_the_service_refuses_them_too(session, make_user) -> None:
    user = make_user()
    with pytest.raises(services.CommonPassword):
        services.set_password(session, user=user, password="aaaaaaaaaa")
    services.set_password(session, user=user, password="Таза-құпиясөз-2026")


def test_wrong_passwords_at_the_profile_are_limited_per_account(client, make_user, login) -> None:
    user = make_user()
    login(user)
    for attempt in range(10):
        path, data = (
            ("/profile/password", {
                "pw-current_password": f"not it {attempt}",
                "pw-new_password": NEW_PASSWORD,
                "pw-confirm": NEW_PASSWORD,
            })
            if attempt % 2
            else ("/profile/delete", {"del-password": f"not it {attempt}"})
        )  # fmt: skip
        assert client.post(path, data=data).status_code == 400
    for path, data in (
        ("/profile/delete", {"del-password": PASSWORD}),
        (
            "/profile/password",
            {
                "pw-current_password": PASSWORD,
                "pw-new_password": NEW_PASSWORD,
                "pw-confirm": NEW_PASSWORD,
            },
        ),
    ):
        response = client.post(path, data=data, headers=EN)
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) > 0
        assert "Too many wrong passwords" in response.get_data(as_text=True)
    assert client.get("/profile").status_code == 200, "nothing was deleted"
    # Login is blocked for the account as well: it is one count.
    client.post("/logout")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 429


def test_each_block_lasts_longer_and_a_right_password_clears_the_count(session) -> None:
    key = services.guard_key("someone@example.kz", secret="s")
    now = utcnow()
    lengths = []
    for _block in range(3):
        for _ in range(services.GUARD_FAILURES):
            failure = services.record_failure(session, key=key, now=now)
        assert failure.burst
        lengths.append(failure.blocked_seconds)
        assert services.blocked_for(session, key=key, now=now) == failure.blocked_seconds
        now += timedelta(seconds=failure.blocked_seconds + 1)
        assert services.blocked_for(session, key=key, now=now) == 0, "temporary"
    assert lengths == [300, 600, 1200]
    for _ in range(services.GUARD_FAILURES - 1):
        assert not services.record_failure(session, key=key, now=now).burst
    services.clear_failures(session, key=key)
    assert not services.record_failure(session, key=key, now=now).burst
