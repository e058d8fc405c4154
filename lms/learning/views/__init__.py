"""The learning feature's pages: the blueprint and the helpers its views share. Routes live
in ``course`` (course page, enrolment, dashboard), ``items`` (lessons) and ``quizzes``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, current_app, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.courses.models import Course, Item, ItemKind
from lms.courses.services import may_preview
from lms.db import db
from lms.i18n import current_language, localized
from lms.learning import services
from lms.learning.models import Enrollment, ItemProgress

bp = Blueprint("learning", __name__, template_folder="../templates")


def course_or_404(slug: str) -> Course:
    """The course ``slug`` if the current user may see it (drafts for its staff only)."""
    try:
        return services.visible_course(db.session(), slug=slug, user=current_user)
    except services.CourseNotFound:
        abort(404)


def item_url(course: Course, item: Item) -> str:
    """Where an item opens: the assignments feature's page for notebooks, when it exists."""
    if item.kind == ItemKind.ASSIGNMENT and "assignments.item" in current_app.view_functions:
        return url_for("assignments.item", slug=course.slug, item_key=item.key)
    return url_for("learning.item", slug=course.slug, item_key=item.key)


def content_language(course: Course, enrollment: Enrollment | None) -> str:
    """The language course content is shown in: the enrolment's, else the UI's if the course
    is taught in it, else the course's first."""
    if enrollment is not None:
        return enrollment.language
    return services.default_language(course, current_language())


def texts_in(course: Course, language: str) -> Any:
    """A template helper picking content in ``language``, falling back to the course's first."""

    def pick(texts: dict[str, str] | None) -> str:
        return localized(texts, course.languages or [], locale=language)

    return pick


def item_status(item: Item, row: ItemProgress | None) -> dict[str, Any]:
    """What the outline says about one item for the learner."""
    if row is None:
        return {"state": "not_started", "label": _("Not started")}
    score = None
    if row.best_score is not None and row.max_score:
        score = _(
            "%(score)s of %(max)s points", score=_number(row.best_score), max=_number(row.max_score)
        )
    if row.passed:
        label = _("Done") if item.kind == ItemKind.LESSON else _("Passed")
        return {"state": "passed", "label": label, "score": score}
    return {"state": "attempted", "label": _("Not passed yet"), "score": score}


def certificates_link() -> str | None:
    """The learner's certificates page, when the certificates feature provides one."""
    if "certificates.mine" in current_app.view_functions:
        return url_for("certificates.mine")
    return None


def title_hidden(course: Course) -> bool:
    """Whether the viewer may not read ``course``'s title: a draft is for its own staff."""
    return not course.published and not may_preview(db.session(), user=current_user, course=course)


def course_names(courses: list[Course]) -> str:
    """Course titles in the UI language, quoted, for a sentence (a draft's only for its staff)."""
    return ", ".join(
        _("A course that is not published yet")
        if title_hidden(c)
        else f"«{localized(c.title, c.languages)}»"
        for c in courses
    )


def _number(value: Any) -> str:
    text = f"{Decimal(str(value)):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@bp.app_template_filter("points")
def points_filter(value: Any) -> str:
    """Points without trailing zeros: 2.50 -> 2.5, 3.00 -> 3."""
    return _number(value)
