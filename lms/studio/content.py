"""Item content edited in the studio: lesson Markdown, quizzes and their questions, notebook
assignments (released through ``graders.release``). Flushes; never commits."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from graders.errors import InvalidSource, SourceProblem
from lms.courses.kinds import Content
from lms.courses.kinds.base import fresh_key
from lms.courses.models import (
    Assignment,
    AssignmentFile,
    Item,
    ItemKind,
    Question,
    Quiz,
    Reveal,
)
from lms.courses.package.reader import ALLOWED_SUFFIXES
from lms.studio.services import move_in_order

DATA_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class BadNotebook(Exception):
    """The uploaded file is not a notebook, or its nbgrader metadata is wrong; ``messages``
    say so in the user's language."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("\n".join(messages))
        self.messages = messages


class BadDataFile(Exception):
    """A data file's name or type is not allowed."""


class NoNotebookYet(Exception):
    """An assignment needs its source notebook before anything else."""


class LastQuestion(Exception):
    """Learners see this quiz: its last question cannot go."""


# -- lessons ------------------------------------------------------------------------------


def save_lesson(session: Session, *, item: Item, bodies: dict[str, str]) -> None:
    """Store the lesson's Markdown per language (empty languages are dropped)."""
    if item.kind != ItemKind.LESSON or item.lesson is None:
        raise ValueError(item.key)
    item.lesson.body = {
        lang: text.replace("\r\n", "\n") for lang, text in bodies.items() if text.strip()
    }
    session.flush()


# -- quizzes ------------------------------------------------------------------------------


@dataclass
class QuizSettings:
    """A quiz's settings as the editor sends them; validated by the form already."""

    pass_mark: Decimal
    max_attempts: int | None  # None: unlimited
    retry_hours: int = 24
    reveal: Reveal = Reveal.ALWAYS
    exercise: bool = False


def save_quiz_settings(session: Session, *, quiz: Quiz, settings: QuizSettings) -> None:
    """A quiz's pass mark (fraction of the points), attempts per round, hours between
    rounds, when marks are shown, and whether it is a no-code exercise."""
    quiz.pass_mark = settings.pass_mark
    quiz.max_attempts = settings.max_attempts
    quiz.retry_hours = settings.retry_hours
    quiz.reveal = settings.reveal
    quiz.exercise = settings.exercise
    session.flush()


@dataclass
class QuestionFields:
    """A question as the editor sends it; validated by the form already. ``content`` is
    what its kind read from the kind's own fields."""

    kind: str
    points: Decimal
    prompt: dict[str, str]
    explanation: dict[str, str]
    content: Content
    scenario: bool = False


def _next_key(session: Session, quiz: Quiz) -> str:
    """An id for a new question: q1, q2, ... while nobody has answered the quiz; after that
    a fresh random one, since recorded answers are filed under ids of deleted questions too
    and must never be shown against a new one."""
    from lms.learning.models import QuizAttempt

    answered = session.scalar(select(exists().where(QuizAttempt.item_id == quiz.item_id)))
    taken = {q.key for q in quiz.questions}
    if answered:
        return fresh_key("q", taken)
    n = len(quiz.questions) + 1
    while f"q{n}" in taken:
        n += 1
    return f"q{n}"


def save_question(
    session: Session, *, quiz: Quiz, fields: QuestionFields, question: Question | None = None
) -> Question:
    """Create (at the end) or change a question; its id, and its parts' ids, stay as they
    were."""
    if question is None:
        question = Question(key=_next_key(session, quiz), position=len(quiz.questions))
        quiz.questions.append(question)
    question.kind = fields.kind
    question.points = fields.points
    question.scenario = fields.scenario
    question.prompt = {k: v for k, v in fields.prompt.items() if v.strip()}
    question.explanation = {k: v for k, v in fields.explanation.items() if v.strip()}
    question.options = list(fields.content.options)
    question.answer = dict(fields.content.answer)
    session.flush()
    return question


def move_question(session: Session, *, question: Question, step: int) -> None:
    """One place up (-1) or down (+1)."""
    ordered = sorted(question.quiz.questions, key=lambda q: q.position)
    move_in_order(ordered, question, step)
    session.flush()


