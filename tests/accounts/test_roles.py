"""Roles: the ``users`` commands and the admin's page of users."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.accounts.models import User
from tests.conftest import PASSWORD

EN = {"Accept-Language": "en"}


def run(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=["users", *args], input=input)


def test_create_admin_from_stdin_makes_an_admin_who_can_log_in(app, client, session) -> None:
    email = "First.Admin@Oqu.example.kz"
    result = run(
        app,
        "create-admin",
        "--email",
        email,
        "--password-stdin",
        "--name",
        "Бірінші әкімші",
        input="admin password 123\n",
    )
    assert result.exit_code == 0, result.output
    admin = session.scalar(select(User).where(User.email == email.lower()))
    assert admin is not None and admin.has_role("admin")
    assert (admin.full_name, admin.region, admin.sector) == ("Бірінші әкімші", "KZ-71", "none")
    assert (
        client.post("/login", data={"email": email, "password": "admin password 123"}).status_code
        == 302
    )
    assert client.get("/admin/users").status_code == 200


def test_create_admin_prompts_twice_when_no_stdin_flag(app, session) -> None:
    result = run(
        app,
        "create-admin",
        "--email",
        "prompted.admin@example.kz",
        input="admin password 123\nadmin password 123\n",
    )
    assert result.exit_code == 0, result.output
    assert "admin password 123" not in result.output, "the password is not echoed"
    assert session.scalar(select(User).where(User.email == "prompted.admin@example.kz"))


def test_create_admin_fails_clearly_on_an_existing_email(app, make_user) -> None:
    user = make_user()
    result = run(
        app,
        "create-admin",
        "--email",
        user.email.upper(),
        "--password-stdin",
        input="admin password 123\n",
    )
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert not user.has_role("admin")


def test_create_admin_refuses_a_short_password(app, session) -> None:
    result = run(
        app, "create-admin", "--email", "short.pw@example.kz", "--password-stdin", input="short\n"
    )
    assert result.exit_code == 1 and "at least 10" in result.output
    assert session.scalar(select(User).where(User.email == "short.pw@example.kz")) is None


def test_grant_and_revoke(app, session, make_user) -> None:
    user = make_user()
    result = run(app, "grant", "instructor", user.email)
    assert result.exit_code == 0, result.output
    session.refresh(user)
    assert user.has_role("instructor")
    result = run(app, "revoke", "instructor", user.email)
    assert result.exit_code == 0, result.output
    session.refresh(user)
    assert not user.has_role("instructor") and user.roles == {"learner"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("grant", "overlord", "{email}"), "unknown role"),
        (("revoke", "overlord", "{email}"), "unknown role"),
        (("grant", "analyst", "nobody@example.kz"), "no account"),
        (("revoke", "analyst", "nobody@example.kz"), "no account"),
    ],
)
def test_unknown_role_or_email_is_a_clear_error(app, make_user, args, message) -> None:
    user = make_user()
    result = run(app, *(a.format(email=user.email) for a in args))
    assert result.exit_code == 1
    assert message in result.output


@pytest.mark.parametrize("roles", [[], ["instructor"], ["analyst"]])
def test_admin_users_page_is_forbidden_to_everyone_else(client, make_user, login, roles) -> None:
    login(make_user(roles=roles))
    assert client.get("/admin/users").status_code == 403
    other = make_user()
    response = client.post(
        f"/admin/users/{other.id}/roles", data={"role": "admin", "action": "grant"}
    )
    assert response.status_code == 403
    assert not other.has_role("admin")


def test_admin_users_page_sends_anonymous_visitors_to_login(client) -> None:
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_admin_searches_and_grants_and_revokes(client, session, make_user, login) -> None:
    admin = make_user(roles=["admin"], locale="en")
    target = make_user(email="needle.in.haystack@example.kz", full_name="<i>Needle</i>")
    login(admin)
    html = client.get("/admin/users?q=NEEDLE.in").get_data(as_text=True)
    assert target.email in html and admin.email not in html
    assert "&lt;i&gt;Needle&lt;/i&gt;" in html
    response = client.post(
        f"/admin/users/{target.id}/roles",
        data={"role": "analyst", "action": "grant"},
        follow_redirects=True,
    )
    assert "now has the role Analyst" in response.get_data(as_text=True)
    session.refresh(target)
    assert target.has_role("analyst")
    client.post(f"/admin/users/{target.id}/roles", data={"role": "analyst", "action": "revoke"})
    session.refresh(target)
    assert not target.has_role("analyst")
    # Tampered values change nothing.
    for data in ({"role": "superuser", "action": "grant"}, {"role": "admin", "action": "x"}):
        client.post(f"/admin/users/{target.id}/roles", data=data)
    session.refresh(target)
    assert target.roles == {"learner"}


def test_admin_cannot_revoke_their_own_admin_role(client, session, make_user, login) -> None:
    admin = make_user(roles=["admin"])
    login(admin)
    client.post(f"/admin/users/{admin.id}/roles", data={"role": "admin", "action": "revoke"})
    session.refresh(admin)
    assert admin.has_role("admin")


def test_admin_users_page_is_paginated(client, make_user, login) -> None:
    admin = make_user(roles=["admin"], locale="en")
    for _ in range(26):
        make_user(email=f"paged-{_:02d}-{admin.id}@example.kz")
    login(admin)
    first = client.get(f"/admin/users?q=-{admin.id}@").get_data(as_text=True)
    assert "26 accounts found." in first and "Page 1 of 2" in first
    second = client.get(f"/admin/users?q=-{admin.id}@&page=2").get_data(as_text=True)
    assert second.count(f"-{admin.id}@example.kz") >= 1 and "Page 2 of 2" in second
    assert PASSWORD not in first
