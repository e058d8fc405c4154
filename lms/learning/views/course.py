"""The course page, enrolment and the learner's dashboard."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.courses.models import Course
from lms.courses.services import course_outline
from lms.days import almaty_day
from lms.db import db
from lms.i18n import current_language
from lms.learning import services
from lms.learning.forms import EnrolForm
from lms.learning.views import (
    bp,
    certificates_link,
    content_language,
    course_names,
    course_or_404,
    item_status,
    item_url,
    texts_in,
    title_hidden,
)


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
        # A draft's title is for its own staff: others learn only that one is required.
        hidden = title_hidden(required)
        prerequisites.append({"course": required, "done": done, "link": link, "hidden": hidden})
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
        open_reading=course.published and course.tier == "public",
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
