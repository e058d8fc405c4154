"""Single choice: radio buttons, exactly one correct option; all or nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l

from lms.courses.kinds.base import Tokens, single_value
from lms.courses.kinds.choice import ChoiceKind, full_or_nothing, unknown_options

if TYPE_CHECKING:
    from lms.courses.models import Question


class SingleChoice(ChoiceKind):
    name = "single"
    label = _l("Single choice")
    position = 10

    def read_answer(self, question: Question, values: list[str], *, tokens: Tokens) -> Any:
        value = single_value(question, values)
        unknown_options(question, {value})
        return value

    def credit(self, question: Question, answer: Any, *, language: str) -> Decimal:
        return full_or_nothing([answer] == list(question.answer.get("keys", [])))


KIND = SingleChoice()
