"""Signing in and out on the web: the session row (``services.start_session``), the
signed cookie that names it, and Flask-Login.

Every way of signing in (password, the welcome mail's link, single sign-on) calls
``log_in``; nothing else calls ``flask_login.login_user``.
"""

from __future__ import annotations

from flask import current_app, g, request, session
from flask_login import logout_user

from lms.accounts import services
from lms.accounts.models import User
from lms.db import db, utcnow

# The signed cookie's key holding the session token (the row stores only its hash).
TOKEN_KEY = "oqu_sid"


def log_in(user: User) -> int:
    """Open a session for ``user`` in this browser; returns the session row's id.

    The cookie is cleared first (nothing set before the sign-in survives it: fixation),
    and lives as long as the session may (``LMS_SESSION_MAX_DAYS``). The caller commits.
    """
    import flask_login

    session.clear()
    services.end_expired_sessions(
        db.session(), user=user, policy=services.SessionPolicy.from_config(current_app.config)
    )
    row, token = services.start_session(
        db.session(),
        user=user,
        user_agent=request.headers.get("User-Agent", ""),
        address=request.remote_addr or "",
        now=utcnow(),
    )
    # PERMANENT_SESSION_LIFETIME is LMS_SESSION_MAX_DAYS (lms/config.py).
    session.permanent = True
    flask_login.login_user(user)
    session[TOKEN_KEY] = token
    g.oqu_session_id = row.id
    return row.id


def log_out() -> None:
    """End this browser's session: its row goes, so a copy of the cookie opens nothing."""
    session_id = current_session_id()
    user = flask_user()
    if session_id is not None and user is not None:
        services.end_session(db.session(), user=user, session_id=session_id)
    logout_user()
    session.clear()


def current_session_id() -> int | None:
    """The id of the session row of this request's signed-in user, if any."""
    from flask_login import current_user

    if not current_user.is_authenticated:
        return None
    value = g.get("oqu_session_id")
    return int(value) if value is not None else None


def flask_user() -> User | None:
    from flask_login import current_user

    return current_user._get_current_object() if current_user.is_authenticated else None  # type: ignore[no-any-return]
