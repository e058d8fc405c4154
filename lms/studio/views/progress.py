"""A course's progress view for its instructors."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, url_for

from lms.db import db
from lms.paging import requested_page
from lms.security import roles_required
from lms.studio.progress import course_figures
from lms.studio.views import bp, course_or_abort, page_context
from lms.studio.views.courses import STAFF


def submission_link(submission_id: int) -> str | None:
    """The assignments feature's instructor page of a submission, when it exists."""
    if "assignments.instructor_submission" in current_app.view_functions:
        return url_for("assignments.instructor_submission", submission_id=submission_id)
    return None


@bp.get("/courses/<slug>/progress")
@roles_required(*STAFF)
def progress(slug: str) -> Any:
    course = course_or_abort(slug)
    figures = course_figures(db.session(), course=course, flagged_page=requested_page())
    return render_template(
        "studio/progress.html",
        figures=figures,
        submission_link=submission_link,
        **page_context(course),
    )
