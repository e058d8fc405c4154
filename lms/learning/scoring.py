"""Reading and scoring quiz answers: on the server only, and nothing kept from a bad form.

Answers arrive as form fields named ``q-<question key>``; each question's kind (see
``lms.courses.kinds``) reads its field's values and scores them. A field for a question that
is not in the quiz, or a value the page could not have sent, makes the whole form invalid
(``BadAnswer``); so does a number that must be typed again ("5,000"). An unanswered question
just scores 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from lms.courses import kinds
from lms.courses.kinds import BadAnswer
from lms.courses.kinds.base import Tokens
from lms.courses.kinds.text import normalise_text
from lms.courses.models import Question
from lms.numbers import read_number

__all__ = ["BadAnswer", "QuizResult", "Tokens", "normalise_text", "read_answers", "score"]

FIELD_PREFIX = "q-"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class QuizResult:
    """Points per question and in total, and whether the pass mark is reached."""

    per_question: dict[str, dict[str, Any]]
    score: Decimal
    max_score: Decimal
    passed: bool


def field_name(question: Question) -> str:
    """The form field that carries the answer to ``question``."""
    return FIELD_PREFIX + question.key


def parse_number(text: str) -> Decimal:
    """A number typed by a learner, by the platform's one rule (``lms.numbers``)."""
    return read_number(text)


def read_answers(
    questions: Sequence[Question], form: Mapping[str, Sequence[str]], *, tokens: Tokens
) -> dict[str, Any]:
    """The answers in ``form`` by question key, checked against the quiz; else BadAnswer."""
    by_key = {q.key: q for q in questions}
    for name in form:
        if name.startswith(FIELD_PREFIX) and name[len(FIELD_PREFIX) :] not in by_key:
            raise BadAnswer(BadAnswer.UNKNOWN_QUESTION, name[len(FIELD_PREFIX) :])
    answers: dict[str, Any] = {}
    for question in questions:
        values = [v for v in form.get(field_name(question), ()) if v.strip()]
        if values:
            answers[question.key] = kinds.get(question.kind).read_answer(
                question, values, tokens=tokens
            )
    return answers


def credit(question: Question, answer: Any, *, language: str) -> Decimal:
    """The fraction of the question's points ``answer`` earns (0 when unanswered)."""
    if answer is None:
        return Decimal(0)
    return kinds.get(question.kind).credit(question, answer, language=language)


def is_correct(question: Question, answer: Any, *, language: str) -> bool:
    """Whether ``answer`` (as ``read_answers`` gives it) earns every point."""
    return credit(question, answer, language=language) == 1


def score(
    questions: Sequence[Question], answers: Mapping[str, Any], *, pass_mark: Decimal, language: str
) -> QuizResult:
    """Points for each question (a kind may give part of them), the total and the verdict."""
    per_question: dict[str, dict[str, Any]] = {}
    total = maximum = Decimal(0)
    for question in questions:
        points = Decimal(str(question.points))
        fraction = credit(question, answers.get(question.key), language=language)
        # Rounded down to the cent the columns hold: a part never earns more than it is worth.
        if fraction in (0, 1):
            earned = points if fraction == 1 else Decimal(0)
        else:
            earned = (points * fraction).quantize(CENT, rounding=ROUND_DOWN)
        per_question[question.key] = {
            "points": str(earned),
            "max": str(points),
            "correct": fraction == 1,
            "answered": question.key in answers,
        }
        total += earned
        maximum += points
    # A quiz without points has nothing to pass: it must never complete a course by itself.
    passed = maximum > 0 and total / maximum >= Decimal(str(pass_mark))
    return QuizResult(per_question=per_question, score=total, max_score=maximum, passed=passed)
