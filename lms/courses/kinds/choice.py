"""What single and multiple choice share: options with ids, some of them correct."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, FieldList, Form, FormField, HiddenField, StringField

from lms.courses.kinds.base import (
    BadAnswer,
    Content,
    KeyPath,
    PackageReader,
    QuestionKind,
    TextPicker,
    carried_keys,
    texts_in_order,
)
from lms.courses.kinds.editing import fill_texts, require_first, texts

if TYPE_CHECKING:
    from lms.courses.models import Question

OPTION_ROWS = 6


class OptionForm(Form):
    # The option's id, carried through the form so that an edit never renames an option.
    key = HiddenField()
    text_kk = StringField(_l("Option in Kazakh"))
    text_ru = StringField(_l("Option in Russian"))
    text_en = StringField(_l("Option in English"))
    correct = BooleanField(_l("Correct answer"))


class ChoiceEditor:
    options = FieldList(FormField(OptionForm), min_entries=OPTION_ROWS, max_entries=OPTION_ROWS)


def option_keys(question: Question) -> set[str]:
    return {str(option["key"]) for option in question.options or []}


class ChoiceKind(QuestionKind):
    """Options with ids; ``answer`` is ``{"keys": [the correct ids]}``."""

    package_keys = ("options",)
    editor = ChoiceEditor
    multiple: bool = False

    def read_package(
        self, reader: PackageReader, path: KeyPath, question: Mapping[str, Any]
    ) -> Content:
        seen: set[str] = set()
        options, correct = [], []
        for o, option in enumerate(question["options"]):
            opath: KeyPath = (*path, "options", o)
            if option["id"] in seen:
                reader.at((*opath, "id"), f"option id {option['id']!r} is used twice")
            seen.add(option["id"])
            reader.need_first_language((*opath, "text"), option["text"])
            options.append({"key": option["id"], "text": option["text"]})
            if option.get("correct", False):
                correct.append(option["id"])
        problem = self.correct_count_problem(len(correct))
        if problem:
            reader.at((*path, "options"), problem)
        return Content(options=options, answer={"keys": correct})

    def correct_count_problem(self, count: int) -> str | None:
        if self.multiple:
            return None if count else "a multiple-choice question needs at least one correct option"
        if count != 1:
            return f"a single-choice question needs exactly one correct option, not {count}"
        return None

    def write_package(self, question: Question) -> dict[str, Any]:
        correct = set(question.answer.get("keys", []))
        return {
            "options": [
                {
                    "id": option["key"],
                    "correct": option["key"] in correct,
                    "text": texts_in_order(option["text"]),
                }
                for option in question.options
            ]
        }

    def describe_answer(self, question: Question, answer: Any, text: TextPicker) -> str:
        keys = answer if isinstance(answer, list) else [answer]
        names = {str(o["key"]): text(o.get("text")) for o in question.options or []}
        return "; ".join(names.get(str(key), str(key)) for key in keys)

    def describe_expected(self, question: Question, text: TextPicker, language: str) -> str:
        return self.describe_answer(question, list(question.answer.get("keys", [])), text)

    def fill_editor(self, form: Any, question: Question) -> None:
        correct = set(question.answer.get("keys", []))
        for row, option in zip(form.options, question.options, strict=False):
            row.form.key.data = option["key"]
            fill_texts(row.form, "text", option["text"], ("kk", "ru", "en"))
            row.form.correct.data = option["key"] in correct

    def check_editor(self, form: Any, languages: list[str]) -> bool:
        ok = True
        filled = [row for row in form.options if texts(row.form, "text", languages)]
        correct = [row for row in filled if row.form.correct.data]
        if len(filled) < 2:
            form.options.errors = [_l("Give at least two options.")]
            ok = False
        for row in filled:
            if not require_first(row.form, "text", languages):
                form.options.errors = [
                    _l("Every option needs a text in the course's first language.")
                ]
                ok = False
        if not self.multiple and len(correct) != 1:
            form.options.errors = [
                *form.options.errors,
                _l("A single-choice question needs exactly one correct option."),
            ]
            ok = False
        if self.multiple and not correct:
            form.options.errors = [
                *form.options.errors,
                _l("A multiple-choice question needs at least one correct option."),
            ]
            ok = False
        return ok

    def read_editor(self, form: Any, languages: list[str], question: Question | None) -> Content:
        rows = [
            (row.form.key.data or None, texts(row.form, "text", languages), row.form.correct.data)
            for row in form.options
        ]
        rows = [row for row in rows if row[1]]
        existing = (question.options or []) if question is not None else []
        keys = carried_keys(existing, [key for key, _text, _correct in rows], prefix="o")
        return Content(
            options=[
                {"key": key, "text": text} for key, (_id, text, _c) in zip(keys, rows, strict=True)
            ],
            answer={
                "keys": [key for key, (_id, _t, correct) in zip(keys, rows, strict=True) if correct]
            },
        )


def unknown_options(question: Question, chosen: set[str]) -> None:
    if not chosen <= option_keys(question):
        raise BadAnswer(BadAnswer.UNKNOWN_OPTION, question.key)


def full_or_nothing(right: bool) -> Decimal:
    return Decimal(1) if right else Decimal(0)
