"""A number within an absolute tolerance, read by the one rule of ``lms.numbers``."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from wtforms.validators import NumberRange, Optional

from lms.courses.kinds.base import (
    BadAnswer,
    Content,
    KeyPath,
    PackageReader,
    QuestionKind,
    TextPicker,
    Tokens,
    single_value,
)
from lms.numbers import AMBIGUOUS, AmbiguousNumber, NotANumber, NumberField, read_number

if TYPE_CHECKING:
    from lms.courses.models import Question


class NumericEditor:
    value = NumberField(
        _l("Correct number"),
        validators=[Optional()],
        invalid_message=_l("Enter a number, like 3.5."),
        ambiguous_message=AMBIGUOUS,
    )
    tolerance = NumberField(
        _l("Tolerance (absolute, 0 or more)"),
        default=Decimal(0),
        validators=[
            Optional(),
            NumberRange(min=0, message=_l("Enter a number that is 0 or more.")),
        ],
        invalid_message=_l("Enter a number that is 0 or more."),
        ambiguous_message=AMBIGUOUS,
    )


def _plain(value: Decimal) -> float:
    return float(value)


class Numeric(QuestionKind):
    name = "numeric"
    label = _l("Number")
    position = 30
    package_keys = ("answer", "tolerance")
    editor = NumericEditor

    def read_package(
        self, reader: PackageReader, path: KeyPath, question: Mapping[str, Any]
    ) -> Content:
        return Content(
            answer={"value": question["answer"], "tolerance": question.get("tolerance", 0)}
        )

    def write_package(self, question: Question) -> dict[str, Any]:
        return {
            "answer": question.answer["value"],
            "tolerance": question.answer.get("tolerance", 0),
        }

    def read_answer(self, question: Question, values: list[str], *, tokens: Tokens) -> Any:
        try:
            return str(read_number(single_value(question, values)))
        except AmbiguousNumber as error:
            raise BadAnswer(BadAnswer.AMBIGUOUS_NUMBER, question.key) from error
        except NotANumber as error:
            raise BadAnswer(BadAnswer.NOT_A_NUMBER, question.key) from error

    def credit(self, question: Question, answer: Any, *, language: str) -> Decimal:
        target = Decimal(str(question.answer.get("value")))
        tolerance = abs(Decimal(str(question.answer.get("tolerance") or 0)))
        return Decimal(1) if abs(Decimal(answer) - target) <= tolerance else Decimal(0)

    def describe_expected(self, question: Question, text: TextPicker, language: str) -> str:
        value, tolerance = question.answer.get("value"), question.answer.get("tolerance") or 0
        return f"{value} ± {tolerance}" if tolerance else str(value)

    def fill_editor(self, form: Any, question: Question) -> None:
        form.value.data = Decimal(str(question.answer.get("value", 0)))
        form.tolerance.data = Decimal(str(question.answer.get("tolerance", 0)))

    def check_editor(self, form: Any, languages: list[str]) -> bool:
        if form.value.data is None and not form.value.errors:
            form.value.errors = [_l("Enter a number, like 3.5.")]
        return not form.value.errors and not form.tolerance.errors

    def read_editor(self, form: Any, languages: list[str], question: Question | None) -> Content:
        tolerance = form.tolerance.data if form.tolerance.data is not None else Decimal(0)
        return Content(answer={"value": _plain(form.value.data), "tolerance": _plain(tolerance)})


KIND = Numeric()
