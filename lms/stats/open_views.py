"""The public open-data page, its files and its DCAT catalogue (no account needed).

Files and catalogue are the same for everyone: they are sent without cookies (no
``Set-Cookie``, no ``Vary: Cookie``) so that caches and CDNs may keep them.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from flask.globals import request_ctx

from lms.attachments import content_disposition
from lms.db import db
from lms.extensions import limiter, rate
from lms.i18n import current_language
from lms.stats import dimensions, figures, opendata

bp = Blueprint("opendata", __name__, template_folder="templates")

YEAR = 365 * 24 * 3600
DAY = 24 * 3600
HOUR = 3600


def without_cookies(response: Any) -> Any:
    """Drop this request's session before Flask saves it: no cookie, no ``Vary: Cookie``.

    Flask saves the session after the view unless it is its null session (Flask 3.1 keeps
    it in the request context's ``_session``; tests/stats/test_open_data.py watches)."""
    ctx: Any = request_ctx._get_current_object()  # type: ignore[attr-defined]
    ctx._session = current_app.session_interface.make_null_session(current_app)
    response.vary.discard("Cookie")
    return response


@bp.get("/open-data")
@limiter.limit(rate("open_data"))
def page() -> Any:
    session = db.session()
    snapshots = opendata.listing(session)
    periods: dict[str, list[Any]] = {}
    for s in snapshots:
        periods.setdefault(s.period, []).append(s)
    return render_template(
        "stats/open_data.html",
        progress=figures.progress(session),
        targets=(figures.TARGET_TRAINED, figures.TARGET_SPECIALISTS),
        periods=periods,
        titles={d: dimensions.get(d).title[current_language()] for d in dimensions.NAMES},
        license=current_app.config["OPEN_DATA_LICENSE"],
        file_name=opendata.file_name,
    )


@bp.get("/open-data/catalog.json")
@limiter.limit(rate("open_data"))
def catalog() -> Any:
    body = opendata.catalog(
        opendata.listing(db.session()),
        base_url=current_app.config["BASE_URL"],
        license_id=current_app.config["OPEN_DATA_LICENSE"],
    )
    response = jsonify(body)
    response.content_type = "application/ld+json"
    response.headers["Cache-Control"] = f"public, max-age={HOUR}"
    response.add_etag()
    return without_cookies(response.make_conditional(request))


@bp.get("/open-data/<name>.zip")
@limiter.limit(rate("open_data"))
def package(name: str) -> Any:
    try:
        snapshot = opendata.find(db.session(), name=name)
    except opendata.UnknownSnapshot:
        abort(404)
    versioned = name.endswith(f"-v{snapshot.version}")
    response = Response(snapshot.package, content_type="application/zip")
    response.headers["Content-Disposition"] = content_disposition(f"oqu-{name}.zip")
    # A versioned file never changes; the unversioned name follows corrections.
    response.headers["Cache-Control"] = (
        f"public, max-age={YEAR}, immutable" if versioned else f"public, max-age={DAY}"
    )
    response.set_etag(snapshot.sha256)
    response.last_modified = snapshot.extracted_at
    return without_cookies(response.make_conditional(request))
