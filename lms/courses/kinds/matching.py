"""Pair items of two lists. The package lists ``[[questions.pairs]]``, each with its
``left`` and ``right`` text; the learner sees the left column in that order and, for each
left item, picks its partner from a select box listing the right column shuffled.

Partial credit, pair by pair: each left item is its own judgement (like one single-choice
question sharing its options with the others), and a blind guess earns on average one pair
whatever the length (a random pairing has one fixed point on average), so points for a part
measure knowledge without paying for guessing. courses/README.md says so to authors.
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

PAIR_ROWS = 8


class PairForm(Form):
    key = HiddenField()
    left_kk = StringField(_l("Left item in Kazakh"))
    left_ru = StringField(_l("Left item in Russian"))
    left_en = StringField(_l("Left item in English"))
    right_kk = StringField(_l("Its partner in Kazakh"))
    right_ru = StringField(_l("Its partner in Russian"))
    right_en = StringField(_l("Its partner in English"))


class MatchingEditor:
    pairs = FieldList(FormField(PairForm), min_entries=PAIR_ROWS, max_entries=PAIR_ROWS)


def _left(question: Question, key: str, tokens: Tokens) -> str:
    return tokens.of(question, f"left:{key}")


def _right(question: Question, key: str, tokens: Tokens) -> str:
    return tokens.of(question, f"right:{key}")


class Matching(QuestionKind):
    name = "matching"
    label = _l("Matching pairs")
    position = 60
    package_keys = ("pairs",)
    editor = MatchingEditor
    scoring = "per-part"

    def read_package(
        self, reader: PackageReader, path: KeyPath, question: Mapping[str, Any]
    ) -> Content:
        seen: set[str] = set()
        pairs = []
        for p, pair in enumerate(question["pairs"]):
            ppath: KeyPath = (*path, "pairs", p)
            if pair["id"] in seen:
                reader.at((*ppath, "id"), f"pair id {pair['id']!r} is used twice")
            seen.add(pair["id"])
            reader.need_first_language((*ppath, "left"), pair["left"])
            reader.need_first_language((*ppath, "right"), pair["right"])
            pairs.append({"key": pair["id"], "left": pair["left"], "right": pair["right"]})
        return Content(options=pairs, answer={"pairs": [p["key"] for p in pairs]})

    def write_package(self, question: Question) -> dict[str, Any]:
        return {
            "pairs": [
                {
                    "id": pair["key"],
                    "left": texts_in_order(pair["left"]),
                    "right": texts_in_order(pair["right"]),
                }
                for pair in question.options or []
            ]
        }

    def widget(self, question: Question, *, tokens: Tokens, seed: str) -> dict[str, Any]:
        pairs = {str(p["key"]): p for p in question.options or []}
        rights = shuffled(list(pairs), tokens.of(question, f"shuffle:{seed}"))
        return {
            "lefts": [
                {"token": _left(question, key, tokens), "text": pair["left"]}
                for key, pair in pairs.items()
            ],
            "rights": [
                {"token": _right(question, key, tokens), "text": pairs[key]["right"]}
                for key in rights
            ],
        }

    def read_answer(self, question: Question, values: list[str], *, tokens: Tokens) -> Any:
        keys = [str(p["key"]) for p in question.options or []]
        lefts = {_left(question, key, tokens): key for key in keys}
        rights = {_right(question, key, tokens): key for key in keys}
        chosen: dict[str, str] = {}
        for value in values:
            left, _, right = value.partition(":")
            if left not in lefts or right not in rights:
                raise BadAnswer(BadAnswer.UNKNOWN_OPTION, question.key)
            if lefts[left] in chosen:
                raise BadAnswer(BadAnswer.TOO_MANY_VALUES, question.key)
            chosen[lefts[left]] = rights[right]
        return chosen

    def credit(self, question: Question, answer: Any, *, language: str) -> Decimal:
        keys = [str(p["key"]) for p in question.options or []]
        if not keys:
            return Decimal(0)
        right = sum(1 for key in keys if answer.get(key) == key)
        return Decimal(right) / Decimal(len(keys))

    def describe_answer(self, question: Question, answer: Any, text: TextPicker) -> str:
        pairs = {str(p["key"]): p for p in question.options or []}
        return "; ".join(
            f"{text(pairs[left]['left'])} — {text(pairs[right]['right'])}"
            for left, right in answer.items()
            if left in pairs and right in pairs
        )

    def describe_expected(self, question: Question, text: TextPicker, language: str) -> str:
        keys = [str(p["key"]) for p in question.options or []]
        return self.describe_answer(question, {key: key for key in keys}, text)

    def fill_editor(self, form: Any, question: Question) -> None:
        for row, pair in zip(form.pairs, question.options or [], strict=False):
            row.form.key.data = pair["key"]
            fill_texts(row.form, "left", pair["left"], ("kk", "ru", "en"))
            fill_texts(row.form, "right", pair["right"], ("kk", "ru", "en"))

    def check_editor(self, form: Any, languages: list[str]) -> bool:
        ok = True
        filled = [
            row
            for row in form.pairs
            if texts(row.form, "left", languages) or texts(row.form, "right", languages)
        ]
        if len(filled) < 2:
            form.pairs.errors = [_l("Give at least two pairs.")]
            ok = False
        for row in filled:
            left = require_first(row.form, "left", languages)
            if not (require_first(row.form, "right", languages) and left):
                form.pairs.errors = [
                    _l("Every pair needs both its texts in the course's first language.")
                ]
                ok = False
        return ok

    def read_editor(self, form: Any, languages: list[str], question: Question | None) -> Content:
        rows = [
            (
                row.form.key.data or None,
                texts(row.form, "left", languages),
                texts(row.form, "right", languages),
            )
            for row in form.pairs
        ]
        rows = [row for row in rows if row[1] or row[2]]
        existing = (question.options or []) if question is not None else []
        keys = carried_keys(existing, [row[0] for row in rows], prefix="p")
        pairs = [
            {"key": key, "left": left, "right": right}
            for key, (_id, left, right) in zip(keys, rows, strict=True)
        ]
        return Content(options=pairs, answer={"pairs": keys})


KIND = Matching()
