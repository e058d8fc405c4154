"""The ministry API: bearer tokens only (no session cookie), JSON, rate-limited per token."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    request,
    stream_with_context,
    url_for,
)
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import MethodNotAllowed, NotFound

from lms.api import services
from lms.api.openapi import document
from lms.attachments import content_disposition
from lms.db import MAX_ID, db
from lms.extensions import csrf, limiter, rate
from lms.stats import dimensions, exports, figures, xapi
from lms.stats.figures import BadPeriod, Period

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


def _authentication() -> Any:
    """The token's account, or the BadToken / TokenForbidden it raised (once a request)."""
    if "api_auth" not in g:
        try:
            g.api_auth = services.authenticate(db.session(), secret=_bearer())
        except (services.BadToken, services.TokenForbidden) as refused:
            g.api_auth = refused
    return g.api_auth


def token_key() -> str:
    """Rate-limit key: a real token's hash; else the address, so that guessing tokens,
    each new one a bucket of its own, is limited like any other request from there."""
    secret = _bearer()
    if secret and not isinstance(_authentication(), services.BadToken):
        return "tok:" + services.token_hash(secret)
    return get_remote_address()


# One allowance per token for the whole API (a per-route limit would let a client multiply
# its allowance by the number of routes).
limiter.shared_limit(rate("api"), scope="api", key_func=token_key)(bp)


def error(status: int, message: str) -> Response:
    response = jsonify({"error": message, "status": status})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="oqu"'
    return response


@bp.before_request
def require_token() -> Response | None:
    if request.endpoint == "api.openapi":
        return None
    outcome = _authentication()
    if isinstance(outcome, services.BadToken):
        return error(401, "a valid bearer token is required")
    if isinstance(outcome, services.TokenForbidden):
        return error(403, "this token's account is not an analyst or admin")
    g.api_user = outcome
    return None


@bp.errorhandler(404)
def not_found(_e: Any) -> Response:
    return error(404, "not found")


@bp.before_app_request
def api_routing_error() -> Response | None:
    """An unknown path or method under /api/ answers JSON like the API's other errors (the
    app's HTML error pages are for browsers; no blueprint handler sees a routing error)."""
    failure = request.routing_exception
    if not (request.path == "/api" or request.path.startswith("/api/")):
        return None
    if isinstance(failure, NotFound):
        return error(404, "no such API path")
    if isinstance(failure, MethodNotAllowed):
        response = error(405, "method not allowed")
        response.headers["Allow"] = ", ".join(sorted(failure.valid_methods or ()))
        return response
    return None


@bp.errorhandler(429)
def too_many(_e: Any) -> Response:
    return error(429, "rate limit exceeded")


def _period(required: bool = False) -> Period | None:
    text = request.args.get("period", "")
    if not text and not required:
        return None
    try:
        return Period.parse(text)
    except BadPeriod:
        abort(error(400, "period must be YYYY, YYYY-Qn or YYYY-MM"))


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(document(current_app.config["BASE_URL"]))


@bp.get("/stats/progress")
def progress() -> Response:
    p = figures.progress(db.session())
    return jsonify(
        {
            "trained": {
                "target": figures.TARGET_TRAINED,
                "reached": p.trained,
                "pace_per_day": round(p.pace_trained, 3),
                "projected_date": p.eta_trained.isoformat() if p.eta_trained else None,
            },
            "specialists": {
                "target": figures.TARGET_SPECIALISTS,
                "reached": p.specialists,
                "pace_per_day": round(p.pace_specialists, 3),
                "projected_date": p.eta_specialists.isoformat() if p.eta_specialists else None,
            },
            "as_of": p.as_of,
        }
    )


@bp.get("/stats/breakdowns/<dimension>")
def breakdown(dimension: str) -> Response:
    if dimension not in dimensions.REGISTRY:
        return error(404, "unknown dimension")
    period = _period(required=False)
    tier = request.args.get("tier") or None
    if tier not in (None, "public", "specialist"):
        return error(400, "tier must be public or specialist")
    session = db.session()
    region = request.args.get("region") or None
    if region is not None and region not in figures.dimension_values(session, "region"):
        return error(400, "region must be one of the region codes (for example KZ-75)")
    counts = figures.breakdown(
        session, dimension=dimension, period=period, region=region, tier=tier
    )
    rows = [
        {"value": v, **counts.get((v,), {"completions": 0, "new_trained": 0, "new_specialists": 0})}
        for v in figures.dimension_values(session, dimension)
    ]
    return jsonify(
        {
            "dimension": dimension,
            "period": period.text if period else None,
            "region": region,
            "tier": tier,
            "rows": rows,
        }
    )


@bp.get("/stats/exports/<dimension>.<fmt>")
def export(dimension: str, fmt: str) -> Response:
    if dimension not in dimensions.REGISTRY or fmt not in exports.FORMATS:
        return error(404, "unknown dimension or format")
    period = _period(required=True)
    assert period is not None  # required: a missing period is refused above
    body = exports.stream(
        db.session(),
        dimension=dimension,
        period=period,
        fmt=fmt,
        license_id=current_app.config["OPEN_DATA_LICENSE"],
    )
    response = Response(stream_with_context(body), content_type=exports.MIMETYPES[fmt])
    response.headers["Content-Disposition"] = content_disposition(
        f"oqu-{dimension}-{period.text}.{fmt}"
    )
    return response


def xapi_key() -> bytes:
    """The key of the learners' pseudonyms (setting XAPI_KEY, else derived from SECRET_KEY)."""
    configured = current_app.config.get("XAPI_KEY") or ""
    if configured:
        return configured.encode()
    return hashlib.sha256(b"oqu-xapi:" + current_app.config["SECRET_KEY"].encode()).digest()


@bp.get("/stats/xapi")
def xapi_feed() -> Response:
    try:
        since = max(0, int(request.args.get("since", "0")))
        voided_since = max(0, int(request.args.get("voided_since", "0")))
        limit = int(request.args["limit"]) if request.args.get("limit") else None
    except ValueError:
        return error(400, "since, voided_since and limit must be integers")
    if since > MAX_ID or voided_since > MAX_ID:
        return error(400, f"since and voided_since must be at most {MAX_ID}")
    if limit is not None and not 1 <= limit <= 100_000:
        return error(400, "limit must be between 1 and 100000")
    more = (
        url_for(".xapi_feed", limit=limit, since="SINCE", voided_since="VOIDED")
        .replace("SINCE", "{since}")
        .replace("VOIDED", "{voided_since}")
    )
    body = xapi.feed_chunks(
        db.session(),
        key=xapi_key(),
        base_url=current_app.config["BASE_URL"],
        since=since,
        voided_since=voided_since,
        limit=limit,
        more_url=more,
    )
    return Response(stream_with_context(body), mimetype="application/json")
