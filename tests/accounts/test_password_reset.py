"""Forgotten password: same answer for everyone, a link by mail, usable once."""

from __future__ import annotations

import logging
from unittest import mock

from lms.accounts import services
from tests.accounts.conftest import NEW_PASSWORD, logged_mail_link
from tests.conftest import PASSWORD

EN = {"Accept-Language": "en"}
SAME_ANSWER = "If this address is registered, we have sent a link"


def ask_for_reset(client, email: str) -> str:
    """Post the forgotten-password form as a browser would; return the page it lands on.

    The response is closed as a WSGI server closes it once sent: the mail goes out then.
    """
    response = client.post("/password/forgot", data={"email": email}, headers=EN)
    assert response.status_code == 302
    response.close()
    return client.get(response.headers["Location"], headers=EN).get_data(as_text=True)


def test_reset_end_to_end_with_the_link_from_the_logged_mail(
    client, session, make_user, caplog
) -> None:
    user = make_user(locale="ru")
    caplog.set_level(logging.INFO, logger="lms.mail")
    ask_for_reset(client, user.email.upper())
    link = logged_mail_link(caplog)
    assert link.startswith("http://127.0.0.1:8000/password/reset/")
    logged = [r.getMessage() for r in caplog.records if r.name == "lms.mail"][-1]
    assert f"To: {user.email}" in logged
    assert "Сброс пароля Oqu" in logged, "the mail is written in the account's language"
    path = link.removeprefix("http://127.0.0.1:8000")
    assert client.get(path).status_code == 200
    response = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert (
        client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 400
    )
    assert (
        client.post("/login", data={"email": user.email, "password": NEW_PASSWORD}).status_code
        == 302
    )
    client.post("/logout")
    # The link is single-use: once the password changed it no longer works.
    reused = client.post(
        path,
        data={"password": "yet another password!", "confirm": "yet another password!"},
        headers=EN,
    )
    assert reused.status_code == 400
    # The language cookie set at login outlives the session: the page is in Russian.
    assert "уже использована" in reused.get_data(as_text=True)
    assert (
        client.post("/login", data={"email": user.email, "password": NEW_PASSWORD}).status_code
        == 302
    )


def test_unknown_address_gets_the_same_answer_and_no_mail(client, caplog) -> None:
    caplog.set_level(logging.INFO, logger="lms.mail")
    assert SAME_ANSWER in ask_for_reset(client, "nobody@example.kz")
    assert not [r for r in caplog.records if r.name == "lms.mail"]


def test_known_address_gets_the_same_answer(client, make_user, caplog) -> None:
    user = make_user()
    caplog.set_level(logging.INFO, logger="lms.mail")
    assert SAME_ANSWER in ask_for_reset(client, user.email)
    assert logged_mail_link(caplog)


def test_synthetic_accounts_get_no_link(client, make_user, caplog) -> None:
    caplog.set_level(logging.INFO, logger="lms.mail")
    user = make_user(is_synthetic=True)
    ask_for_reset(client, user.email)
    assert not [r for r in caplog.records if r.name == "lms.mail"]


def test_forged_and_expired_tokens_are_refused(client, session, app, make_user) -> None:
    user = make_user()
    token = services.reset_token(user, secret=app.config["SECRET_KEY"])
    assert (
        services.user_for_reset_token(session, token=token, secret=app.config["SECRET_KEY"]) is user
    )
    assert services.user_for_reset_token(session, token=token, secret="another key") is None
    assert (
        services.user_for_reset_token(
            session, token=token, secret=app.config["SECRET_KEY"], max_age=-1
        )
        is None
    )
    assert client.get("/password/reset/" + token[:-3] + "abc").status_code == 400


def test_with_mail_host_the_message_goes_through_smtp(app, client, make_user) -> None:
    app.config.update(
        MAIL_HOST="smtp.example.kz",
        MAIL_PORT=587,
        MAIL_USE_TLS=True,
        MAIL_USERNAME="oqu",
        MAIL_PASSWORD="smtp-secret",
    )
    user = make_user()
    with mock.patch("smtplib.SMTP") as smtp_class:
        response = client.post("/password/forgot", data={"email": user.email})
        # Nothing waits on the mail server before the visitor has the answer ...
        smtp_class.assert_not_called()
        # ... it is sent once the server has delivered the response and closes it.
        response.close()
    smtp_class.assert_called_once_with("smtp.example.kz", 587, timeout=15)
    smtp = smtp_class.return_value.__enter__.return_value
    smtp.starttls.assert_called_once()
    smtp.login.assert_called_once_with("oqu", "smtp-secret")
    message = smtp.send_message.call_args.args[0]
    assert message["To"] == user.email
    assert "/password/reset/" in message.get_content()


def test_smtp_failure_still_gives_the_same_answer(app, client, make_user) -> None:
    app.config.update(MAIL_HOST="smtp.example.kz")
    user = make_user()
    with mock.patch("smtplib.SMTP", side_effect=OSError("connection refused")) as smtp_class:
        assert SAME_ANSWER in ask_for_reset(client, user.email)
    smtp_class.assert_called_once()
