"""A short typed answer: any listed form (synonyms welcome) is right, compared without
regard to case, Unicode form or spacing; with ``kazakh_plain`` also Kazakh typed without
its own letters (ә→а, ғ→г, қ→к, ң→н, ө→о, ұ/ү→у, һ→х, і→и), as on a Russian keyboard."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, TextAreaField

from lms.courses.kinds.base import (
    BadAnswer,
    Content,
    KeyPath,
    PackageReader,
    QuestionKind,
    TextPicker,
    Tokens,
    single_value,
    texts_in_order,
)

if TYPE_CHECKING:
    from lms.courses.models import Question

MAX_TEXT_ANSWER = 500
KAZAKH_PLAIN = str.maketrans("әғқңөұүһі", "агкноуухи")


def normalise_text(text: str) -> str:
    """Text compared without regard to case, surrounding or repeated space, or Unicode form."""
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


def plain_kazakh(text: str) -> str:
    """``text`` (normalised) with Kazakh letters written as the nearest Russian ones."""
    return normalise_text(text).translate(KAZAKH_PLAIN)


class TextEditor:
    accepted_kk = TextAreaField(_l("Accepted answers in Kazakh (one a line)"))
    accepted_ru = TextAreaField(_l("Accepted answers in Russian (one a line)"))
    accepted_en = TextAreaField(_l("Accepted answers in English (one a line)"))
    kazakh_plain = BooleanField(
        _l("Also accept Kazakh typed without Kazakh letters (қ as к, ә as а, і as и, ...)")
    )


def _accepted(accepted: Mapping[str, Iterable[str]], language: str) -> list[str]:
    """Accepted texts of the learner's language first, then of the course's other languages."""
    languages = [language, *(lang for lang in accepted if lang != language)]
    return [text for lang in languages for text in accepted.get(lang, [])]


class Text(QuestionKind):
    name = "text"
    label = _l("Short text")
    position = 40
    package_keys = ("accepted", "kazakh_plain")
    editor = TextEditor

    def read_package(
        self, reader: PackageReader, path: KeyPath, question: Mapping[str, Any]
    ) -> Content:
        reader.need_first_language((*path, "accepted"), question["accepted"])
        answer: dict[str, Any] = {"accepted": question["accepted"]}
        if question.get("kazakh_plain", False):
            answer["kazakh_plain"] = True
        return Content(answer=answer)

    def write_package(self, question: Question) -> dict[str, Any]:
        entry: dict[str, Any] = {}
        if question.answer.get("kazakh_plain"):
            entry["kazakh_plain"] = True
        entry["accepted"] = texts_in_order(question.answer["accepted"])
        return entry

    def read_answer(self, question: Question, values: list[str], *, tokens: Tokens) -> Any:
        value = single_value(question, values)
        if len(value) > MAX_TEXT_ANSWER:
            raise BadAnswer(BadAnswer.TOO_LONG, question.key)
        return value.strip()

    def credit(self, question: Question, answer: Any, *, language: str) -> Decimal:
        fold = plain_kazakh if question.answer.get("kazakh_plain") else normalise_text
        accepted = {
            fold(text) for text in _accepted(question.answer.get("accepted") or {}, language)
        }
        return Decimal(1) if fold(answer) in accepted else Decimal(0)

    def describe_expected(self, question: Question, text: TextPicker, language: str) -> str:
        accepted: dict[str, list[str]] = question.answer.get("accepted") or {}
        choices = accepted.get(language) or next((v for v in accepted.values() if v), [])
        return "; ".join(choices)

    def fill_editor(self, form: Any, question: Question) -> None:
        for lang in ("kk", "ru", "en"):
            getattr(form, f"accepted_{lang}").data = "\n".join(
                question.answer.get("accepted", {}).get(lang, [])
            )
        form.kazakh_plain.data = bool(question.answer.get("kazakh_plain"))

    def check_editor(self, form: Any, languages: list[str]) -> bool:
        if self._accepted_lines(form, languages).get(languages[0]):
            return True
        field = getattr(form, f"accepted_{languages[0]}")
        field.errors = [_l("Give at least one accepted answer in the course's first language.")]
        return False

    def read_editor(self, form: Any, languages: list[str], question: Question | None) -> Content:
        answer: dict[str, Any] = {"accepted": self._accepted_lines(form, languages)}
        if form.kazakh_plain.data:
            answer["kazakh_plain"] = True
        return Content(answer=answer)

    @staticmethod
    def _accepted_lines(form: Any, languages: list[str]) -> dict[str, list[str]]:
        found = {}
        for lang in languages:
            lines = [
                line.strip()
                for line in (getattr(form, f"accepted_{lang}").data or "").splitlines()
                if line.strip()
            ]
            if lines:
                found[lang] = lines
        return found


KIND = Text()
