"""The course page, enrolment and the learner's dashboard."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.courses.models import Course, Item, ItemKind
from lms.courses.services import course_outline
from lms.days import almaty_day
from lms.db import db
from lms.i18n import current_language, localized
from lms.learning import services
from lms.learning.forms import EnrolForm
from lms.learning.models import Enrollment, ItemProgress

bp = Blueprint("learning", __name__, template_folder="templates")


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


def course_names(courses: list[Course]) -> str:
    """Course titles in the UI language, quoted, for a sentence."""
    return ", ".join(f"«{localized(c.title, c.languages)}»" for c in courses)


def _number(value: Any) -> str:
    text = f"{Decimal(str(value)):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@bp.app_template_filter("points")
def points_filter(value: Any) -> str:
    """Points without trailing zeros: 2.50 -> 2.5, 3.00 -> 3."""
    return _number(value)


def render_course(course: Course, form: EnrolForm, *, status: int = 200) -> Any:
    session = db.session()
    enrollment = services.find_enrollment(session, user=current_user, course=course)
    language = content_language(course, enrollment)
    outline = course_outline(course)
    progress = (
        services.course_progress(session, enrollment=enrollment) if enrollment is not None else None
    )
    rows = progress.progress if progress is not None else {}
    statuses = (
        {item.id: item_status(item, rows.get(item.id)) for block in outline for item in block.items}
        if enrollment
        else {}
    )
    prerequisites: list[dict[str, Any]] = []
    missing: list[Course] = []
    for required in course.prerequisites:
        done = current_user.is_authenticated and services.has_completed(
            session, user=current_user, course=required
        )
        link = url_for(".course", slug=required.slug) if required.published else None
        prerequisites.append({"course": required, "done": done, "link": link})
        if not done:
            missing.append(required)
    login_link = None
    if not current_user.is_authenticated and "accounts.login" in current_app.view_functions:
        login_link = url_for("accounts.login", next=url_for(".course", slug=course.slug))
    return render_template(
        "learning/course.html",
        course=course,
        form=form,
        enrollment=enrollment,
        outline=outline,
        statuses=statuses,
        progress=progress,
        prerequisites=prerequisites,
        text=texts_in(course, language),
        content_lang=language,
        item_url=item_url,
        login_link=login_link,
        completed_on=almaty_day(enrollment.completed_at)
        if enrollment is not None and enrollment.completed_at
        else None,
        missing=missing,
        missing_names=course_names(missing),
        certificates=certificates_link(),
        preview=not course.published,
    ), status


@bp.get("/courses/<slug>")
def course(slug: str) -> Any:
    course = course_or_404(slug)
    form = EnrolForm()
    form.offer(course.languages or [])
    form.language.data = services.default_language(course, current_language())
    return render_course(course, form)


@bp.post("/courses/<slug>/enrol")
@login_required
def enrol(slug: str) -> Any:
    course = course_or_404(slug)
    form = EnrolForm()
    form.offer(course.languages or [])
    if not form.validate_on_submit():
        flash(_("Choose one of the languages this course is taught in."), "error")
        return render_course(course, form, status=400)
    session = db.session()
    try:
        services.enrol(session, user=current_user, course=course, language=form.language.data)
    except services.CourseNotOpen:
        flash(_("This course is a draft: nobody can enrol until it is published."), "error")
        return redirect(url_for(".course", slug=slug), 303)
    except services.LanguageNotOffered:
        flash(_("Choose one of the languages this course is taught in."), "error")
        return render_course(course, form, status=400)
    except services.PrerequisitesNotMet as error:
        flash(
            _("Complete these courses first: %(courses)s.", courses=course_names(error.missing)),
            "error",
        )
        return redirect(url_for(".course", slug=slug), 303)
    session.commit()
    flash(_("You are enrolled. Start with the first item below."), "success")
    return redirect(url_for(".course", slug=slug), 303)


@bp.get("/dashboard")
@login_required
def dashboard() -> Any:
    courses = services.my_courses(db.session(), user=current_user)
    current = [c for c in courses if c.completed_at is None]
    completed = [c for c in courses if c.completed_at is not None]
    certificates = certificates_link()
    return render_template(
        "learning/dashboard.html",
        current=current,
        completed=completed,
        certificates=certificates,
        item_url=item_url,
        almaty_day=almaty_day,
        catalogue=url_for("courses.catalogue")
        if "courses.catalogue" in current_app.view_functions
        else None,
        text_for=lambda c: texts_in(c.course, c.enrollment.language),
    )
