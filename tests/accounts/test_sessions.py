"""Sessions the server can end: a row per sign-in, checked on every request (issue 11)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lms.accounts.models import LoginSession
from lms.db import utcnow
from tests.accounts.conftest import NEW_PASSWORD
from tests.conftest import PASSWORD

EN = {"Accept-Language": "en"}
PHONE = (
    "Mozilla/5.0 (Linux; Android 14; SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)


def sign_in(app, user, password: str = PASSWORD, **environ):
    """A browser of its own (its own cookies), signed in as ``user``."""
    browser = app.test_client()
    if environ:
        browser.environ_base.update(environ)
    response = browser.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return browser


def signed_in(browser) -> bool:
    response = browser.get("/profile")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def rows(session, user) -> list[LoginSession]:
    session.expire_all()
    return list(session.scalars(select(LoginSession).where(LoginSession.user_id == user.id)))


def test_a_cookie_replayed_after_logout_is_signed_out(app, make_user) -> None:
    user = make_user()
    browser = sign_in(app, user)
    copied = browser.get_cookie("session").value
    assert signed_in(browser)
    assert browser.post("/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", copied)
    response = thief.get("/profile")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_a_role_change_ends_the_accounts_sessions(app, session, make_user) -> None:
    admin = make_user(roles=["admin"])
    learner = make_user()
    phone, laptop = sign_in(app, learner), sign_in(app, learner)
    admin_browser = sign_in(app, admin)
    other_admin_tab = sign_in(app, admin)
    response = admin_browser.post(
        f"/admin/users/{learner.id}/roles", data={"role": "instructor", "action": "grant"}
    )
    assert response.status_code == 302
    assert not signed_in(phone) and not signed_in(laptop)
    assert rows(session, learner) == []
    # An admin changing their own roles stays signed in here; their other sessions end.
    admin_browser.post(
        f"/admin/users/{admin.id}/roles", data={"role": "analyst", "action": "grant"}
    )
    assert signed_in(admin_browser) and not signed_in(other_admin_tab)
    again = sign_in(app, learner)
    admin_browser.post(
        f"/admin/users/{learner.id}/roles", data={"role": "instructor", "action": "revoke"}
    )
    assert not signed_in(again)


def test_a_password_change_keeps_this_session_and_ends_the_others(app, make_user) -> None:
    user = make_user()
    here, elsewhere = sign_in(app, user), sign_in(app, user)
    response = here.post(
        "/profile/password",
        data={
            "pw-current_password": PASSWORD,
            "pw-new_password": NEW_PASSWORD,
            "pw-confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert signed_in(here) and not signed_in(elsewhere)


def test_sign_out_everywhere_and_ending_one_session(app, session, make_user) -> None:
    user = make_user()
    stranger = make_user()
    here = sign_in(app, user)
    one, two = sign_in(app, user), sign_in(app, user)
    theirs = sign_in(app, stranger)
    [row_one] = [r for r in rows(session, user) if r.id != min(r.id for r in rows(session, user))][
        :1
    ]
    assert here.post(f"/profile/sessions/{row_one.id}/end").status_code == 302
    assert not signed_in(one) and signed_in(two) and signed_in(here)
    # Another account's session is not ours to end.
    [their_row] = rows(session, stranger)
    assert here.post(f"/profile/sessions/{their_row.id}/end").status_code == 404
    assert signed_in(theirs)
    assert here.post("/profile/sessions/end-others").status_code == 302
    assert signed_in(here) and not signed_in(two)
    assert len(rows(session, user)) == 1
    # Ending this very session is logging out.
    [mine] = rows(session, user)
    assert here.post(f"/profile/sessions/{mine.id}/end").status_code == 302
    assert not signed_in(here)


def test_ending_a_session_needs_the_csrf_token(app, make_user) -> None:
    user = make_user()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        here = app.test_client()
        page = here.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        here.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
        assert here.post("/profile/sessions/end-others").status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_idle_and_absolute_expiry(app, session, make_user) -> None:
    user = make_user()
    browser = sign_in(app, user)
    [row] = rows(session, user)
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    row.last_seen_at = utcnow() - idle + timedelta(minutes=1)
    session.flush()
    assert signed_in(browser), "within the idle timeout"
    row.last_seen_at = utcnow() - idle - timedelta(minutes=1)
    session.flush()
    assert not signed_in(browser), "idle too long"

    browser = sign_in(app, user)
    row = max(rows(session, user), key=lambda r: r.id)
    lifetime = timedelta(days=app.config["SESSION_MAX_DAYS"])
    row.created_at = utcnow() - lifetime + timedelta(minutes=5)
    session.flush()
    assert signed_in(browser)
    row.created_at = utcnow() - lifetime - timedelta(minutes=1)
    session.flush()
    assert not signed_in(browser), "past the absolute lifetime, however active"


def test_last_seen_is_written_at_most_every_five_minutes(app, session, make_user) -> None:
    user = make_user()
    browser = sign_in(app, user)
    [row] = rows(session, user)
    recent = utcnow() - timedelta(minutes=4)
    row.last_seen_at = recent
    session.flush()
    assert signed_in(browser)
    assert rows(session, user)[0].last_seen_at == recent.replace(microsecond=recent.microsecond)
    row = rows(session, user)[0]
    row.last_seen_at = utcnow() - timedelta(minutes=6)
    session.flush()
    assert signed_in(browser)
    assert rows(session, user)[0].last_seen_at > utcnow() - timedelta(minutes=1)


def test_a_new_network_address_keeps_the_session(app, make_user) -> None:
    user = make_user()
    phone = sign_in(app, user, REMOTE_ADDR="198.51.100.7")
    phone.environ_base["REMOTE_ADDR"] = "203.0.113.99"  # from Wi-Fi to mobile data
    assert signed_in(phone)


def test_profile_lists_sessions_with_device_address_and_times(app, session, make_user) -> None:
    user = make_user(locale="ru")
    sign_in(app, user, HTTP_USER_AGENT=PHONE, REMOTE_ADDR="198.51.100.7")
    here = sign_in(app, user, HTTP_USER_AGENT="curl/8.0")
    html = here.get("/profile").get_data(as_text=True)
    assert "Где выполнен вход" in html
    assert "Chrome, Android" in html and "198.51.100.7" in html
    assert "это устройство" in html
    assert html.count("/profile/sessions/") >= 3  # two "end" buttons and "everywhere else"
    for row in rows(session, user):
        assert row.created_at.strftime("%Y-%m-%d %H:%M") in html
    user.locale = "kk"
    session.flush()
    assert "Кірген құрылғыларыңыз" in here.get("/profile").get_data(as_text=True)


def test_signed_in_pages_are_not_stored_by_the_browser(app, client, make_user) -> None:
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    browser = sign_in(app, make_user())
    for path in ("/profile", "/"):
        assert browser.get(path).cache_control.no_store
    # Stylesheets carry nothing personal: the browser keeps caching them.
    assert "no-store" not in browser.get("/static/oqu.css").headers.get("Cache-Control", "")


def test_account_deletion_ends_every_session(app, session, make_user) -> None:
    user = make_user()
    here, elsewhere = sign_in(app, user), sign_in(app, user)
    response = here.post("/profile/delete", data={"del-password": PASSWORD})
    assert response.status_code == 302
    assert not signed_in(here) and not signed_in(elsewhere)
