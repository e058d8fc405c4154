"""Oqu, the web app: ``create_app`` builds it from settings and feature packages."""

from __future__ import annotations

import importlib
import logging
from typing import Any

from flask import Flask

from lms import config

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
)


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app: defaults, then ``LMS_*`` variables, then ``overrides``."""
    app = Flask(__name__, instance_path=str(config.default_instance_path()))
    config.load(app, overrides)
    logging.basicConfig(level=app.config.get("LOG_LEVEL", "INFO"))

    from lms import extensions, i18n, security
    from lms.db import db

    db.init_app(app)
    extensions.csrf.init_app(app)
    extensions.init_limiter(app)
    i18n.init_app(app)
    security.init_app(app)
    for name in FEATURES:
        importlib.import_module(name).init_app(app)
    return app
