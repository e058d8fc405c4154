"""The question kinds read and score answers as the issue states: one number rule, synonyms
and Kazakh typed without Kazakh letters, ordering all or nothing, matching pair by pair,
and pages that never give away which part goes where."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lms.courses import kinds
from lms.courses.models import Question
from lms.learning import scoring
from lms.numbers import AmbiguousNumber, NotANumber, read_number

TOKENS = scoring.Tokens("test secret")

# The rule, as a table: what a person types and the number it is (None: not a number,
# "retype": ambiguous, the person is asked to type it again).
NUMBERS = [
    ("5 000 000", Decimal("5000000")),
    ("5\u00a0000\u00a0000", Decimal("5000000")),  # no-break spaces
    ("5\u202f000", Decimal("5000")),  # narrow no-break space
    ("5,000,000", Decimal("5000000")),  # two or more groups of three: thousands
    ("1,234,567.89", Decimal("1234567.89")),
    ("5,000.5", Decimal("5000.5")),  # beside a decimal point: thousands
    ("0,75", Decimal("0.75")),  # otherwise the decimal comma
    ("3,5", Decimal("3.5")),
    ("12,25", Decimal("12.25")),
    ("0,750", Decimal("0.750")),  # cannot be a thousands group: starts with 0
    ("1234,567", Decimal("1234.567")),  # four digits before: not a thousands group
    ("5 000,5", Decimal("5000.5")),  # spaces group, the comma is decimal
    ("0.75", Decimal("0.75")),
    ("5.000", Decimal("5.000")),  # a point is always the decimal point
    ("-2", Decimal("-2")),
    ("\u22122,5", Decimal("-2.5")),  # the minus sign
    ("1.5e-3", Decimal("0.0015")),
    ("  42 ", Decimal("42")),
    ("5,000", "retype"),
    ("12,345", "retype"),
    ("-999,999", "retype"),
    ("5,00,000", None),  # not groups of three
    ("5 00", None),
    ("5.000,5", None),
    ("1,5.2", None),
    ("5,000,00", None),
    ("abc", None),
    ("", None),
    ("nan", None),
    ("inf", None),
    ("--1", None),
]


@pytest.mark.parametrize(("typed", "expected"), NUMBERS)
def test_the_number_rule(typed: str, expected: Decimal | str | None) -> None:
    if expected is None:
        with pytest.raises(NotANumber):
            read_number(typed)
    elif expected == "retype":
        with pytest.raises(AmbiguousNumber):
            read_number(typed)
    else:
        assert read_number(typed) == expected


def question(kind: str, answer: dict, options: list | None = None, key: str = "q") -> Question:
    return Question(
        key=key, kind=kind, prompt={"en": "?"}, answer=answer, options=options or [], points=2
    )


def read(q: Question, *values: str) -> object:
    return scoring.read_answers([q], {f"q-{q.key}": list(values)}, tokens=TOKENS).get(q.key)


def test_a_numeric_question_asks_to_retype_an_ambiguous_number() -> None:
    q = question("numeric", {"value": 5000, "tolerance": 0})
    with pytest.raises(kinds.BadAnswer) as error:
        read(q, "5,000")
    assert error.value.reason == kinds.BadAnswer.AMBIGUOUS_NUMBER
    assert scoring.is_correct(q, read(q, "5 000"), language="en")
    assert scoring.is_correct(q, read(q, "5,000.0"), language="en")
    assert not scoring.is_correct(q, read(q, "5,0"), language="en")


def test_text_accepts_every_listed_synonym() -> None:
    q = question("text", {"accepted": {"en": ["machine learning", "ML"], "ru": ["МО"]}})
    for typed in ("Machine learning", "ml", " ML ", "мо"):
        assert scoring.is_correct(q, read(q, typed), language="en"), typed
    assert not scoring.is_correct(q, read(q, "deep learning"), language="en")


def test_kazakh_typed_without_kazakh_letters_only_when_the_author_allows_it() -> None:
    accepted = {"kk": ["машиналық оқыту", "Үлгі"]}
    strict = question("text", {"accepted": accepted})
    plain = question("text", {"accepted": accepted, "kazakh_plain": True})
    for typed in ("машиналык окыту", "МАШИНАЛЫК ОКЫТУ", "улги"):
        assert not scoring.is_correct(strict, read(strict, typed), language="kk"), typed
        assert scoring.is_correct(plain, read(plain, typed), language="kk"), typed
    # Every letter of the list: ә→а, ғ→г, қ→к, ң→н, ө→о, ұ/ү→у, һ→х, і→и.
    every = question("text", {"accepted": {"kk": ["әғқңөұүһі"]}, "kazakh_plain": True})
    assert scoring.is_correct(every, read(every, "агкноуухи"), language="kk")
    assert scoring.is_correct(every, read(every, "әғқңөұүһі"), language="kk")
    assert not scoring.is_correct(every, read(every, "агкноуухо"), language="kk")


STEPS = [{"key": k, "text": {"en": k.title()}} for k in ("collect", "split", "train", "check")]


def ordering() -> Question:
    return question("ordering", {"order": [s["key"] for s in STEPS]}, options=STEPS)


def placed(q: Question, order: list[str]) -> list[str]:
    """The values the page's select boxes send for ``order``."""
    return [f"{TOKENS.of(q, key)}:{place}" for place, key in enumerate(order, start=1)]


