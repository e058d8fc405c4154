"""Oqu, the web app: ``create_app`` builds it from settings and feature packages."""

from __future__ import annotations

import importlib
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from lms import config
from lms.db import MAX_ID

# Each feature package exposes ``init_app(app)``: blueprints, CLI commands, hooks.
FEATURES = (
    "lms.main",
    "lms.accounts",
    "lms.courses",
    "lms.learning",
    "lms.assignments",
    "lms.stats",
    "lms.api",
    "lms.certificates",
    "lms.studio",
    "lms.workspace",
    "lms.backup",
)


class IdConverter(IntegerConverter):
    """``<int:...>`` in URLs, but only up to what the database holds: a longer number is a
    404 like any other unknown id, not a database error."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app: defaults, then ``LMS_*`` variables, then ``overrides``."""
    app = Flask(__name__, instance_path=str(config.default_instance_path()))
    config.load(app, overrides)
    app.url_map.converters["int"] = IdConverter
    hops = int(app.config["PROXY_HOPS"])
    if hops > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )

    from lms import extensions, i18n, models, monitoring, security, static_files  # noqa: F401
    from lms.db import db

    db.init_app(app)
    # First among the request hooks: every request gets its id and is measured, even one
    # that a later hook (CSRF, a rate limit) refuses.
    monitoring.init_app(app)
    extensions.csrf.init_app(app)
    extensions.init_limiter(app)
    i18n.init_app(app)
    security.init_app(app)
    static_files.init_app(app)
    for name in FEATURES:
        importlib.import_module(name).init_app(app)
    return app
