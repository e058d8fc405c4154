"""The quiz editor: its settings, and its questions, each edited by its kind's own part of
the form (``lms.courses.kinds``)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lms.courses import kinds
from lms.courses.kinds.editing import fill_texts
from lms.courses.models import Course, Item, ItemKind, Question, Reveal
from lms.db import db
from lms.i18n import LANGUAGES
from lms.security import roles_required
from lms.studio import content
from lms.studio.forms import ActionForm, QuestionForm, QuizSettingsForm, question_form, texts
from lms.studio.views import (
    bp,
    course_or_abort,
    item_or_404,
    move_step,
    page_context,
    saved,
)
from lms.studio.views.courses import STAFF


def _quiz_item(slug: str, key: str) -> tuple[Course, Item]:
    course = course_or_abort(slug)
    item = item_or_404(course, key, ItemKind.QUIZ)
    if item.quiz is None:
        abort(404)
    return course, item


@bp.route("/courses/<slug>/quizzes/<key>", methods=["GET", "POST"])
@roles_required(*STAFF)
def quiz(slug: str, key: str) -> Any:
    course, item = _quiz_item(slug, key)
    quiz = item.quiz
    assert quiz is not None
    form = QuizSettingsForm()
    if not form.is_submitted():
        form.pass_mark.data = quiz.pass_mark
        form.max_attempts.data = quiz.max_attempts
        form.retry_hours.data = quiz.retry_hours
        form.reveal.data = str(quiz.reveal)
        form.exercise.data = quiz.exercise
    elif form.validate_on_submit():
        content.save_quiz_settings(
            db.session(),
            quiz=quiz,
            settings=content.QuizSettings(
                pass_mark=form.pass_mark.data,
                max_attempts=form.max_attempts.data,
                retry_hours=form.retry_hours.data or 24,
                reveal=Reveal(form.reveal.data),
                exercise=bool(form.exercise.data),
            ),
        )
        return saved(url_for(".quiz", slug=slug, key=key), _("The quiz settings were saved."))
    return render_template(
        "studio/quiz.html",
        form=form,
        item=item,
        quiz=quiz,
        action=ActionForm(),
        kind_of=lambda q: kinds.get(q.kind),
        all_kinds=kinds.all_kinds(),
        **page_context(course),
    ), (400 if form.is_submitted() else 200)


def _fill(form: QuestionForm, question: Question) -> None:
    form.kind.data = question.kind
    form.points.data = question.points
    form.scenario.data = question.scenario
    fill_texts(form, "prompt", question.prompt, LANGUAGES)
    fill_texts(form, "explanation", question.explanation, LANGUAGES)
    form.kind_of.fill_editor(form, question)


def _fields(
    form: QuestionForm, languages: list[str], question: Question | None
) -> content.QuestionFields:
    return content.QuestionFields(
        kind=form.kind_of.name,
        points=form.points.data,
        prompt=texts(form, "prompt", languages),
        explanation=texts(form, "explanation", languages),
        content=form.kind_of.read_editor(form, languages, question),
        scenario=bool(form.scenario.data),
    )


def _kind_asked(question: Question | None) -> kinds.QuestionKind:
    """The kind the editor is for: the one posted, else asked for in the address, else the
    question's own, else single choice."""
    for name in (request.form.get("kind"), request.args.get("kind")):
        if name in kinds.names():
            return kinds.get(name)
    return kinds.get(question.kind if question is not None else kinds.names()[0])


def _question_or_404(item: Item, question_key: str) -> Question:
    question = next((q for q in item.quiz.questions if q.key == question_key), None)  # type: ignore[union-attr]
    if question is None:
        abort(404)
    return question


@bp.route("/courses/<slug>/quizzes/<key>/questions/new", methods=["GET", "POST"])
@bp.route("/courses/<slug>/quizzes/<key>/questions/<question_key>", methods=["GET", "POST"])
@roles_required(*STAFF)
def question(slug: str, key: str, question_key: str | None = None) -> Any:
    course, item = _quiz_item(slug, key)
    question = _question_or_404(item, question_key) if question_key else None
    kind = _kind_asked(question)
    form = question_form(kind)
    if not form.is_submitted():
        if question is not None and question.kind == kind.name:
            _fill(form, question)
        form.kind.data = kind.name
    elif form.check(course.languages):
        content.save_question(
            db.session(),
            quiz=item.quiz,  # type: ignore[arg-type]
            question=question,
            fields=_fields(form, course.languages, question),
        )
        return saved(url_for(".quiz", slug=slug, key=key), _("The question was saved."))
    return render_template(
        "studio/question.html",
        form=form,
        kind=kind,
        item=item,
        question=question,
        **page_context(course),
    ), 400 if form.is_submitted() else 200


@bp.post("/courses/<slug>/quizzes/<key>/questions/<question_key>/move")
@roles_required(*STAFF)
def move_question(slug: str, key: str, question_key: str) -> Any:
    _course, item = _quiz_item(slug, key)
    question = _question_or_404(item, question_key)
    if not ActionForm().validate_on_submit():
        abort(400)
    content.move_question(db.session(), question=question, step=move_step())
    return saved(url_for(".quiz", slug=slug, key=key))


@bp.post("/courses/<slug>/quizzes/<key>/questions/<question_key>/delete")
@roles_required(*STAFF)
def delete_question(slug: str, key: str, question_key: str) -> Any:
    _course, item = _quiz_item(slug, key)
    question = _question_or_404(item, question_key)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        content.delete_question(db.session(), question=question)
    except content.LastQuestion:
        flash(
            _(
                "Learners see this quiz, so its last question cannot be deleted: add another "
                "question first, or remove the quiz from the course."
            ),
            "error",
        )
        return redirect(url_for(".quiz", slug=slug, key=key), code=303)
    return saved(url_for(".quiz", slug=slug, key=key), _("The question was deleted."))
