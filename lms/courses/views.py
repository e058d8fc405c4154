"""The catalogue of published courses, and the files lessons show."""

from __future__ import annotations

import functools
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from lms.courses import services
from lms.courses.forms import CatalogueFilter
from lms.db import db
from lms.i18n import current_language

bp = Blueprint("courses", __name__, template_folder="templates")

# Only images are served to browsers; the other package files are for export.
SERVED_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".gif": "image/gif"}


def course_link(slug: str) -> str | None:
    """The course page when the learning feature provides one."""
    if "learning.course" in current_app.view_functions:
        return url_for("learning.course", slug=slug)
    return None


@functools.lru_cache(maxsize=256)
def filter_menu(locale: str, name: str, selected: str) -> Markup:
    """A filter's <select>, rendered once per language and choice: its options are fixed
    reference data, and rendering them is most of the catalogue's cost. ``selected`` must be
    one of the choices (the cache holds every combination, so only known values)."""
    form = CatalogueFilter(formdata=None, data={name: selected})
    form.fill_choices(locale)
    return Markup(form[name]())


@bp.get("/courses")
def catalogue() -> Any:
    form = CatalogueFilter(request.args)
    form.fill_choices(current_language())
    # Each filter on its own: a value that is not offered (a stale link) is just ignored.
    chosen = {
        field.name: field.data if field.data in {c.value for c in field.choices} else None
        for field in (form.tier, form.language, form.sector)
    }
    courses = services.published_courses(
        db.session(),
        tier=chosen["tier"],
        language=chosen["language"],
        sector=chosen["sector"],
        query=(form.q.data or "").strip()[:200] or None,
    )
    filtered = any((form.q.data, form.tier.data, form.language.data, form.sector.data))
    locale = current_language()
    menus = {name: filter_menu(locale, name, value or "") for name, value in chosen.items()}
    return render_template(
        "courses/catalogue.html",
        form=form,
        courses=courses,
        menus=menus,
        filtered=filtered,
        course_link=course_link,
    )


@bp.get("/courses/<slug>/files/<path:path>")
def course_file(slug: str, path: str) -> Any:
    """An image of a course's package, for lessons that show one (a draft's: for its authors)."""
    session = db.session()
    try:
        course = services.get_course(session, slug, include_drafts=True)
    except services.CourseNotFound:
        abort(404)
    if not course.published and not services.may_preview(session, user=current_user, course=course):
        abort(404)
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if suffix not in SERVED_TYPES:
        abort(404)
    stored = services.course_file(db.session(), course=course, path=path)
    if stored is None:
        abort(404)
    response = Response(stored.content, mimetype=SERVED_TYPES[suffix])
    # A draft's images are for its authors only: no shared cache may keep them.
    response.headers["Cache-Control"] = (
        "public, max-age=3600" if course.published else "private, no-store"
    )
    return response
