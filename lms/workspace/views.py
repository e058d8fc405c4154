"""The workspace: the page, and the JSON endpoints its script calls (save, Run, Submit).

JSON endpoints answer 401 when the session is gone (never a redirect to the login page,
which a fetch would follow and read as success), 404 for a draft that is not the caller's
(another learner's, a course they are not enrolled in), 409 for a save based on an old
revision, 429 with Retry-After when the learner or the machine is too busy. Saves from
``navigator.sendBeacon`` come as a form (``payload`` and ``csrf_token``: a beacon cannot
send headers); everything else is JSON with the CSRF token in ``X-CSRFToken``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError, generate_csrf
from werkzeug.exceptions import TooManyRequests

from lms.assignments import services as assignments
from lms.assignments.tasks import send_grading
from lms.courses.models import Item
from lms.db import db
from lms.extensions import limiter, rate
from lms.security import CSP
from lms.workspace import runs, services
from lms.workspace.messages import run_reason, shown_outputs
from lms.workspace.models import CellRun, DraftRevision
from lms.workspace.notebooks import InvalidDraft
from lms.workspace.page import page_context
from lms.workspace.tasks import send_run

F = TypeVar("F", bound=Callable[..., Any])
bp = Blueprint("workspace", __name__, template_folder="templates")
BASE = "/courses/<slug>/assignments/<item_key>/workspace"
BUSY_RETRY_SECONDS = 5


def _user_key() -> str:
    """Rate limits per account (a school's learners share one address)."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return request.remote_addr or "anonymous"


def _error(status: int, code: str, message: str = "", **more: Any) -> Any:
    response = jsonify({"error": code, "message": message, **more})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def json_login_required(view: F) -> F:
    """401 in JSON for a caller who is not signed in (or whose session ended)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return _error(401, "signed-out", _("You are signed out. Sign in again to save."))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@bp.errorhandler(CSRFError)
def _csrf_refused(error: CSRFError) -> Any:
    if not current_user.is_authenticated:
        return _error(401, "signed-out", _("You are signed out. Sign in again to save."))
    return _error(400, "csrf", _("The page's security token expired; it fetches a new one."))


@bp.errorhandler(services.NotEnrolled)
def _not_enrolled(error: services.NotEnrolled) -> Any:
    return _error(404, "not-found")


@bp.errorhandler(TooManyRequests)
def _too_many(error: TooManyRequests) -> Any:
    response = _error(
        429, "busy", _("You are running code very often. Wait a few seconds and try again.")
    )
    retry = getattr(error, "retry_after", None) or BUSY_RETRY_SECONDS
    response.headers["Retry-After"] = str(int(retry))
    return response


def _learner_item(slug: str, item_key: str) -> Item:
    """The assignment, for an enrolled learner; 404 for anyone else (a stranger learns
    nothing about another learner's draft, nor about a course they are not in)."""
    session = db.session()
    try:
        item = assignments.find_assignment_item(session, slug=slug, item_key=item_key)
    except assignments.AssignmentNotFound:
        abort(404)
    if assignments.find_enrollment(session, user=current_user, course=item.course) is None:
        abort(404)
    return item


def _body() -> dict[str, Any]:
    """The JSON of a fetch, or the ``payload`` field of a beacon's form; 400 if neither."""
    data: Any = request.get_json(silent=True) if request.is_json else None
    if data is None and "payload" in request.form:
        try:
            data = json.loads(request.form["payload"])
        except ValueError:
            data = None
    if not isinstance(data, dict):
        abort(_error(400, "bad-request", _("The request was not understood.")))
    base = data.get("base")
    if not isinstance(base, int) or isinstance(base, bool) or base < 0:
        abort(_error(400, "bad-request", _("The request was not understood.")))
    return data


def _max_bytes() -> int:
    return int(current_app.config["MAX_UPLOAD_BYTES"])


def _invalid(problem: InvalidDraft) -> Any:
    texts = {
        "locked-edited": _("Read-only cells cannot be edited. Nothing was saved."),
        "locked-deleted": _("Read-only cells cannot be deleted. Nothing was saved."),
        "too-large": _("The notebook is too large to save. Nothing was saved."),
        "too-many-cells": _("The notebook has too many cells. Nothing was saved."),
        "bad-run-cell": _("Only code cells can be run."),
    }
    text = texts.get(problem.why, _("These cells are not a draft of this notebook."))
    return _error(400, "invalid", text, why=problem.why)


def _conflict(conflict: services.DraftConflict) -> Any:
    db.session().commit()  # the refused text is kept as a side revision
    return _error(
        409,
        "conflict",
        _("This draft was changed in another tab or on another device."),
        current=conflict.current,
        side=conflict.side,
    )


def _saved(revision: Any, **more: Any) -> Any:
    response = jsonify({"saved": True, "revision": revision.number, **more})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get(BASE)
@login_required
def page(slug: str, item_key: str) -> Any:
    """The workspace page (with a CSP nonce for the editor's <style> elements)."""
    session = db.session()
    try:
        item = assignments.find_assignment_item(session, slug=slug, item_key=item_key)
    except assignments.AssignmentNotFound:
        abort(404)
    if assignments.find_enrollment(session, user=current_user, course=item.course) is None:
        # The assignment page says why (enrol first) or shows the staff's view.
        return redirect(url_for("assignments.item", slug=slug, item_key=item_key), 303)
    nonce = secrets.token_urlsafe(18)
    number, cells = services.current(session, user=current_user, item=item)
    outputs = runs.last_outputs(session, user=current_user, item=item)
    opened = request.args.get("revision", type=int)
    if opened is not None:
        # An earlier revision, opened: shown, and saved as the new head once edited or run.
        found = services.open_revision(session, user=current_user, item=item, number=opened)
        if found is None:
            abort(404)
        cells = services.with_sources(services.released(item), found.cells)
        outputs = {}
    context = page_context(
        session,
        item=item,
        user=current_user,
        cells=cells,
        revision=number,
        nonce=nonce,
        outputs=outputs,
        editable=True,
        opened=opened,
    )
    return _with_nonce(make_response(render_template("workspace/page.html", **context)), nonce)


def _with_nonce(response: Any, nonce: str) -> Any:
    """The site's CSP, with style elements allowed when they carry this page's nonce
    (CodeMirror writes its styles as <style> elements; no 'unsafe-inline')."""
    response.headers["Content-Security-Policy"] = CSP.replace(
        "style-src 'self'", f"style-src 'self' 'nonce-{nonce}'"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get(BASE + "/token")
@json_login_required
def token(slug: str, item_key: str) -> Any:
    """A fresh CSRF token (after signing in again, the old one is no longer valid)."""
    _learner_item(slug, item_key)
    response = jsonify({"csrf_token": generate_csrf()})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get(BASE + "/draft")
@json_login_required
def draft(slug: str, item_key: str) -> Any:
    item = _learner_item(slug, item_key)
    number, cells = services.current(db.session(), user=current_user, item=item)
    response = jsonify({"revision": number, "cells": cells})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post(BASE + "/draft")
@json_login_required
@limiter.limit(rate("draft"), key_func=_user_key)
def save(slug: str, item_key: str) -> Any:
    """Autosave (fetch or beacon): the cells become the new head if based on the head."""
    item = _learner_item(slug, item_key)
    body = _body()
    session = db.session()
    try:
        revision = services.save(
            session,
            user=current_user,
            item=item,
            base=body["base"],
            cells=body.get("cells"),
            max_bytes=_max_bytes(),
        )
    except services.DraftConflict as conflict:
        return _conflict(conflict)
    except InvalidDraft as problem:
        return _invalid(problem)
    session.commit()
    return _saved(revision)


@bp.get(BASE + "/revisions")
@json_login_required
def revisions(slug: str, item_key: str) -> Any:
    item = _learner_item(slug, item_key)
    found = services.revisions(db.session(), user=current_user, item=item)
    return jsonify(
        {
            "revisions": [
                {"number": r.number, "kind": str(r.kind), "at": r.created_at.isoformat()}
                for r in found
            ]
        }
    )


@bp.get(BASE + "/revisions/<int:number>")
@json_login_required
def revision(slug: str, item_key: str, number: int) -> Any:
    item = _learner_item(slug, item_key)
    found = services.open_revision(db.session(), user=current_user, item=item, number=number)
    if found is None:
        return _error(404, "not-found")
    cells = services.with_sources(services.released(item), found.cells)
    return jsonify({"number": found.number, "kind": str(found.kind), "cells": cells})


@bp.post(BASE + "/runs")
@json_login_required
@limiter.limit(rate("run"), key_func=_user_key)
def start_run(slug: str, item_key: str) -> Any:
    """Save the cells (a Run revision) and queue a Run of one cell: 202, then poll."""
    item = _learner_item(slug, item_key)
    body = _body()
    cell_id = body.get("cell_id")
    if not isinstance(cell_id, str):
        return _error(400, "bad-request", _("The request was not understood."))
    session = db.session()
    config = current_app.config
    try:
        run = runs.start(
            session,
            user=current_user,
            item=item,
            base=body["base"],
            cells=body.get("cells"),
            cell_id=cell_id,
            queue_max=int(config["RUN_QUEUE_MAX"]),
            stale_seconds=float(config["RUN_STALE_SECONDS"]),
            max_bytes=_max_bytes(),
        )
    except runs.RunQueueFull:
        response = _error(
            429,
            "busy",
            _("The machines are busy running other learners' code. Try again in a few seconds."),
        )
        response.headers["Retry-After"] = str(BUSY_RETRY_SECONDS)
        return response
    except services.DraftConflict as conflict:
        return _conflict(conflict)
    except InvalidDraft as problem:
        return _invalid(problem)
    session.commit()
    send_run(current_app._get_current_object(), run.id)  # type: ignore[attr-defined]  # after the commit
    response = _saved(
        session.get_one(DraftRevision, run.revision_id),
        run=run.id,
        status_url=url_for(".run_status", run_id=run.id),
    )
    response.status_code = 202
    return response


@bp.get("/workspace/runs/<int:run_id>")
@json_login_required
def run_status(run_id: int) -> Any:
    """A Run's state and, once it ended, the outputs of the cells it ran."""
    session = db.session()
    found = runs.own_run(
        session,
        run_id=run_id,
        user=current_user,
        stale_seconds=float(current_app.config["RUN_STALE_SECONDS"]),
    )
    if found is None:
        return _error(404, "not-found")
    session.commit()  # a Run found lost is recorded as such
    response = jsonify(_run_json(found))
    response.headers["Cache-Control"] = "no-store"
    return response


def _run_json(run: CellRun) -> dict[str, Any]:
    return {
        "run": run.id,
        "status": str(run.status),
        "finished": run.finished,
        "cell_id": run.cell_id,
        "reason": run_reason(run.reason_code),
        "cells": shown_outputs(run.outputs) if run.finished else {},
    }


@bp.post(BASE + "/submit")
@json_login_required
@limiter.limit(rate("submit"), key_func=_user_key)
def submit(slug: str, item_key: str) -> Any:
    """Save the cells (a Submit revision) and grade exactly that revision."""
    item = _learner_item(slug, item_key)
    body = _body()
    session = db.session()
    try:
        revision, submission = services.submit(
            session,
            user=current_user,
            item=item,
            base=body["base"],
            cells=body.get("cells"),
            max_bytes=_max_bytes(),
        )
    except services.DraftConflict as conflict:
        return _conflict(conflict)
    except InvalidDraft as problem:
        return _invalid(problem)
    except assignments.AttemptsExhausted:
        session.rollback()
        return _error(409, "attempts", _("You have used every attempt for this assignment."))
    except (assignments.UploadTooLarge, assignments.InvalidNotebook):
        session.rollback()
        return _error(400, "invalid", _("The notebook is too large to save. Nothing was saved."))
    session.commit()
    send_grading(current_app._get_current_object(), submission.id)  # type: ignore[attr-defined]
    response = _saved(
        revision,
        submission=submission.id,
        status_url=url_for("assignments.submission_status", submission_id=submission.id),
        submission_url=url_for("assignments.submission", submission_id=submission.id),
    )
    response.status_code = 202
    return response


@bp.get("/instructor/submissions/<int:submission_id>/workspace")
@login_required
def submitted(submission_id: int) -> Any:
    """A submitted revision, read-only, for the course's instructors (404 for anyone else)."""
    session = db.session()
    found = services.submitted_revision(session, submission_id=submission_id, user=current_user)
    if found is None:
        abort(404)
    revision, submission = found
    item = submission.item
    cells = services.with_sources(services.released(item), revision.cells)
    nonce = secrets.token_urlsafe(18)
    context = page_context(
        session,
        item=item,
        user=submission.user,
        cells=cells,
        revision=revision.number,
        nonce=nonce,
        outputs={},
        editable=False,
        submission=submission,
    )
    return _with_nonce(make_response(render_template("workspace/page.html", **context)), nonce)