def delete_question(session: Session, *, question: Question) -> None:
    """Attempts keep their answers by question id, so a question can go; but not the last
    one of a quiz learners see (``LastQuestion``): an empty quiz cannot be passed."""
    quiz = question.quiz
    item = quiz.item
    if len(quiz.questions) == 1 and item.active and item.course.published:
        raise LastQuestion(question.key)
    quiz.questions.remove(question)
    for position, q in enumerate(sorted(quiz.questions, key=lambda q: q.position)):
        q.position = position
    session.flush()


# -- notebook assignments -----------------------------------------------------------------

# The grading engine's problem codes (graders.errors.PROBLEM_TEXT), in the user's language.
PROBLEMS = {
    "metadata-not-object": _l("the nbgrader metadata must be an object"),
    "schema-version": _l(
        "nbgrader metadata schema version %(version)s is not supported "
        "(expected %(expected)s; run “nbgrader update”)"
    ),
    "metadata-invalid": _l("the nbgrader metadata is invalid at “%(where)s”: %(error)s"),
    "no-grade-id": _l("an nbgrader cell needs a non-empty grade id (grade_id)"),
    "grade-without-points": _l("a grade cell needs points, and this one has none"),
    "task-without-points": _l("a task cell needs points, and this one has none"),
    "task-not-markdown": _l("a task cell must be a Markdown cell"),
    "markdown-grade-not-solution": _l(
        "a graded Markdown cell must be marked both “grade” and “solution”"
    ),
    "duplicate-grade-id": _l("the grade id “%(grade_id)s” is already used by cell %(other_cell)s"),
    "region-nested": _l(
        "“### %(begin)s” on line %(line)s is inside another one opened on line %(outer_line)s"
    ),
    "region-outside": _l(
        "“### %(begin)s” regions belong in %(needed)s, but this cell is not marked as one"
    ),
    "region-unclosed": _l("“### %(begin)s” on line %(line)s is never closed by “### %(end)s”"),
    "nbgrader": _l("nbgrader refused the notebook: %(error)s"),
    "check-not-grade-cell": _l(
        "checks (metadata.oqu.checks) belong to autograder test (grade) cells only"
    ),
    "check-invalid": _l("the check “%(check)s” is invalid: %(error)s"),
    "check-id-invalid": _l(
        "the check id “%(check)s” is not valid (lower-case letters, digits and “-”, at most 48)"
    ),
    "check-duplicate-id": _l("the check id “%(check)s” is already declared in cell %(other_cell)s"),
    "check-messages": _l("the check “%(check)s” needs its message in %(languages)s"),
    "check-not-called": _l(
        "the check “%(check)s” is declared, but the cell never calls oqu_check(“%(check)s”, ...)"
    ),
    "check-undeclared": _l(
        "the cell calls oqu_check(“%(check)s”, ...) but does not declare that check"
    ),
    "check-no-expected": _l(
        "the check “%(check)s” has no expected value (run “python -m graders record-checks”)"
    ),
    "check-expected-invalid": _l(
        "the check “%(check)s” has an expected value that cannot be read (%(error)s)"
    ),
    "check-expected-too-large": _l(
        "the check “%(check)s” expects a value of more than %(limit)s elements"
    ),
}
NEEDED = {
    "solution": _l("a solution cell"),
    "grade": _l("an autograder test (grade) cell"),
    "task": _l("a manually graded task cell"),
}


def describe(problem: SourceProblem) -> str:
    """One problem of a source notebook as a sentence in the user's language."""
    text = PROBLEMS.get(problem.code)
    if text is None:
        return str(problem)
    values = {"grade_id": problem.grade_id, **problem.details}
    if "flag" in values:
        values["needed"] = str(NEEDED.get(values["flag"], values["flag"]))
    sentence = str(text) % values
    if problem.cell is None:
        return sentence
    if problem.grade_id:
        place = (
            _("Header cell %(cell)d (“%(grade_id)s”)", cell=problem.cell, grade_id=problem.grade_id)
            if problem.in_header
            else _("Cell %(cell)d (“%(grade_id)s”)", cell=problem.cell, grade_id=problem.grade_id)
        )
    else:
        place = (
            _("Header cell %(cell)d", cell=problem.cell)
            if problem.in_header
            else _("Cell %(cell)d", cell=problem.cell)
        )
    return f"{place}: {sentence}"


