"""Course packages as zip files: download a course, upload one to create or update a course."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.db import db
from lms.security import roles_required
from lms.studio import packages, services
from lms.studio.forms import ZipForm
from lms.studio.views import bp, course_or_abort, read_upload, upload_too_large
from lms.studio.views.courses import STAFF


@bp.get("/courses/<slug>/package.zip")
@roles_required(*STAFF)
def download_package(slug: str) -> Any:
    course = course_or_abort(slug)
    data = packages.course_zip(db.session(), course=course)
    return Response(
        data,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{course.slug}.zip"'},
    )


def _upload_page(form: ZipForm, *, problems: list[str] | None = None, status: int = 200) -> Any:
    return render_template(
        "studio/upload.html",
        form=form,
        problems=problems or [],
        max_bytes=current_app.config["MAX_UPLOAD_BYTES"],
    ), status


@bp.get("/upload")
@roles_required(*STAFF)
def upload_form() -> Any:
    return _upload_page(ZipForm(formdata=None))


@bp.post("/upload")
@roles_required(*STAFF)
def upload_package() -> Any:
    form = ZipForm()
    if not form.validate_on_submit():
        return _upload_page(form, status=400)
    data = read_upload(form.package.data)
    if data is None:
        return _upload_page(form, status=400, problems=[upload_too_large()])
    session = db.session()

    def may_edit(course: Any) -> bool:
        return services.may_edit(session, user=current_user, course=course)

    try:
        course = packages.import_zip(
            session,
            data=data,
            user=current_user,
            may_edit=may_edit,
            max_files=int(current_app.config["STUDIO_ZIP_MAX_FILES"]),
            max_bytes=int(current_app.config["STUDIO_ZIP_MAX_UNPACKED_BYTES"]),
        )
    except packages.ZipRefused as error:
        return _upload_page(
            form,
            status=400,
            problems=[_("The zip was refused and nothing was imported:"), *error.messages],
        )
    except packages.PackageProblems as error:
        return _upload_page(
            form,
            status=400,
            problems=[_("The package has problems and nothing was imported:"), *error.problems],
        )
    except packages.NotYourCourse as error:
        return _upload_page(
            form,
            status=403,
            problems=[
                _(
                    "A course with the slug %(slug)s exists and you may not change it; nothing was "
                    "imported.",
                    slug=error.args[0],
                )
            ],
        )
    session.commit()
    flash(_("The package was imported."), "success")
    return redirect(url_for(".outline", slug=course.slug), code=303)
