"""The quiz editor: pass mark, attempt limit, and the questions of all four kinds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lms.courses.models import Course, Item, ItemKind, Question, QuestionKind
from lms.db import db
from lms.i18n import LANGUAGES
from lms.security import roles_required
from lms.studio import content
from lms.studio.forms import ActionForm, QuestionForm, QuizSettingsForm, texts
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
    elif form.validate_on_submit():
        content.save_quiz_settings(
            db.session(),
            quiz=quiz,
            pass_mark=form.pass_mark.data,
            max_attempts=form.max_attempts.data,
        )
        return saved(url_for(".quiz", slug=slug, key=key), _("The quiz settings were saved."))
    return render_template(
        "studio/quiz.html",
        form=form,
        item=item,
        quiz=quiz,
        action=ActionForm(),
        **page_context(course),
    ), (400 if form.is_submitted() else 200)


def _fill(form: QuestionForm, question: Question) -> None:
    form.kind.data = str(question.kind)
    form.points.data = question.points
    for lang in LANGUAGES:
        getattr(form, f"prompt_{lang}").data = question.prompt.get(lang, "")
        getattr(form, f"explanation_{lang}").data = question.explanation.get(lang, "")
    correct = set(question.answer.get("keys", []))
    for row, option in zip(form.options, question.options, strict=False):
        row.form.key.data = option["key"]
        for lang in LANGUAGES:
            getattr(row.form, f"text_{lang}").data = option["text"].get(lang, "")
        row.form.correct.data = option["key"] in correct
    if question.kind == QuestionKind.NUMERIC:
        form.value.data = str(question.answer.get("value", ""))
        form.tolerance.data = str(question.answer.get("tolerance", 0))
    if question.kind == QuestionKind.TEXT:
        for lang in LANGUAGES:
            getattr(form, f"accepted_{lang}").data = "\n".join(
                question.answer.get("accepted", {}).get(lang, [])
            )


def _fields(form: QuestionForm, languages: list[str]) -> content.QuestionFields:
    options = [
        (row.form.key.data or None, texts(row.form, "text", languages), bool(row.form.correct.data))
        for row in form.options
    ]
    return content.QuestionFields(
        kind=form.kind.data,
        points=Decimal(form.points.data),
        prompt=texts(form, "prompt", languages),
        explanation=texts(form, "explanation", languages),
        options=[(key, text, correct) for key, text, correct in options if text],
        value=form.number(form.value.data),
        tolerance=form.number(form.tolerance.data or "0"),
        accepted=form.accepted(languages),
    )


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
    form = QuestionForm()
    if not form.is_submitted():
        if question is not None:
            _fill(form, question)
        elif request.args.get("kind") in set(QuestionKind):
            form.kind.data = request.args["kind"]
    elif form.check(course.languages):
        content.save_question(
            db.session(),
            quiz=item.quiz,  # type: ignore[arg-type]
            question=question,
            fields=_fields(form, course.languages),
        )
        return saved(url_for(".quiz", slug=slug, key=key), _("The question was saved."))
    return render_template(
        "studio/question.html", form=form, item=item, question=question, **page_context(course)
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