def released_notebook(data: bytes) -> tuple[str, Any]:
    """The upload as text and its release; ``BadNotebook`` says in words what is wrong."""
    import nbformat  # here: importing it costs seconds

    from graders.release import release_notebook  # here: importing it costs seconds

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadNotebook(
            [_("The file is not UTF-8 text (byte %(byte)d).", byte=error.start)]
        ) from error
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadNotebook(
            [
                _(
                    "This is not a notebook: invalid JSON at line %(line)d (%(error)s).",
                    line=error.lineno,
                    error=error.msg,
                )
            ]
        ) from error
    if not isinstance(raw, dict) or raw.get("nbformat") != 4:
        raise BadNotebook([_("This is not a Jupyter notebook in format 4 (nbformat 4).")])
    try:
        node = nbformat.reads(text, as_version=4)
        nbformat.validate(node)
    except nbformat.ValidationError as error:
        first = str(getattr(error, "message", error)).splitlines()[0]
        raise BadNotebook([_("This is not a valid notebook: %(error)s", error=first)]) from error
    try:
        release = release_notebook(node)
    except InvalidSource as error:
        raise BadNotebook([describe(p) for p in error.problems]) from error
    if release.auto_points <= 0:
        raise BadNotebook(
            [
                _(
                    "The notebook has no auto-graded points: an assignment needs at "
                    "least one graded test cell with points."
                )
            ]
        )
    return text, release


def save_notebook(
    session: Session, *, item: Item, name: str, data: bytes, pass_score: Decimal | None = None
) -> Assignment:
    """Store an nbgrader source notebook with its master and student versions."""
    import nbformat  # here: importing it costs seconds

    if item.kind != ItemKind.ASSIGNMENT:
        raise ValueError(item.key)
    text, release = released_notebook(data)
    assignment = item.assignment
    if assignment is None:
        assignment = item.assignment = Assignment(
            notebook_name=name,
            source="",
            master="",
            student="",
            pass_score=pass_score if pass_score is not None else Decimal(1),
        )
    assignment.source = text
    assignment.master = nbformat.writes(release.master)
    assignment.student = nbformat.writes(release.student)
    assignment.auto_points = Decimal(str(release.auto_points))
    assignment.total_points = Decimal(str(release.total_points))
    session.flush()
    return assignment


def save_assignment_settings(
    session: Session, *, item: Item, pass_score: Decimal, max_attempts: int | None
) -> None:
    """Pass score (fraction of the auto-graded points) and attempt limit."""
    if item.assignment is None:
        raise NoNotebookYet(item.key)
    item.assignment.pass_score = pass_score
    item.assignment.max_attempts = max_attempts
    session.flush()


def add_data_file(session: Session, *, item: Item, name: str, content: bytes) -> AssignmentFile:
    """A data file beside the notebook (replaces one of the same name)."""
    assignment = item.assignment
    if assignment is None:
        raise NoNotebookYet(item.key)
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if (
        not DATA_NAME.match(name)
        or suffix not in ALLOWED_SUFFIXES
        or suffix in (".ipynb", ".toml", ".md")
    ):
        raise BadDataFile(name)
    existing = next((f for f in assignment.files if f.name == name), None)
    if existing is None:
        existing = AssignmentFile(name=name, content=content)
        assignment.files.append(existing)
    existing.content = content
    session.flush()
    return existing


def remove_data_file(session: Session, *, item: Item, name: str) -> None:
    """Take a data file away from the assignment."""
    if item.assignment is None:
        return
    item.assignment.files = [f for f in item.assignment.files if f.name != name]
    session.flush()


@dataclass
class StudentCell:
    """One cell of the student version, as plain text for the page."""

    cell_type: str
    source: str
    grade_id: str | None
    points: float | None
    locked: bool


def student_cells(student: str) -> list[StudentCell]:
    """The released student notebook, cell by cell (templates escape the text)."""
    import nbformat  # here: importing it costs seconds

    try:
        node = nbformat.reads(student, as_version=4)
    except Exception:  # noqa: BLE001 - a broken stored notebook shows nothing
        return []
    cells = []
    for cell in node.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        cells.append(
            StudentCell(
                cell_type=cell.cell_type,
                source=cell.source,
                grade_id=meta.get("grade_id"),
                points=meta.get("points") if meta.get("grade") or meta.get("task") else None,
                locked=bool(meta.get("locked")),
            )
        )
    return cells
