"""Flask extensions, created unbound and attached in ``create_app``."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def rate(name: str) -> Callable[[], str]:
    """A callable giving the current value of the ``RATELIMIT_<NAME>`` setting."""
    key = f"RATELIMIT_{name.upper()}"
    return lambda: current_app.config[key]


def init_limiter(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
