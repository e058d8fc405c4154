"""Notebook assignments: upload the nbgrader source, see the student version, set the pass
score and attempt limit, add data files."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import abort, current_app, render_template, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from lms.courses.models import Course, Item, ItemKind
from lms.db import db
from lms.security import roles_required
from lms.studio import content
from lms.studio.forms import ActionForm, AssignmentSettingsForm, DataFileForm, NotebookForm
from lms.studio.views import (
    bp,
    course_or_abort,
    item_or_404,
    page_context,
    read_upload,
    saved,
    upload_too_large,
)
from lms.studio.views.courses import STAFF

DEFAULT_PASS_SCORE = Decimal("0.6")


def _assignment_item(slug: str, key: str) -> tuple[Course, Item]:
    course = course_or_abort(slug)
    return course, item_or_404(course, key, ItemKind.ASSIGNMENT)


def _page(
    course: Course,
    item: Item,
    *,
    notebook_form: NotebookForm | None = None,
    settings_form: AssignmentSettingsForm | None = None,
    file_form: DataFileForm | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> Any:
    assignment = item.assignment
    if settings_form is None:
        settings_form = AssignmentSettingsForm(formdata=None)
        if assignment is not None:
            settings_form.pass_score.data = assignment.pass_score
            settings_form.max_attempts.data = assignment.max_attempts
    return render_template(
        "studio/assignment.html",
        item=item,
        assignment=assignment,
        cells=content.student_cells(assignment.student) if assignment is not None else [],
        notebook_form=notebook_form or NotebookForm(formdata=None),
        settings_form=settings_form,
        file_form=file_form or DataFileForm(formdata=None),
        action=ActionForm(),
        errors=errors or [],
        max_bytes=current_app.config["MAX_UPLOAD_BYTES"],
        **page_context(course),
    ), status


def _saved(slug: str, key: str, message: str) -> Any:
    """Commit the request's change and go back to the assignment page."""
    return saved(url_for(".assignment", slug=slug, key=key), message)


@bp.get("/courses/<slug>/assignments/<key>")
@roles_required(*STAFF)
def assignment(slug: str, key: str) -> Any:
    course, item = _assignment_item(slug, key)
    return _page(course, item)


@bp.post("/courses/<slug>/assignments/<key>/notebook")
@roles_required(*STAFF)
def upload_notebook(slug: str, key: str) -> Any:
    course, item = _assignment_item(slug, key)
    form = NotebookForm()
    if not form.validate_on_submit():
        return _page(course, item, notebook_form=form, status=400)
    data = read_upload(form.notebook.data)
    if data is None:
        return _page(course, item, notebook_form=form, errors=[upload_too_large()], status=400)
    try:
        content.save_notebook(
            db.session(), item=item, name=item.key, data=data, pass_score=DEFAULT_PASS_SCORE
        )
    except content.BadNotebook as error:
        return _page(
            course,
            item,
            notebook_form=form,
            status=400,
            errors=[_("The notebook was not stored:")] + error.messages,
        )
    return _saved(
        slug, key, _("The notebook was checked and released; the student version is shown below.")
    )


@bp.post("/courses/<slug>/assignments/<key>/settings")
@roles_required(*STAFF)
def assignment_settings(slug: str, key: str) -> Any:
    course, item = _assignment_item(slug, key)
    form = AssignmentSettingsForm()
    if not form.validate_on_submit():
        return _page(course, item, settings_form=form, status=400)
    try:
        content.save_assignment_settings(
            db.session(),
            item=item,
            pass_score=form.pass_score.data,
            max_attempts=form.max_attempts.data,
        )
    except content.NoNotebookYet:
        return _page(
            course, item, settings_form=form, status=400, errors=[_("Upload the notebook first.")]
        )
    return _saved(slug, key, _("The assignment settings were saved."))


@bp.post("/courses/<slug>/assignments/<key>/files")
@roles_required(*STAFF)
def add_data_file(slug: str, key: str) -> Any:
    course, item = _assignment_item(slug, key)
    form = DataFileForm()
    if not form.validate_on_submit():
        return _page(course, item, file_form=form, status=400)
    storage = form.data_file.data
    data = read_upload(storage)
    if data is None:
        return _page(course, item, file_form=form, errors=[upload_too_large()], status=400)
    name = (storage.filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    try:
        content.add_data_file(db.session(), item=item, name=name, content=data)
    except content.NoNotebookYet:
        return _page(
            course, item, file_form=form, status=400, errors=[_("Upload the notebook first.")]
        )
    except content.BadDataFile:
        return _page(
            course,
            item,
            file_form=form,
            status=400,
            errors=[
                _(
                    "%(name)s: use a simple name (Latin letters, digits, dot, hyphen, underscore) "
                    "ending in .csv, .json, .txt, .png, .jpg or .gif.",
                    name=name,
                )
            ],
        )
    return _saved(slug, key, _("The data file was added."))


@bp.post("/courses/<slug>/assignments/<key>/files/<name>/remove")
@roles_required(*STAFF)
def remove_data_file(slug: str, key: str, name: str) -> Any:
    _course, item = _assignment_item(slug, key)
    if not ActionForm().validate_on_submit():
        abort(400)
    content.remove_data_file(db.session(), item=item, name=name)
    return _saved(slug, key, _("The data file was removed."))


@bp.errorhandler(RequestEntityTooLarge)
def _request_too_large(_error: RequestEntityTooLarge) -> Any:
    return render_template(
        "studio/problems.html",
        problems=[upload_too_large()],
        heading=_("The upload was refused"),
        course=None,
    ), 413
