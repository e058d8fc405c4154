"""Reading and scoring quiz answers: on the server only, and nothing kept from a bad form.

Answers arrive as form fields named ``q-<question key>``. A field for a question that is
not in the quiz, an option that is not in its question, or a numeric answer that is not a
number makes the whole form invalid (``BadAnswer``); an unanswered question just scores 0.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from lms.courses.models import Question, QuestionKind

FIELD_PREFIX = "q-"
MAX_TEXT_ANSWER = 500
MAX_NUMBER_LENGTH = 40
# Digits with one decimal point or comma, and an optional small exponent ("1.5e-3").
NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d{1,3})?")


class BadAnswer(Exception):
    """The submitted answers are not ones the quiz could have produced."""

    UNKNOWN_QUESTION = "unknown_question"
    UNKNOWN_OPTION = "unknown_option"
    NOT_A_NUMBER = "not_a_number"
    TOO_MANY_VALUES = "too_many_values"
    TOO_LONG = "too_long"

    def __init__(self, reason: str, question: str) -> None:
        super().__init__(f"{reason}: {question}")
        self.reason = reason
        self.question = question


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
    """A number typed by a learner: "3.5", "3,5", "-2", "5 000 000"; else ValueError."""
    cleaned = "".join(ch for ch in text.strip() if not ch.isspace())
    if len(cleaned) > MAX_NUMBER_LENGTH or not NUMBER.fullmatch(cleaned):
        raise ValueError(text)
    try:
        return Decimal(cleaned.replace(",", "."))
    except InvalidOperation as error:
        raise ValueError(text) from error


def normalise_text(text: str) -> str:
    """Text compared without regard to case, surrounding or repeated space, or Unicode form."""
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


def _option_keys(question: Question) -> set[str]:
    return {str(option["key"]) for option in question.options or []}


def read_answers(
    questions: Sequence[Question], form: Mapping[str, Sequence[str]]
) -> dict[str, Any]:
    """The answers in ``form`` by question key, checked against the quiz; else BadAnswer."""
    by_key = {q.key: q for q in questions}
    for name in form:
        if name.startswith(FIELD_PREFIX) and name[len(FIELD_PREFIX) :] not in by_key:
            raise BadAnswer(BadAnswer.UNKNOWN_QUESTION, name[len(FIELD_PREFIX) :])
    answers: dict[str, Any] = {}
    for question in questions:
        values = [v for v in form.get(field_name(question), ()) if v.strip()]
        if not values:
            continue
        if question.kind == QuestionKind.MULTIPLE:
            chosen = sorted(set(values))
            if not set(chosen) <= _option_keys(question):
                raise BadAnswer(BadAnswer.UNKNOWN_OPTION, question.key)
            answers[question.key] = chosen
            continue
        if len(values) > 1:
            raise BadAnswer(BadAnswer.TOO_MANY_VALUES, question.key)
        value = values[0]
        if question.kind == QuestionKind.SINGLE:
            if value not in _option_keys(question):
                raise BadAnswer(BadAnswer.UNKNOWN_OPTION, question.key)
            answers[question.key] = value
        elif question.kind == QuestionKind.NUMERIC:
            try:
                answers[question.key] = str(parse_number(value))
            except ValueError as error:
                raise BadAnswer(BadAnswer.NOT_A_NUMBER, question.key) from error
        else:
            if len(value) > MAX_TEXT_ANSWER:
                raise BadAnswer(BadAnswer.TOO_LONG, question.key)
            answers[question.key] = value.strip()
    return answers


def is_correct(question: Question, answer: Any, *, language: str) -> bool:
    """Whether ``answer`` (as ``read_answers`` gives it) is right."""
    if answer is None:
        return False
    expected = question.answer or {}
    if question.kind == QuestionKind.SINGLE:
        return [answer] == list(expected.get("keys", []))
    if question.kind == QuestionKind.MULTIPLE:
        return set(answer) == set(expected.get("keys", []))
    if question.kind == QuestionKind.NUMERIC:
        target = Decimal(str(expected.get("value")))
        tolerance = abs(Decimal(str(expected.get("tolerance") or 0)))
        return abs(Decimal(answer) - target) <= tolerance
    return normalise_text(answer) in _accepted(expected.get("accepted") or {}, language)


def _accepted(accepted: Mapping[str, Iterable[str]], language: str) -> set[str]:
    """Accepted texts of the learner's language first, then of the course's other languages."""
    languages = [language, *(lang for lang in accepted if lang != language)]
    return {normalise_text(text) for lang in languages for text in accepted.get(lang, [])}


def score(
    questions: Sequence[Question], answers: Mapping[str, Any], *, pass_mark: Decimal, language: str
) -> QuizResult:
    """Points for each question (all or nothing), the total and the verdict."""
    per_question: dict[str, dict[str, Any]] = {}
    total = maximum = Decimal(0)
    for question in questions:
        points = Decimal(str(question.points))
        correct = is_correct(question, answers.get(question.key), language=language)
        earned = points if correct else Decimal(0)
        per_question[question.key] = {
            "points": str(earned),
            "max": str(points),
            "correct": correct,
            "answered": question.key in answers,
        }
        total += earned
        maximum += points
    # A quiz without points has nothing to pass: it must never complete a course by itself.
    passed = maximum > 0 and total / maximum >= Decimal(str(pass_mark))
    return QuizResult(per_question=per_question, score=total, max_score=maximum, passed=passed)
