"""Quiz pages: the questions (each drawn by its kind's template), submitting an attempt,
and an attempt's result, showing what the quiz's ``reveal`` setting allows."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import abort, current_app, flash, redirect, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from lms.courses import kinds
from lms.courses.models import ItemKind, Question
from lms.db import db, utcnow
from lms.learning import quizzes, scoring
from lms.learning.forms import QuizForm
from lms.learning.models import QuizAttempt
from lms.learning.views import bp
from lms.learning.views.items import ItemContext, open_item, render_item

BAD_ANSWER_MESSAGES = {
    kinds.BadAnswer.UNKNOWN_QUESTION: _l(
        "This form has an answer to a question that is not in this quiz. Nothing was saved: "
        "reload the page."
    ),
    kinds.BadAnswer.UNKNOWN_OPTION: _l(
        "An answer is not one of the question's options. Nothing was saved: reload the page."
    ),
    kinds.BadAnswer.NOT_A_NUMBER: _l(
        "Answer with a number, such as 0,75, 0.75 or 5 000 000. Nothing was saved yet."
    ),
    kinds.BadAnswer.AMBIGUOUS_NUMBER: _l(
        "“5,000” could be five thousand or five: type 5000 (or 5 000) for five thousand, "
        "5,0 or 5.0 for five. Nothing was saved yet."
    ),
    kinds.BadAnswer.TOO_MANY_VALUES: _l("Give one answer to this question. Nothing was saved."),
    kinds.BadAnswer.TOO_LONG: _l("This answer is too long. Nothing was saved."),
    kinds.BadAnswer.REPEATED_PLACE: _l(
        "Give every step its own place, each number once. Nothing was saved yet."
    ),
}


def tokens() -> scoring.Tokens:
    """Opaque names of the parts of questions on the page, keyed by the app's secret."""
    return scoring.Tokens(str(current_app.secret_key))


def page_seed(ctx: ItemContext, attempt_number: int) -> str:
    """Fixes the shuffled order of one learner's one attempt (a reload shows the same)."""
    owner = ctx.enrollment.id if ctx.enrollment is not None else "preview"
    return hashlib.sha256(f"{owner}:{attempt_number}".encode()).hexdigest()[:16]


def render_quiz(
    ctx: ItemContext,
    form: QuizForm,
    *,
    status: int = 200,
    error: str | None = None,
    bad: kinds.BadAnswer | None = None,
    given: dict[str, list[str]] | None = None,
) -> Any:
    attempts: list[QuizAttempt] = []
    state = None
    if ctx.enrollment is not None and ctx.item.quiz is not None:
        session = db.session()
        attempts = quizzes.attempts_of(session, enrollment=ctx.enrollment, item=ctx.item)
        state = quizzes.rounds_of(ctx.item.quiz, attempts, now=utcnow())  # type: ignore[arg-type]
        form.attempt.data = str(len(attempts) + 1)
    quiz = ctx.item.quiz
    questions = quiz.questions if quiz is not None else []
    seed = page_seed(ctx, len(attempts) + 1)
    named = tokens()
    return render_item(
        ctx,
        "learning/quiz.html",
        status=status,
        form=form,
        quiz=quiz,
        questions=questions,
        attempts=attempts,
        left=state.left if state is not None else None,
        opens_at=_when(state.opens_at) if state is not None and state.opens_at else None,
        error=error,
        errors={bad.question: error} if bad is not None else {},
        given=given or {},
        field_name=scoring.field_name,
        kind_of=lambda q: kinds.get(q.kind),
        widgets={q.key: kinds.get(q.kind).widget(q, tokens=named, seed=seed) for q in questions},
    )


def _when(moment: Any) -> str:
    return format_datetime(moment, "short")


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
    answers = form.answers
    was_complete = ctx.enrollment.completed_at is not None
    # The service checks everything before it writes: a refused form leaves nothing behind.
    try:
        attempt = quizzes.submit_quiz(
            session,
            enrollment=ctx.enrollment,
            item=ctx.item,
            form=answers,
            attempt_number=form.attempt.data,
            tokens=tokens(),
        )
    except kinds.BadAnswer as bad:
        # The answers come back as they were typed, the question at fault marked.
        return render_quiz(
            ctx,
            QuizForm(formdata=None),
            status=400,
            error=str(BAD_ANSWER_MESSAGES[bad.reason]),
            bad=bad,
            given={k[len(scoring.FIELD_PREFIX) :]: v for k, v in answers.items()},
        )
    except quizzes.StaleAttempt:
        return render_quiz(
            ctx,
            QuizForm(formdata=None),
            status=400,
            error=_(
                "This form is out of date (was it sent twice?). Nothing was saved: your "
                "attempts are listed below."
            ),
        )
    except quizzes.AttemptsExhausted as used_up:
        return render_quiz(
            ctx,
            QuizForm(formdata=None),
            status=400,
            error=_(
                "You have used every attempt of this round. A new round opens on %(when)s.",
                when=_when(used_up.opens_at),
            )
            if used_up.opens_at
            else _("You have used every attempt this quiz allows. Your best result counts."),
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
        found = quizzes.my_attempt(session, user=current_user, item=ctx.item, attempt_id=attempt_id)
    except quizzes.NotEnrolled:
        abort(404)
    state = quizzes.rounds(session, enrollment=ctx.enrollment, item=ctx.item)
    row = ctx.opened_progress
    shown = quizzes.shown(ctx.item.quiz, found, state, passed=bool(row and row.passed))
    rows = [
        {
            "question": q,
            "result": found.results.get(q.key) if shown.marks else None,
            "given": describe_answer(ctx, q, found.answers.get(q.key)),
            "expected": describe_expected(ctx, q) if shown.answers else None,
        }
        for q in ctx.item.quiz.questions
    ]
    return render_item(
        ctx,
        "learning/attempt.html",
        attempt=found,
        rows=rows,
        left=state.left,
        opens_at=_when(state.opens_at) if state.opens_at else None,
        shown=shown,
        quiz=ctx.item.quiz,
    )


def describe_answer(ctx: ItemContext, question: Question, answer: Any) -> str | None:
    """The learner's answer as they saw it (option texts, not ids)."""
    if answer is None:
        return None
    try:
        return kinds.get(question.kind).describe_answer(question, answer, ctx.text)
    except (AttributeError, KeyError, TypeError):
        # Recorded before an author changed the question's kind: shown as it was stored.
        return str(answer)


def describe_expected(ctx: ItemContext, question: Question) -> str:
    """The right answer, in the enrolment language."""
    return kinds.get(question.kind).describe_expected(question, ctx.text, ctx.language)
