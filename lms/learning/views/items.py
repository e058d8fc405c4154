"""Item pages: the shared context of an item, lessons ("mark as done") and notebook links.

Lessons of a published public-tier course are open to anyone, signed in or not, as
Elements of AI's are: reading needs no account, but keeping progress (and quizzes,
notebooks, completion) needs one and an enrolment. Such an open page shows nothing
personal and carries no form, so a shared cache may keep it (see ``reader_cache``).
"""

from __future__ import annotations

from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.courses import services as courses
from lms.courses.models import Course, Item, ItemKind
from lms.db import db
from lms.extensions import login_manager
from lms.learning import services
from lms.learning.forms import MarkDoneForm, QuizForm
from lms.learning.models import Enrollment, ItemProgress
from lms.learning.rendering import lesson_html
from lms.learning.views import bp, content_language, course_or_404, item_url, texts_in

# How long a shared cache may keep an open lesson page for visitors without a session.
READER_MAX_AGE = 300


class ItemContext:
    """The course, the item, the learner's enrolment (None in an instructor's preview or
    for an open reader of a public lesson: ``reader``).

    ``opened_progress`` is the learner's progress row on the item when it was opened.
    """

    def __init__(
        self,
        course: Course,
        item: Item,
        enrollment: Enrollment | None,
        opened_progress: ItemProgress | None = None,
        *,
        reader: bool = False,
    ) -> None:
        self.course, self.item, self.enrollment = course, item, enrollment
        self.opened_progress = opened_progress
        self.reader = reader
        self.language = content_language(course, enrollment)
        self.text = texts_in(course, self.language)


def open_item(slug: str, item_key: str, *, readable: bool = False) -> ItemContext | Any:
    """The item's context, or the response that sends the visitor elsewhere. ``readable``:
    the page may be read without an enrolment when the item is an open lesson."""
    if not readable and not current_user.is_authenticated:
        return login_manager.unauthorized()
    db_session = db.session()
    course = course_or_404(slug)
    try:
        item = services.find_item(course, key=item_key)
    except services.ItemNotFound:
        abort(404)
    enrollment, progress = services.find_enrollment_with_progress(
        db_session, user=current_user, course=course, item=item
    )
    if enrollment is not None or courses.may_preview(db_session, user=current_user, course=course):
        return ItemContext(course, item, enrollment, progress)
    if readable and services.openly_readable(course, item):
        return ItemContext(course, item, None, reader=True)
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    flash(_("Enrol in this course to open its lessons and quizzes."), "error")
    return redirect(url_for(".course", slug=slug), 303)


def neighbours(ctx: ItemContext) -> tuple[Item | None, Item | None]:
    items = services.active_items(ctx.course)
    index = next(i for i, item in enumerate(items) if item.id == ctx.item.id)
    return (
        items[index - 1] if index > 0 else None,
        items[index + 1] if index + 1 < len(items) else None,
    )


def render_item(ctx: ItemContext, template: str, *, status: int = 200, **more: Any) -> Any:
    previous, following = neighbours(ctx)
    row = None
    if ctx.enrollment is not None:
        # A page read needs no second query; a request that may have written reads again.
        row = (
            ctx.opened_progress
            if request.method in ("GET", "HEAD")
            else services.progress_by_item(db.session(), enrollment=ctx.enrollment).get(ctx.item.id)
        )
    return render_template(
        template,
        course=ctx.course,
        item=ctx.item,
        enrollment=ctx.enrollment,
        text=ctx.text,
        content_lang=ctx.language,
        previous=previous,
        following=following,
        row=row,
        item_url=item_url,
        preview=ctx.enrollment is None and not ctx.reader,
        reader=ctx.reader,
        login_link=_login_link(ctx) if ctx.reader else None,
        **more,
    ), status


def _login_link(ctx: ItemContext) -> str | None:
    if current_user.is_authenticated or "accounts.login" not in current_app.view_functions:
        return None
    return url_for("accounts.login", next=request.path)


def reader_cache(response: Any) -> Any:
    """Let shared caches keep an open lesson page for visitors with no session at all (no
    flashed message, no sign-in): the page is the same for every such visitor in a language."""
    if not current_user.is_authenticated and not session:
        response.cache_control.public = True
        response.cache_control.max_age = READER_MAX_AGE
        # The same for every such visitor: an ETag lets a revisit answer 304. Never on a
        # signed-in page (it shows a name and a CSRF token).
        response.add_etag()
        response.make_conditional(request)
    else:
        response.cache_control.private = True
        response.cache_control.no_store = True
    response.vary.add("Cookie")
    response.vary.add("Accept-Language")
    return response


@bp.get("/courses/<slug>/items/<item_key>")
def item(slug: str, item_key: str) -> Any:
    ctx = open_item(slug, item_key, readable=True)
    if not isinstance(ctx, ItemContext):
        return ctx
    if ctx.item.kind == ItemKind.LESSON:
        if ctx.reader:
            return reader_cache(make_response(render_lesson(ctx)))
        return render_lesson(ctx)
    if ctx.item.kind == ItemKind.QUIZ:
        from lms.learning.views.quizzes import render_quiz

        return render_quiz(ctx, QuizForm())
    if "assignments.item" in current_app.view_functions:
        return redirect(url_for("assignments.item", slug=slug, item_key=item_key))
    return render_item(ctx, "learning/assignment.html")


def render_lesson(ctx: ItemContext, *, status: int = 200) -> Any:
    lesson = ctx.item.lesson
    body = ctx.text(lesson.body if lesson is not None else None)
    # Package images are served by the catalogue at /courses/<slug>/files/<path>.
    files_base = f"/courses/{ctx.course.slug}/files"
    return render_item(
        ctx,
        "learning/lesson.html",
        status=status,
        form=MarkDoneForm(),
        body=lesson_html(body, files_base),
    )


@bp.post("/courses/<slug>/items/<item_key>/done")
@login_required
def mark_done(slug: str, item_key: str) -> Any:
    ctx = open_item(slug, item_key)
    if not isinstance(ctx, ItemContext):
        return ctx
    if ctx.enrollment is None or ctx.item.kind != ItemKind.LESSON:
        abort(404)
    if not MarkDoneForm().validate_on_submit():
        abort(400)
    session = db.session()
    was_complete = ctx.enrollment.completed_at is not None
    services.mark_lesson_done(session, enrollment=ctx.enrollment, item=ctx.item)
    session.commit()
    if not was_complete and ctx.enrollment.completed_at is not None:
        flash(_("Congratulations: you have completed this course!"), "success")
        return redirect(url_for(".course", slug=slug), 303)
    _previous, following = neighbours(ctx)
    flash(_("Lesson marked as done."), "success")
    if following is not None:
        return redirect(item_url(ctx.course, following), 303)
    return redirect(url_for(".course", slug=slug), 303)
