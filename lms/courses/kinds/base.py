"""What every question kind provides: its part of a package, of the learner's page, of
scoring and of the studio's editor. A kind is one module in ``lms/courses/kinds/`` that
defines ``KIND``, an instance of a ``QuestionKind`` subclass, plus its two templates
``questionkinds/<name>/answer.html`` (the learner's widget) and
``questionkinds/<name>/editor.html`` (its part of the studio's question form), and its
block in ``lms/courses/schema/quiz.schema.json``. CONTRIBUTING.md says how to add one;
courses/README.md documents each kind for authors.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from lms.courses.models import Question

KeyPath = tuple[str | int, ...]
TextPicker = Callable[[Mapping[str, str] | None], str]


class BadAnswer(Exception):
    """The submitted answer is not one the quiz's page could have produced, or the learner
    must type it again (``reason`` names which; views turn it into a sentence)."""

    UNKNOWN_QUESTION = "unknown_question"
    UNKNOWN_OPTION = "unknown_option"
    NOT_A_NUMBER = "not_a_number"
    AMBIGUOUS_NUMBER = "ambiguous_number"
    TOO_MANY_VALUES = "too_many_values"
    TOO_LONG = "too_long"
    REPEATED_PLACE = "repeated_place"

    def __init__(self, reason: str, question: str) -> None:
        super().__init__(f"{reason}: {question}")
        self.reason = reason
        self.question = question


class PackageReader(Protocol):
    """What a kind may ask of the package reader while it reads one question."""

    def at(self, path: KeyPath, message: str) -> None:
        """Report a problem at ``path`` of the quiz file."""

    def need_first_language(self, path: KeyPath, texts: Mapping[str, Any]) -> None:
        """Report ``texts`` (at ``path``) if it has no text in the course's first language."""


@dataclass
class Content:
    """What a kind keeps on a ``Question``: ``options`` the learner sees, ``answer`` never."""

    options: list[dict[str, Any]] = field(default_factory=list)
    answer: dict[str, Any] = field(default_factory=dict)


class Tokens:
    """Opaque names for a question's parts on the learner's page, keyed by the server's
    secret: the page must not show which item goes where (ids such as "step-1" would), and a
    learner who knows the code still cannot work the names back."""

    def __init__(self, secret: bytes | str) -> None:
        self.secret = secret.encode("utf-8") if isinstance(secret, str) else secret

    def of(self, question: Question, key: str) -> str:
        message = f"{question.quiz_id}:{question.key}:{key}".encode()
        return "t" + hmac.new(self.secret, message, hashlib.sha256).hexdigest()[:15]

    def table(self, question: Question, keys: Sequence[str]) -> dict[str, str]:
        """Key by token, for reading a form back."""
        return {self.of(question, key): key for key in keys}


def fresh_key(prefix: str, taken: set[str]) -> str:
    """An id never given before. Random, because a quiz keeps no record of the ids it lost,
    yet learners' attempts may still hold them."""
    while (key := f"{prefix}-{secrets.token_hex(4)}") in taken:
        pass
    return key


def carried_keys(
    existing: Sequence[Mapping[str, Any]], carried: Sequence[str | None], *, prefix: str
) -> list[str]:
    """Ids for the rows an editor sends, each carrying its own id or None: an existing row
    keeps its id (attempts record it); any other gets ``<prefix><n>`` on a new question and a
    fresh random id on an existing one."""
    known = {str(row["key"]) for row in existing}
    keys: list[str] = []
    for n, key in enumerate(carried, start=1):
        if key in known and key not in keys:
            keys.append(key)
        elif not existing:
            keys.append(f"{prefix}{n}")
        else:
            keys.append(fresh_key(prefix, known | set(keys)))
    return keys


def shuffled(keys: Sequence[str], seed: str) -> list[str]:
    """``keys`` in an order fixed by ``seed`` and never the given one (when there is a choice):
    the same page shows the same order again, and no list is shown already solved."""
    order = list(keys)
    if len(order) < 2:
        return order
    random.Random(seed).shuffle(order)
    if order == list(keys):
        order = order[1:] + order[:1]
    return order


LANGUAGE_ORDER = ("kk", "ru", "en")


def texts_in_order(texts: Mapping[str, Any] | None) -> dict[str, Any]:
    """Texts per language in the canonical order of a package (kk, ru, en)."""
    texts = texts or {}
    return {lang: texts[lang] for lang in LANGUAGE_ORDER if lang in texts}


class QuestionKind:
    """One kind of question. Subclasses set the class attributes and override the methods
    their kind needs; the defaults suit a kind whose answer is one typed value."""

    name: ClassVar[str]
    # Shown in the studio (kind badge, "add a question" buttons, the kind select).
    label: ClassVar[Any]
    # Keys a package's question of this kind may have besides the common ones.
    package_keys: ClassVar[tuple[str, ...]] = ()
    # WTForms fields of this kind's part of the studio's question form (a mixin class).
    editor: ClassVar[type] = object
    # Where the studio lists the kind (then by name).
    position: ClassVar[int] = 100
    # How points are earned: "all-or-nothing" or "per-part" (courses/README.md says why).
    scoring: ClassVar[str] = "all-or-nothing"

    @property
    def answer_template(self) -> str:
        return f"questionkinds/{self.name}/answer.html"

    @property
    def editor_template(self) -> str:
        return f"questionkinds/{self.name}/editor.html"

    # -- packages -----------------------------------------------------------------------
    def read_package(
        self, reader: PackageReader, path: KeyPath, question: Mapping[str, Any]
    ) -> Content:
        """The content of a package's question (checked by the schema already); problems go
        to ``reader``."""
        raise NotImplementedError

    def write_package(self, question: Question) -> dict[str, Any]:
        """The kind's keys of ``question`` for its quiz file, in canonical order (they follow
        ``prompt`` and ``explanation``; plain values are written before tables anyway)."""
        raise NotImplementedError

    # -- the learner's page -------------------------------------------------------------
    def widget(self, question: Question, *, tokens: Tokens, seed: str) -> dict[str, Any]:
        """What the answer template needs beyond the question (a shuffled order, say);
        ``seed`` is the same for one learner's one attempt."""
        return {}

    def read_answer(self, question: Question, values: list[str], *, tokens: Tokens) -> Any:
        """The answer the form's non-blank ``values`` stand for; ``BadAnswer`` if they are not
        ones the page could send, or the learner must retype them."""
        raise NotImplementedError

    def credit(self, question: Question, answer: Any, *, language: str) -> Decimal:
        """The fraction of the points ``answer`` earns, from 0 to 1."""
        raise NotImplementedError

    def describe_answer(self, question: Question, answer: Any, text: TextPicker) -> str:
        """The learner's answer as they saw it, for the result page."""
        return str(answer)

    def describe_expected(self, question: Question, text: TextPicker, language: str) -> str:
        """The right answer, for the result page."""
        raise NotImplementedError

    # -- the studio ---------------------------------------------------------------------
    def fill_editor(self, form: Any, question: Question) -> None:
        """Put ``question``'s content into the editor's fields."""

    def check_editor(self, form: Any, languages: list[str]) -> bool:
        """The kind's rules on the editor's fields; errors go on the fields."""
        return True

    def read_editor(self, form: Any, languages: list[str], question: Question | None) -> Content:
        """The content the editor's fields describe (``question``: the one being edited)."""
        raise NotImplementedError


def single_value(question: Question, values: list[str]) -> str:
    """The one value a kind with one field expects."""
    if len(values) > 1:
        raise BadAnswer(BadAnswer.TOO_MANY_VALUES, question.key)
    return values[0]
