"""Multiple choice: check boxes, at least one correct option; all or nothing (every correct
option and no other), so ticking everything never pays."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l

from lms.courses.kinds.base import Tokens
from lms.courses.kinds.choice import ChoiceKind, full_or_nothing, unknown_options

if TYPE_CHECKING:
    from lms.courses.models import Question


class MultipleChoice(ChoiceKind):
    name = "multiple"
    label = _l("Multiple choice")
    position = 20
    multiple = True

    def read_answer(self, question: Question, values: list[str], *, tokens: Tokens) -> Any:
        chosen = sorted(set(values))
        unknown_options(question, set(chosen))
        return chosen

    def credit(self, question: Question, answer: Any, *, language: str) -> Decimal:
        return full_or_nothing(set(answer) == set(question.answer.get("keys", [])))


KIND = MultipleChoice()
