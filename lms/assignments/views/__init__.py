"""The learner's side of notebook assignments: the item page, downloads, uploads, results."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from lms import requestid
from lms.assignments import services
from lms.assignments.forms import UploadForm
from lms.assignments.models import Submission
from lms.assignments.rendering import instructions_html
from lms.assignments.tasks import send_grading
from lms.courses.models import Item
from lms.db import db
from lms.extensions import limiter, rate
from lms.i18n import localized

T = TypeVar("T")

# The status fragment is refreshed by lms/static/oqu.js (data-poll-url): no script of our own.
bp = Blueprint("assignments", __name__, template_folder="../templates")


def committed(session: Session, write: Callable[[], T]) -> T:
    """Run ``write`` and commit (on SQLite a POST holds the write lock: see lms/db.py)."""
    result = write()
    session.commit()
    return result


def _user_key() -> str:
    """Rate limits per account (many learners may share one school's address)."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return request.remote_addr or "anonymous"


def this_app() -> Flask:
    """The real app behind ``current_app`` (to hand to code outside the request)."""
    return current_app._get_current_object()  # type: ignore[attr-defined]


def course_link(slug: str) -> str | None:
    if "learning.course" in current_app.view_functions:
        return url_for("learning.course", slug=slug)
    return None


def _item_or_404(slug: str, item_key: str) -> Item:
    session = db.session()
    try:
        item = services.find_assignment_item(
            session, slug=slug, item_key=item_key, include_drafts=True
        )
    except services.AssignmentNotFound:
        abort(404)
    if not item.course.published and not services.teaches(
        session, user=current_user, course=item.course
    ):
        abort(404)
    return item


def _learner_item(slug: str, item_key: str) -> Item:
    """The item for its learners and staff; anyone else is sent to enrol, as lessons and
    quizzes do (enrolment is where prerequisites are checked)."""
    item = _item_or_404(slug, item_key)
    session = db.session()
    if services.find_enrollment(
        session, user=current_user, course=item.course
    ) is None and not services.teaches(session, user=current_user, course=item.course):
        if "learning.item" in current_app.view_functions:
            # The learning feature's item page says why, in the learner's language.
            abort(redirect(url_for("learning.item", slug=slug, item_key=item_key), 303))
        abort(403)
    return item


def _item_page(item: Item, form: UploadForm, *, status: int = 200, error: str | None = None) -> Any:
    session = db.session()
    enrollment = services.find_enrollment(session, user=current_user, course=item.course)
    submissions = services.my_submissions(session, user=current_user, item=item)
    limit = services.assignment_of(item).max_attempts
    used = len(submissions)
    return render_template(
        "assignments/item.html",
        item=item,
        course=item.course,
        form=form,
        assignment=services.assignment_of(item),
        enrollment=enrollment,
        submissions=submissions,
        limit=limit,
        left=None if limit is None else max(limit - used, 0),
        error=error,
        title=localized(item.title, item.course.languages),
        course_title=localized(item.course.title, item.course.languages),
        course_url=course_link(item.course.slug),
        instructions=instructions_html(services.assignment_of(item).student),
        max_kib=int(current_app.config["MAX_UPLOAD_BYTES"]) // 1024,
    ), status


@bp.get("/courses/<slug>/assignments/<item_key>")
@login_required
def item(slug: str, item_key: str) -> Any:
    return _item_page(_learner_item(slug, item_key), UploadForm())


@bp.post("/courses/<slug>/assignments/<item_key>")
@login_required
@limiter.limit(rate("submit"), key_func=_user_key)
def upload(slug: str, item_key: str) -> Any:
    """Store the notebook (commit), then send its grading task, then show the submission."""
    item = _item_or_404(slug, item_key)
    form = UploadForm()
    if not form.validate_on_submit():
        return _item_page(item, form, status=400)
    session = db.session()
    data = form.notebook.data.read()
    # The service checks everything before it adds a row: on refusal nothing is pending.
    try:
        submission = committed(
            session,
            lambda: services.submit_notebook(
                session,
                user=current_user,
                item=item,
                data=data,
                max_bytes=int(current_app.config["MAX_UPLOAD_BYTES"]),
                request_id=requestid.current(),
            ),
        )
    except services.NotEnrolled:
        return _item_page(
            item, form, status=403, error=_("Enrol in the course before submitting a notebook.")
        )
    except services.AttemptsExhausted:
        return _item_page(
            item, form, status=409, error=_("You have used every attempt for this assignment.")
        )
    except services.UploadTooLarge:
        return _too_large(item)
    except services.InvalidNotebook as problem:
        return _item_page(
            item,
            form,
            status=400,
            error=_(
                "This file is not a valid Jupyter notebook (%(why)s). Nothing was saved: "
                "download your notebook again from Jupyter as .ipynb and upload that file.",
                why=_invalid_reason(problem.why),
            ),
        )
    requestid.bind(submission_id=submission.id)
    send_grading(this_app(), submission.id)  # after the commit
    flash(_("Your notebook was received and is being graded."), "success")
    return redirect(url_for(".submission", submission_id=submission.id), code=303)


def _invalid_reason(why: str) -> str:
    reasons = {
        "empty": _("the file is empty"),
        "encoding": _("the file is not UTF-8 text"),
        "json": _("its content is not notebook JSON"),
        "schema": _("it does not follow the notebook format"),
    }
    return reasons.get(why, reasons["schema"])


@bp.errorhandler(RequestEntityTooLarge)
def _request_too_large(error: RequestEntityTooLarge) -> Any:
    """A body over the cap is refused while it is read (even before CSRF): say so clearly."""
    args = request.view_args or {}
    if request.endpoint != "assignments.upload" or not current_user.is_authenticated:
        return error
    try:
        item = _item_or_404(args["slug"], args["item_key"])
    except HTTPException:
        # No such assignment: the plain 413 (an error raised here would be a 500).
        return error
    return _too_large(item)


def _too_large(item: Item) -> Any:
    return _item_page(
        item,
        UploadForm(formdata=None),
        status=413,
        error=_(
            "The file is too large: notebooks up to %(kib)s KiB are accepted. Nothing was saved. "
            "Clear large outputs (Kernel → Restart & Clear Output) and upload again.",
            kib=int(current_app.config["MAX_UPLOAD_BYTES"]) // 1024,
        ),
    )


@bp.get("/courses/<slug>/assignments/<item_key>/student.ipynb")
@login_required
def student_notebook(slug: str, item_key: str) -> Any:
    """The student version of the notebook (no solutions, no hidden tests)."""
    item = _learner_item(slug, item_key)
    response = Response(services.assignment_of(item).student, mimetype="application/x-ipynb+json")
    name = f"{services.assignment_of(item).notebook_name or item.key}.ipynb"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/courses/<slug>/assignments/<item_key>/files/<name>")
@login_required
def data_file(slug: str, item_key: str, name: str) -> Any:
    """A data file shipped beside the notebook."""
    item = _learner_item(slug, item_key)
    stored = next((f for f in services.assignment_of(item).files if f.name == name), None)
    if stored is None:
        abort(404)
    response = Response(stored.content, mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = f'attachment; filename="{stored.name}"'
    return response


def _visible_or_404(submission_id: int) -> Submission:
    submission = services.visible_submission(
        db.session(), submission_id=submission_id, user=current_user
    )
    if submission is None:
        abort(404)
    return submission


def _status_context(submission: Submission) -> dict[str, Any]:
    return {
        "submission": submission,
        "status_url": url_for(".submission_status", submission_id=submission.id),
    }


@bp.get("/submissions/<int:submission_id>")
@login_required
def submission(submission_id: int) -> Any:
    found = _visible_or_404(submission_id)
    item = found.item
    return render_template(
        "assignments/submission.html",
        item=item,
        course=item.course,
        title=localized(item.title, item.course.languages),
        item_url=url_for(".item", slug=item.course.slug, item_key=item.key),
        **_status_context(found),
    )


@bp.get("/submissions/<int:submission_id>/status")
@login_required
def submission_status(submission_id: int) -> Any:
    """The status fragment; it carries ``data-poll-url`` until the grade is final."""
    found = _visible_or_404(submission_id)
    # The poll's log line names the upload it reports on: the trail's way back.
    requestid.bind(submission_id=found.id, upload_request_id=found.request_id)
    response = current_app.make_response(
        render_template("assignments/_status.html", **_status_context(found))
    )
    response.headers["Cache-Control"] = "no-store"
    return response
