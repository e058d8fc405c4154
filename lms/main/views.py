"""Home page, ``/healthz`` and the error pages."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from flask import Blueprint, Flask, current_app, g, jsonify, make_response, render_template, request
from sqlalchemy import text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from lms.db import db, unreachable

log = logging.getLogger(__name__)

bp = Blueprint("main", __name__, template_folder="templates")


@bp.get("/")
def home() -> Any:
    from lms.courses import services as courses
    from lms.stats import figures

    session = db.session()
    featured = courses.published_courses(session)[:6]
    return render_template(
        "main/home.html",
        courses=featured,
        progress=figures.progress(session),
        targets=(figures.TARGET_TRAINED, figures.TARGET_SPECIALISTS),
    )


def _database_ok() -> tuple[bool, str]:
    """Whether the database answers and carries the schema this code expects."""
    from lms.migrate import head_revision

    try:
        version = (
            db.session()
            .execute(text("SELECT version_num FROM alembic_version"))
            .scalar_one_or_none()
        )
    except Exception as exc:  # any driver error means "down" (or never migrated)
        db.session().rollback()
        if "alembic_version" in str(exc):
            return False, "not migrated: run `flask --app wsgi db upgrade`"
        return False, type(exc).__name__
    if version != head_revision():
        return False, (
            f"schema at {version}, code expects {head_revision()}: "
            "run `flask --app wsgi db upgrade`"
        )
    return True, "ok"


def _broker_ok() -> tuple[bool, str]:
    from kombu import Connection

    url = current_app.config["BROKER_URL"]
    if url.startswith("filesystem://"):
        from pathlib import Path

        folder = Path(url.removeprefix("filesystem://"))
        return (folder.is_dir(), "ok" if folder.is_dir() else "broker folder missing")
    try:
        with Connection(url, connect_timeout=1) as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
    except Exception as exc:
        return False, type(exc).__name__
    return True, "ok"


@bp.get("/healthz")
def healthz() -> Any:
    """200 when the database answers, 503 when it does not. Anyone reads only that; the
    parts and their details (schema revision, error names) go to the machine itself (the
    loopback address, as seen after ``LMS_PROXY_HOPS``) or to the ``LMS_HEALTHZ_TOKEN``."""
    from lms.monitoring import access

    db_ok, db_detail = _database_ok()
    status = 200 if db_ok else 503
    body: dict[str, Any] = {"status": "ok" if db_ok else "unavailable"}
    if not access.allowed(
        address=request.remote_addr,
        authorization=request.headers.get("Authorization"),
        token=str(current_app.config.get("HEALTHZ_TOKEN") or ""),
    ):
        return jsonify(body), status
    broker_ok, broker_detail = _broker_ok()
    body["database"] = {"ok": db_ok, "detail": db_detail}
    body["broker"] = {"ok": broker_ok, "detail": broker_detail}
    return jsonify(body), status


def register_error_pages(app: Flask) -> None:
    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, _error_page)
    app.register_error_handler(OperationalError, _database_unavailable)


def _database_unavailable(error: OperationalError) -> Any:
    """The database is down or refuses us: one log line (not a traceback per request) and
    a 503 page; /healthz says the same to the load balancer."""
    with contextlib.suppress(SQLAlchemyError):
        db.session().rollback()
    log.error(unreachable(error, current_app.config["DATABASE_URL"]))
    # The page is drawn for an anonymous visitor: loading the signed-in user would reach
    # the database again, and that second failure would be a 500.
    from lms.extensions import login_manager

    g._login_user = login_manager.anonymous_user()
    response = make_response(render_template("main/error.html", code=503), 503)
    response.headers["Retry-After"] = "30"
    return response


def _error_page(error: Any) -> Any:
    code = getattr(error, "code", 500) or 500
    return render_template("main/error.html", code=code), code
