"""Response headers, role checks and the login manager's wiring."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, current_app, request, session
from flask_login import current_user, login_required

from lms.extensions import login_manager

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)

# A year: browsers then refuse plain http for the site, even from a typed address.
HSTS = "max-age=31536000"

F = TypeVar("F", bound=Callable[..., Any])


def roles_required(*roles: str) -> Callable[[F], F]:
    """Let the view run only for a logged-in user holding one of ``roles``; else 403."""

    def decorate(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_any_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    # The session row (lms/accounts/login.py) is what ends a session; Flask-Login's own
    # protection would tie it to the address and sign out a phone that changes networks.
    login_manager.session_protection = None

    @app.before_request
    def refuse_nul_characters() -> None:
        """A NUL character has no place in a path, a query or a form field; PostgreSQL
        cannot even store one. Refused before any view sees it (400)."""
        if "\x00" in request.path or _has_nul(request.args):
            abort(400)
        if request.method in ("POST", "PUT", "PATCH") and _has_nul(request.form):
            abort(400)

    @app.after_request
    def security_headers(response: Any) -> Any:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        if str(current_app.config["BASE_URL"]).startswith("https://"):
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        static = (request.endpoint or "").rsplit(".", 1)[-1] == "static"
        if "_user_id" in session and not static:
            # Every signed-in page shows a name and a CSRF token: on a shared school
            # computer, the next person must not find it in the browser's cache.
            response.headers["Cache-Control"] = "private, no-store"
        return response


def _has_nul(values: Any) -> bool:
    return any("\x00" in key or any("\x00" in v for v in items) for key, items in values.lists())
