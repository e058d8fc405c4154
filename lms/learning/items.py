"""Item pages: lessons ("mark as done"), quizzes (attempts, results) and notebook links."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from lms.courses import services as courses
from lms.courses.models import Course, Item, ItemKind, Question, QuestionKind
from lms.db import db
from lms.learning import scoring, services
from lms.learning.forms import MarkDoneForm, QuizForm
from lms.learning.models import Enrollment, ItemProgress, QuizAttempt
from lms.learning.rendering import lesson_html
from lms.learning.views import bp, content_language, course_or_404, item_url, texts_in

BAD_ANSWER_MESSAGES = {
    scoring.BadAnswer.UNKNOWN_QUESTION: _l(
        "This form has an answer to a question that is not in this quiz. Nothing was saved: "
        "reload the page."
    ),
    scoring.BadAnswer.UNKNOWN_OPTION: _l(
        "An answer is not one of the question's options. Nothing was saved: reload the page."
    ),
    scoring.BadAnswer.NOT_A_NUMBER: _l(
        "Answer with a number, such as 3.5 or 3,5. Nothing was saved."
    ),
    scoring.BadAnswer.TOO_MANY_VALUES: _l("Give one answer to this question. Nothing was saved."),
    scoring.BadAnswer.TOO_LONG: _l("This answer is too long. Nothing was saved."),
}


class ItemContext:
    """The course, the item, the learner's enrolment (None in an instructor's preview).

    ``opened_progress`` is the learner's progress row on the item when it was opened.
    """

    def __init__(
        self,
        course: Course,
        item: Item,
        enrollment: Enrollment | None,
        opened_progress: ItemProgress | None = None,
    ) -> None:
        self.course, self.item, self.enrollment = course, item, enrollment
        self.opened_progress = opened_progress
        self.language = content_language(course, enrollment)
        self.text = texts_in(course, self.language)


def open_item(slug: str, item_key: str) -> ItemContext | Any:
    """The item's context, or the response that sends the learner elsewhere."""
    session = db.session()
    course = course_or_404(slug)
    try:
        item = services.find_item(course, key=item_key)
    except services.ItemNotFound:
        abort(404)
    enrollment, progress = services.find_enrollment_with_progress(
        session, user=current_user, course=course, item=item
    )
    if enrollment is None and not courses.may_preview(session, user=current_user, course=course):
        flash(_("Enrol in this course to open its lessons and quizzes."), "error")
        return redirect(url_for(".course", slug=slug), 303)
    return ItemContext(course, item, enrollment, progress)


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
        preview=ctx.enrollment is None,
        **more,
    ), status


@bp.get("/courses/<slug>/items/<item_key>")
@login_required
def item(slug: str, item_key: str) -> Any:
    ctx = open_item(slug, item_key)
    if not isinstance(ctx, ItemContext):
        return ctx
    if ctx.item.kind == ItemKind.LESSON:
        return render_lesson(ctx)
    if ctx.item.kind == ItemKind.QUIZ:
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


# Quizzes


def render_quiz(
    ctx: ItemContext,
    form: QuizForm,
    *,
    status: int = 200,
    error: str | None = None,
    given: dict[str, Any] | None = None,
) -> Any:
    attempts: list[QuizAttempt] = []
    left = None
    if ctx.enrollment is not None:
        session = db.session()
        attempts = services.attempts_of(session, enrollment=ctx.enrollment, item=ctx.item)
        left = services.attempts_left(session, enrollment=ctx.enrollment, item=ctx.item)
        form.attempt.data = str(len(attempts) + 1)
    quiz = ctx.item.quiz
    return render_item(
        ctx,
        "learning/quiz.html",
        status=status,
        form=form,
        quiz=quiz,
        questions=quiz.questions if quiz is not None else [],
        attempts=attempts,
        left=left,
        error=error,
        given=given or {},
        field_name=scoring.field_name,
    )


