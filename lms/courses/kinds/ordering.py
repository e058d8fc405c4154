"""Put steps in order. The package lists ``[[questions.items]]`` in the right order; the
learner sees them shuffled and gives each its place with a select box (keyboard and screen
readers use it as it is; no dragging).

All or nothing: the steps are not independent, and every partial-credit rule either pays a
blind guess about half the points (pairs in the right relative order) or next to nothing for
one slip (items in their exact place, neighbours kept). courses/README.md says so to authors,
who keep a list to three to six steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from wtforms import FieldList, Form, FormField, HiddenField, StringField

from lms.courses.kinds.base import (
    BadAnswer,
    Content,
    KeyPath,
    PackageReader,
    QuestionKind,
    TextPicker,
    Tokens,
    carried_keys,
    shuffled,
    texts_in_order,
)
from lms.courses.kinds.editing import fill_texts, require_first, texts

if TYPE_CHECKING:
    from lms.courses.models import Question

STEP_ROWS = 8


class StepForm(Form):
    key = HiddenField()
    text_kk = StringField(_l("Step in Kazakh"))
    text_ru = StringField(_l("Step in Russian"))
    text_en = StringField(_l("Step in English"))


class OrderingEditor:
    steps = FieldList(FormField(StepForm), min_entries=STEP_ROWS, max_entries=STEP_ROWS)


class Ordering(QuestionKind):
    name = "ordering"
    label = _l("Put in order")
    position = 50
    package_keys = ("items",)
    editor = OrderingEditor

    def read_package(
        self, reader: PackageReader, path: KeyPath, question: Mapping[str, Any]
    ) -> Content:
        seen: set[str] = set()
        steps = []
        for i, step in enumerate(question["items"]):
            ipath: KeyPath = (*path, "items", i)
            if step["id"] in seen:
                reader.at((*ipath, "id"), f"item id {step['id']!r} is used twice")
            seen.add(step["id"])
            reader.need_first_language((*ipath, "text"), step["text"])
            steps.append({"key": step["id"], "text": step["text"]})
        return Content(options=steps, answer={"order": [s["key"] for s in steps]})

    def write_package(self, question: Question) -> dict[str, Any]:
        by_key = {str(s["key"]): s for s in question.options or []}
        return {
            "items": [
                {"id": key, "text": texts_in_order(by_key[key]["text"])}
                for key in question.answer.get("order", [])
            ]
        }

    def widget(self, question: Question, *, tokens: Tokens, seed: str) -> dict[str, Any]:
        steps = {str(s["key"]): s for s in question.options or []}
        order = shuffled(list(steps), tokens.of(question, f"shuffle:{seed}"))
        return {
            "steps": [
                {"token": tokens.of(question, key), "text": steps[key]["text"]} for key in order
            ],
            "places": list(range(1, len(order) + 1)),
        }

    def read_answer(self, question: Question, values: list[str], *, tokens: Tokens) -> Any:
        keys = [str(s["key"]) for s in question.options or []]
        table = tokens.table(question, keys)
        placed: dict[str, int] = {}
        for value in values:
            token, _, place = value.partition(":")
            if token not in table or not place.isdigit() or not 1 <= int(place) <= len(keys):
                raise BadAnswer(BadAnswer.UNKNOWN_OPTION, question.key)
            if table[token] in placed:
                raise BadAnswer(BadAnswer.TOO_MANY_VALUES, question.key)
            placed[table[token]] = int(place)
        if len(placed) != len(keys) or len(set(placed.values())) != len(keys):
            raise BadAnswer(BadAnswer.REPEATED_PLACE, question.key)
        return sorted(placed, key=lambda key: placed[key])

    def credit(self, question: Question, answer: Any, *, language: str) -> Decimal:
        return Decimal(1) if list(answer) == list(question.answer.get("order", [])) else Decimal(0)

    def describe_answer(self, question: Question, answer: Any, text: TextPicker) -> str:
        steps = {str(s["key"]): text(s["text"]) for s in question.options or []}
        return " → ".join(steps.get(str(key), str(key)) for key in answer)

    def describe_expected(self, question: Question, text: TextPicker, language: str) -> str:
        return self.describe_answer(question, question.answer.get("order", []), text)

    def fill_editor(self, form: Any, question: Question) -> None:
        by_key = {str(s["key"]): s for s in question.options or []}
        for row, key in zip(form.steps, question.answer.get("order", []), strict=False):
            row.form.key.data = key
            fill_texts(row.form, "text", by_key[key]["text"], ("kk", "ru", "en"))

    def check_editor(self, form: Any, languages: list[str]) -> bool:
        filled = [row for row in form.steps if texts(row.form, "text", languages)]
        ok = True
        if len(filled) < 2:
            form.steps.errors = [_l("Give at least two steps.")]
            ok = False
        for row in filled:
            if not require_first(row.form, "text", languages):
                form.steps.errors = [_l("Every step needs a text in the course's first language.")]
                ok = False
        return ok

    def read_editor(self, form: Any, languages: list[str], question: Question | None) -> Content:
        rows = [
            (row.form.key.data or None, texts(row.form, "text", languages)) for row in form.steps
        ]
        rows = [row for row in rows if row[1]]
        existing = (question.options or []) if question is not None else []
        keys = carried_keys(existing, [key for key, _text in rows], prefix="s")
        steps = [{"key": key, "text": text} for key, (_id, text) in zip(keys, rows, strict=True)]
        return Content(options=steps, answer={"order": keys})


KIND = Ordering()
