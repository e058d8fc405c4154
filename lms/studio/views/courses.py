"""The studio's home, the course form, co-instructors, publishing."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.courses.models import Course
from lms.db import db
from lms.extensions import limiter, rate
from lms.i18n import LANGUAGES, current_language
from lms.security import roles_required
from lms.studio import services
from lms.studio.forms import ActionForm, CoInstructorForm, CourseForm, texts
from lms.studio.views import bp, course_or_abort, page_context, saved

STAFF = ("instructor", "admin")


@bp.get("")
@roles_required(*STAFF)
def index() -> Any:
    courses = services.my_courses(db.session(), user=current_user)
    return render_template("studio/index.html", courses=courses)


def _fields(form: CourseForm, slug: str) -> services.CourseFields:
    languages = form.languages
    return services.CourseFields(
        slug=slug,
        tier=form.tier.data,
        sectors=list(form.sectors.data or []),
        languages=languages,
        title=texts(form, "title", languages),
        summary=texts(form, "summary", languages),
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def new_course() -> Any:
    form = CourseForm()
    form.fill_choices(current_language())
    if not form.is_submitted():
        form.first_language.data = current_language()
    if form.validate_on_submit():
        session = db.session()
        try:
            course = services.create_course(
                session, owner=current_user, fields=_fields(form, form.slug.data)
            )
        except services.SlugTaken:
            form.slug.errors = [_("Another course already uses this slug.")]
        else:
            session.commit()
            flash(_("The course was created as a draft."), "success")
            return redirect(url_for(".outline", slug=course.slug), code=303)
    status = 400 if form.is_submitted() else 200
    return render_template("studio/course_form.html", form=form, course=None), status


@bp.route("/courses/<slug>/edit", methods=["GET", "POST"])
@roles_required(*STAFF)
def edit_course(slug: str) -> Any:
    course = course_or_abort(slug)
    form = CourseForm()
    form.fill_choices(current_language())
    if not form.is_submitted():
        _fill(form, course)
    else:
        # The slug is the course's address and never changes.
        form.slug.data = course.slug
    if form.validate_on_submit():
        try:
            services.update_course(db.session(), course=course, fields=_fields(form, course.slug))
        except services.FirstLanguageFixed:
            form.first_language.errors = [
                _(
                    "A published course keeps its first language: learners' texts fall back to "
                    "it. Unpublish the course to change it."
                )
            ]
        else:
            return saved(url_for(".edit_course", slug=course.slug), _("The course was saved."))
    return _settings_page(course, form, status=400 if form.is_submitted() else 200)


def _fill(form: CourseForm, course: Course) -> None:
    form.slug.data = course.slug
    form.tier.data = str(course.tier)
    form.sectors.data = list(course.sectors)
    form.first_language.data = course.languages[0]
    form.other_languages.data = list(course.languages[1:])
    for lang in LANGUAGES:
        getattr(form, f"title_{lang}").data = course.title.get(lang, "")
        getattr(form, f"summary_{lang}").data = course.summary.get(lang, "")


def _settings_page(
    course: Course,
    form: CourseForm,
    *,
    status: int = 200,
    instructor_form: CoInstructorForm | None = None,
) -> Any:
    return render_template(
        "studio/course_form.html",
        form=form,
        action=ActionForm(),
        instructor_form=instructor_form or CoInstructorForm(),
        instructors=services.co_instructors(db.session(), course=course),
        may_manage=services.may_manage_instructors(current_user, course),
        **page_context(course),
    ), status


@bp.post("/courses/<slug>/instructors")
@roles_required(*STAFF)
@limiter.limit(rate("co_instructor"))
def add_instructor(slug: str) -> Any:
    course = course_or_abort(slug)
    if not services.may_manage_instructors(current_user, course):
        abort(403)
    form = CoInstructorForm()
    if form.validate_on_submit():
        try:
            user = services.add_co_instructor(db.session(), course=course, email=form.email.data)
        except (services.NoSuchUser, services.NotAnInstructor):
            # One answer for both: the form must not tell who has an account.
            form.email.errors = [
                _(
                    "No instructor has this e-mail address. Ask an admin to grant the "
                    "instructor role to the person's account first."
                )
            ]
        else:
            return saved(
                url_for(".edit_course", slug=slug),
                _("%(email)s can now edit this course.", email=user.email),
            )
    course_form = CourseForm(formdata=None)
    course_form.fill_choices(current_language())
    _fill(course_form, course)
    return _settings_page(course, course_form, status=400, instructor_form=form)


@bp.post("/courses/<slug>/instructors/<int:user_id>/remove")
@roles_required(*STAFF)
def remove_instructor(slug: str, user_id: int) -> Any:
    course = course_or_abort(slug)
    if not services.may_manage_instructors(current_user, course):
        abort(403)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.remove_co_instructor(db.session(), course=course, user_id=user_id)
    return saved(url_for(".edit_course", slug=slug), _("The co-instructor was removed."))


@bp.post("/courses/<slug>/publish")
@roles_required(*STAFF)
def publish(slug: str) -> Any:
    course = course_or_abort(slug)
    if not ActionForm().validate_on_submit():
        abort(400)
    session = db.session()
    try:
        services.set_published(session, course=course, published=True)
    except services.PackageInvalid as error:
        return render_template(
            "studio/problems.html",
            problems=error.problems,
            heading=_("The course cannot be published yet"),
            **page_context(course),
        ), 400
    session.commit()
    flash(_("The course is published: learners can find it in the catalogue."), "success")
    return redirect(url_for(".outline", slug=slug), code=303)


@bp.post("/courses/<slug>/unpublish")
@roles_required(*STAFF)
def unpublish(slug: str) -> Any:
    course = course_or_abort(slug)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.set_published(db.session(), course=course, published=False)
    return saved(
        url_for(".outline", slug=slug),
        _("The course is a draft again; learners' records are kept."),
    )