def test_ordering_is_all_or_nothing() -> None:
    q = ordering()
    right = ["collect", "split", "train", "check"]
    assert read(q, *placed(q, right)) == right
    result = scoring.score([q], {"q": right}, pass_mark=Decimal(1), language="en")
    assert result.score == 2 and result.passed
    swapped = ["collect", "train", "split", "check"]
    result = scoring.score([q], {"q": swapped}, pass_mark=Decimal("0.5"), language="en")
    assert result.score == 0 and not result.per_question["q"]["correct"]


def test_ordering_refuses_repeated_places_missing_steps_and_forged_values() -> None:
    q = ordering()
    values = placed(q, ["collect", "split", "train", "check"])
    repeated = [*values[:3], values[3].replace(":4", ":1")]
    for bad, reason in [
        (repeated, kinds.BadAnswer.REPEATED_PLACE),
        (values[:3], kinds.BadAnswer.REPEATED_PLACE),
        ([*values[:3], "collect:4"], kinds.BadAnswer.UNKNOWN_OPTION),  # a raw id, not a token
        ([*values[:3], values[3].replace(":4", ":9")], kinds.BadAnswer.UNKNOWN_OPTION),
        ([*values, values[0]], kinds.BadAnswer.TOO_MANY_VALUES),
    ]:
        with pytest.raises(kinds.BadAnswer) as error:
            read(q, *bad)
        assert error.value.reason == reason, bad


PAIRS = [
    {"key": k, "left": {"en": k}, "right": {"en": f"meaning of {k}"}}
    for k in ("label", "feature", "model", "signal")
]


def matching() -> Question:
    return question("matching", {"pairs": [p["key"] for p in PAIRS]}, options=PAIRS)


def chosen(q: Question, pairs: dict[str, str]) -> list[str]:
    return [
        f"{TOKENS.of(q, f'left:{left}')}:{TOKENS.of(q, f'right:{right}')}"
        for left, right in pairs.items()
    ]


def test_matching_earns_points_pair_by_pair() -> None:
    q = matching()
    all_right = {k: k for k in ("label", "feature", "model", "signal")}
    assert read(q, *chosen(q, all_right)) == all_right
    half = {"label": "label", "feature": "feature", "model": "signal", "signal": "model"}
    result = scoring.score(
        [q], {"q": read(q, *chosen(q, half))}, pass_mark=Decimal(1), language="en"
    )
    assert result.per_question["q"]["points"] == "1.00" and not result.per_question["q"]["correct"]
    # Three of four right: 2 × 3/4 = 1.5; one of three in another question rounds down.
    three = dict(all_right, signal="model")
    assert scoring.score([q], {"q": three}, pass_mark=Decimal(1), language="en").score == Decimal(
        "1.5"
    )
    q3 = question("matching", {"pairs": ["label", "feature", "model"]}, options=PAIRS[:3], key="m")
    q3.points = 1
    one = {"label": "label"}
    assert scoring.score([q3], {"m": one}, pass_mark=Decimal(1), language="en").score == Decimal(
        "0.33"
    )
    # Unanswered pairs earn nothing; a forged right item is refused.
    assert read(q, *chosen(q, {"label": "label"})) == {"label": "label"}
    with pytest.raises(kinds.BadAnswer):
        read(q, f"{TOKENS.of(q, 'left:label')}:label")


def test_the_page_never_shows_which_part_goes_where() -> None:
    q = matching()
    widget = kinds.get("matching").widget(q, tokens=TOKENS, seed="s")
    lefts = {w["token"] for w in widget["lefts"]}
    rights = {w["token"] for w in widget["rights"]}
    assert not lefts & rights, "a pair's two sides must not share a name"
    assert not any(p["key"] in token for p in PAIRS for token in lefts | rights)
    assert [w["text"]["en"] for w in widget["rights"]] != [p["right"]["en"] for p in PAIRS]
    steps = kinds.get("ordering").widget(ordering(), tokens=TOKENS, seed="s")["steps"]
    assert [s["text"]["en"] for s in steps] != [s["text"]["en"] for s in STEPS]
    # The same learner's same attempt sees the same order again; another key, other names.
    again = kinds.get("ordering").widget(ordering(), tokens=TOKENS, seed="s")["steps"]
    assert steps == again
    other = scoring.Tokens("another secret")
    assert kinds.get("ordering").widget(ordering(), tokens=other, seed="s")["steps"] != steps


def test_every_kind_is_registered_with_its_templates_and_schema_block() -> None:
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "lms" / "courses"
    schema = json.loads((root / "schema" / "quiz.schema.json").read_text("utf-8"))
    question_schema = schema["$defs"]["question"]
    assert question_schema["properties"]["kind"]["enum"] == kinds.names()
    covered = set()
    for block in question_schema["allOf"]:
        condition = block["if"]["properties"]["kind"]
        covered |= {condition["const"]} if "const" in condition else set(condition["enum"])
    assert covered == set(kinds.names())
    for kind in kinds.all_kinds():
        assert (root / "templates" / kind.answer_template).is_file(), kind.name
        assert (root / "templates" / kind.editor_template).is_file(), kind.name
