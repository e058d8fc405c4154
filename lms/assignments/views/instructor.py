"""The instructor's side: every submission of a course, the executed notebook, regrades."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from graders.flags import FLAGS
from lms.assignments import services
from lms.assignments.forms import RegradeForm
from lms.assignments.models import Submission
from lms.assignments.rendering import notebook_cells
from lms.assignments.tasks import send_grading
from lms.assignments.views import bp, committed, this_app
from lms.courses.models import Course, Item, ItemKind
from lms.courses.services import CourseNotFound, get_course
from lms.db import db
from lms.i18n import localized
from lms.paging import requested_page


def _taught_course(slug: str) -> Course:
    """The course when the current user teaches it; 404 if absent, 403 if not theirs."""
    try:
        course = get_course(db.session(), slug, include_drafts=True)
    except CourseNotFound:
        abort(404)
    if not services.teaches(db.session(), user=current_user, course=course):
        abort(403)
    return course


def _taught_submission(submission_id: int) -> Submission:
    submission = db.session().get(Submission, submission_id)
    if submission is None:
        abort(404)
    if not services.teaches(db.session(), user=current_user, course=submission.item.course):
        abort(403)
    return submission


@bp.get("/instructor/courses/<slug>/submissions")
@login_required
def instructor_submissions(slug: str) -> Any:
    course = _taught_course(slug)
    submissions = services.course_submissions(db.session(), course=course, page=requested_page())
    assignments = [i for i in course.items if i.kind == ItemKind.ASSIGNMENT and i.active]
    return render_template(
        "assignments/instructor_list.html",
        course=course,
        submissions=submissions,
        assignments=assignments,
        form=RegradeForm(),
        course_title=localized(course.title, course.languages),
        item_title=lambda i: localized(i.title, course.languages),
    )


@bp.get("/instructor/submissions/<int:submission_id>")
@login_required
def instructor_submission(submission_id: int) -> Any:
    submission = _taught_submission(submission_id)
    course = submission.item.course
    return render_template(
        "assignments/instructor_detail.html",
        submission=submission,
        course=course,
        item_title=localized(submission.item.title, course.languages),
        cells=notebook_cells(submission.executed),
        form=RegradeForm(),
        flag_text=FLAGS,
        status_url=url_for(".submission_status", submission_id=submission.id),
    )


@bp.post("/instructor/submissions/<int:submission_id>/regrade")
@login_required
def regrade(submission_id: int) -> Any:
    submission = _taught_submission(submission_id)
    if not RegradeForm().validate_on_submit():
        abort(400)
    session = db.session()
    committed(
        session, lambda: services.request_regrade(session, submission=submission, by=current_user)
    )
    send_grading(this_app(), submission.id)
    flash(_("The submission will be graded again."), "success")
    return redirect(url_for(".instructor_submission", submission_id=submission.id), code=303)


@bp.post("/instructor/courses/<slug>/assignments/<item_key>/regrade")
@login_required
def regrade_all(slug: str, item_key: str) -> Any:
    course = _taught_course(slug)
    item = next(
        (i for i in course.items if i.key == item_key and i.kind == ItemKind.ASSIGNMENT), None
    )
    if not isinstance(item, Item):
        abort(404)
    if not RegradeForm().validate_on_submit():
        abort(400)
    session = db.session()
    submissions = committed(
        session, lambda: services.regrade_item(session, item=item, by=current_user)
    )
    app = this_app()
    for submission in submissions:
        send_grading(app, submission.id)
    flash(_("%(count)s submissions will be graded again.", count=len(submissions)), "success")
    return redirect(url_for(".instructor_submissions", slug=course.slug), code=303)