@bp.post("/courses/<slug>/items/<item_key>/attempts")
@login_required
def submit_quiz(slug: str, item_key: str) -> Any:
    ctx = open_item(slug, item_key)
    if not isinstance(ctx, ItemContext):
        return ctx
    if ctx.enrollment is None or ctx.item.kind != ItemKind.QUIZ or ctx.item.quiz is None:
        abort(404)
    form = QuizForm()
    if not form.validate_on_submit():
        abort(400)
    session = db.session()
    answers = request.form.to_dict(flat=False)
    was_complete = ctx.enrollment.completed_at is not None
    # The service checks everything before it writes: a refused form leaves nothing behind.
    try:
        attempt = services.submit_quiz(
            session,
            enrollment=ctx.enrollment,
            item=ctx.item,
            form=answers,
            attempt_number=form.attempt.data,
        )
    except scoring.BadAnswer as bad:
        return render_quiz(
            ctx, QuizForm(formdata=None), status=400, error=str(BAD_ANSWER_MESSAGES[bad.reason])
        )
    except services.StaleAttempt:
        return render_quiz(
            ctx,
            QuizForm(formdata=None),
            status=400,
            error=_(
                "This form is out of date (was it sent twice?). Nothing was saved: your "
                "attempts are listed below."
            ),
        )
    except services.AttemptsExhausted:
        return render_quiz(
            ctx,
            QuizForm(formdata=None),
            status=400,
            error=_("You have used every attempt this quiz allows. Your best result counts."),
        )
    session.commit()
    if not was_complete and ctx.enrollment.completed_at is not None:
        flash(_("Congratulations: you have completed this course!"), "success")
    return redirect(url_for(".attempt", slug=slug, item_key=item_key, attempt_id=attempt.id), 303)


@bp.get("/courses/<slug>/items/<item_key>/attempts/<int:attempt_id>")
@login_required
def attempt(slug: str, item_key: str, attempt_id: int) -> Any:
    ctx = open_item(slug, item_key)
    if not isinstance(ctx, ItemContext):
        return ctx
    if ctx.enrollment is None or ctx.item.quiz is None:
        abort(404)
    session = db.session()
    try:
        found = services.my_attempt(
            session, user=current_user, item=ctx.item, attempt_id=attempt_id
        )
    except services.NotEnrolled:
        abort(404)
    left = services.attempts_left(session, enrollment=ctx.enrollment, item=ctx.item)
    # The keys are shown only once no attempt is left: before that, explanations only.
    reveal = left == 0
    rows = [
        {
            "question": q,
            "result": found.results.get(q.key),
            "given": describe_answer(ctx, q, found.answers.get(q.key)),
            "expected": describe_expected(ctx, q) if reveal else None,
        }
        for q in ctx.item.quiz.questions
    ]
    return render_item(
        ctx,
        "learning/attempt.html",
        attempt=found,
        rows=rows,
        left=left,
        reveal=reveal,
        quiz=ctx.item.quiz,
    )


def describe_answer(ctx: ItemContext, question: Question, answer: Any) -> str | None:
    """The learner's answer as they saw it (option texts, not keys)."""
    if answer is None:
        return None
    if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        keys = answer if isinstance(answer, list) else [answer]
        texts = {str(o["key"]): ctx.text(o.get("text")) for o in question.options or []}
        return "; ".join(texts.get(str(key), str(key)) for key in keys)
    return str(answer)


def describe_expected(ctx: ItemContext, question: Question) -> str:
    """The right answer, in the enrolment language."""
    expected = question.answer or {}
    if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        return describe_answer(ctx, question, list(expected.get("keys", []))) or ""
    if question.kind == QuestionKind.NUMERIC:
        value, tolerance = expected.get("value"), expected.get("tolerance") or 0
        return f"{value} ± {tolerance}" if tolerance else str(value)
    accepted: dict[str, list[str]] = expected.get("accepted") or {}
    choices = accepted.get(ctx.language) or next((v for v in accepted.values() if v), [])
    return "; ".join(choices)
