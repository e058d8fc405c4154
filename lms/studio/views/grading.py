"""Manual grading: the cells nbgrader leaves for a person, graded in the browser."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.assignments.models import Submission
from lms.courses.models import Course
from lms.db import db
from lms.paging import requested_page
from lms.security import roles_required
from lms.studio import grading
from lms.studio.forms import GradeForm
from lms.studio.views import bp, course_or_abort, page_context, saved
from lms.studio.views.courses import STAFF
from lms.studio.views.progress import submission_link


@bp.get("/courses/<slug>/grading")
@roles_required(*STAFF)
def grading_list(slug: str) -> Any:
    course = course_or_abort(slug)
    pending = grading.submissions_to_grade(db.session(), course=course, page=requested_page())
    return render_template("studio/grading_list.html", pending=pending, **page_context(course))


def _submission(course: Course, submission_id: int) -> Submission:
    submission = db.session().get(Submission, submission_id)
    if submission is None or submission.item.course_id != course.id:
        abort(404)
    return submission


def _page(
    course: Course,
    submission: Submission,
    *,
    failed: str | None = None,
    failed_form: GradeForm | None = None,
    status: int = 200,
) -> Any:
    cells = grading.manual_cells(db.session(), submission=submission)
    forms = {}
    for cell in cells:
        if cell.grade_id == failed and failed_form is not None:
            forms[cell.grade_id] = failed_form
            continue
        form = GradeForm(formdata=None, prefix=f"g-{cell.grade_id}")
        if cell.grade is not None:
            form.score.data = cell.grade.score
            form.comment.data = cell.grade.comment
        forms[cell.grade_id] = form
    return render_template(
        "studio/grade.html",
        submission=submission,
        cells=cells,
        forms=forms,
        answers=grading.answers(submission),
        submission_link=submission_link(submission.id),
        **page_context(course),
    ), status


@bp.get("/courses/<slug>/grading/<int:submission_id>")
@roles_required(*STAFF)
def grade_submission(slug: str, submission_id: int) -> Any:
    course = course_or_abort(slug)
    return _page(course, _submission(course, submission_id))


@bp.post("/courses/<slug>/grading/<int:submission_id>/<grade_id>")
@roles_required(*STAFF)
def grade_cell(slug: str, submission_id: int, grade_id: str) -> Any:
    course = course_or_abort(slug)
    submission = _submission(course, submission_id)
    form = GradeForm(prefix=f"g-{grade_id}")
    if form.validate_on_submit():
        try:
            grading.grade_cell(
                db.session(),
                submission=submission,
                grade_id=grade_id,
                score=form.score.data,
                comment=form.comment.data or "",
                by=current_user,
            )
        except grading.NotGradable:
            abort(404)
        except grading.ScoreOutOfRange as error:
            form.score.errors = [
                _(
                    "Enter a score from 0 to %(max)s.",
                    max=f"{error.maximum:f}".rstrip("0").rstrip("."),
                )
            ]
        else:
            return saved(
                url_for(".grade_submission", slug=slug, submission_id=submission_id),
                _("The grade was saved; the learner sees it with the submission."),
            )
    return _page(course, submission, failed=grade_id, failed_form=form, status=400)
