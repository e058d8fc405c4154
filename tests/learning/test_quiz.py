"""Quizzes: scored on the server, the best attempt counts, limits, bad input changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from lms.courses.models import Question
from lms.learning import scoring, services
from lms.learning.models import ItemProgress, QuizAttempt
from tests.learning.conftest import RIGHT


def question(kind: str, answer: dict, options=()) -> Question:
    return Question(
        key="q",
        kind=kind,
        prompt={"en": "?"},
        answer=answer,
        options=[{"key": k, "text": {"en": k}} for k in options],
        points=1,
    )


TOKENS = scoring.Tokens("test secret")


def verdict(q: Question, *values: str, language: str = "en") -> bool:
    answers = scoring.read_answers([q], {"q-q": list(values)}, tokens=TOKENS)
    return scoring.is_correct(q, answers.get("q"), language=language)


def test_single_choice_needs_the_exact_key() -> None:
    q = question("single", {"keys": ["b"]}, options="abc")
    assert verdict(q, "b") and not verdict(q, "a") and not verdict(q)


def test_multiple_choice_needs_exactly_the_correct_set() -> None:
    q = question("multiple", {"keys": ["a", "b"]}, options="abc")
    assert verdict(q, "a", "b") and verdict(q, "b", "a")
    assert not verdict(q, "a"), "a subset earns nothing"
    assert not verdict(q, "a", "b", "c"), "a superset earns nothing"


@pytest.mark.parametrize(
    ("typed", "right"),
    [
        ("3.5", True),
        ("3,5", True),
        (" 3.50 ", True),
        ("3.505", True),
        ("3.495", True),
        ("3.52", False),
        ("-3.5", False),
        ("35", False),
    ],
)
def test_numeric_within_the_absolute_tolerance(typed: str, right: bool) -> None:
    q = question("numeric", {"value": 3.5, "tolerance": 0.01})
    assert verdict(q, typed) is right


def test_numeric_accepts_grouped_thousands_and_exact_match_without_tolerance() -> None:
    q = question("numeric", {"value": 5000000, "tolerance": 0})
    assert verdict(q, "5 000 000") and verdict(q, "5000000") and not verdict(q, "5000001")


@pytest.mark.parametrize("typed", ["abc", "1,5.2", "nan", "inf", "1e999999999", "--1"])
def test_numeric_that_is_not_a_number_is_bad_input(typed: str) -> None:
    q = question("numeric", {"value": 1, "tolerance": 0})
    with pytest.raises(scoring.BadAnswer) as error:
        scoring.read_answers([q], {"q-q": [typed]}, tokens=TOKENS)
    assert error.value.reason == scoring.BadAnswer.NOT_A_NUMBER


def test_text_ignores_case_and_surrounding_space_in_any_course_language() -> None:
    q = question("text", {"accepted": {"en": ["Machine learning"], "ru": ["Машинное обучение"]}})
    assert verdict(q, "  machine LEARNING ") and verdict(q, "Machine  learning")
    assert verdict(q, "МАШИННОЕ ОБУЧЕНИЕ", language="en"), "another course language counts"
    assert not verdict(q, "machine learn")


def test_score_and_pass_mark() -> None:
    q1 = question("single", {"keys": ["a"]}, options="ab")
    q2 = Question(
        key="r",
        kind="text",
        prompt={"en": "?"},
        options=[],
        points=3,
        answer={"accepted": {"en": ["yes"]}},
    )
    result = scoring.score([q1, q2], {"q": "a"}, pass_mark=Decimal("0.5"), language="en")
    assert (result.score, result.max_score, result.passed) == (1, 4, False)
    result = scoring.score([q1, q2], {"r": "Yes"}, pass_mark=Decimal("0.75"), language="en")
    assert (result.score, result.passed) == (3, True)
    assert result.per_question["q"]["correct"] is False and result.per_question["r"]["correct"]


def test_a_quiz_without_points_is_never_passed() -> None:
    result = scoring.score([], {}, pass_mark=Decimal("0.5"), language="en")
    assert (result.score, result.max_score, result.passed) == (0, 0, False)


def test_an_empty_quiz_does_not_complete_the_course(
    client, login, session, make_course, learner
) -> None:
    course = make_course(items=[{"key": "check", "kind": "quiz", "questions": []}])
    enrollment = services.enrol(session, user=learner, course=course, language="en")
    login(learner)
    response = submit(client, course, {})
    assert response.status_code == 303
    assert "Not passed" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert progress(session, enrollment).passed is False
    session.refresh(enrollment)
    assert enrollment.completed_at is None


def attempts(session, enrollment) -> int:
    return session.scalar(
        select(func.count(QuizAttempt.id)).where(QuizAttempt.enrollment_id == enrollment.id)
    )


def progress(session, enrollment, key="check") -> ItemProgress | None:
    item = next(i for i in enrollment.course.items if i.key == key)
    return session.scalar(
        select(ItemProgress).where(
            ItemProgress.enrollment_id == enrollment.id, ItemProgress.item_id == item.id
        )
    )


def submit(client, course, answers: dict, attempt: int | str = 1):
    return client.post(
        f"/courses/{course.slug}/items/check/attempts", data={**answers, "attempt": str(attempt)}
    )


def test_quiz_page_never_contains_the_answers(client, login, course, enrolled, learner) -> None:
    login(learner)
    html = client.get(f"/courses/{course.slug}/items/check").get_data(as_text=True)
    assert 'type="radio" name="q-capital" value="astana"' in html
    assert 'type="checkbox" name="q-ml" value="supervised"' in html
    assert 'inputmode="decimal"' in html and 'name="q-city"' in html
    assert (
        'name="attempt" type="hidden" value="1"' in html
        or 'type="hidden" name="attempt" value="1"' in html
    )
    assert "Astana has been the capital" not in html, "no explanation before an attempt"
    assert "<span>Supervised</span>" in html and "Half of seven?" in html
    form = html[html.index('<form method="post" action="/courses/') :]
    form = form[: form.index("</form>")]
    for secret in ("accepted", "tolerance", "3.5", 'Almaty"', "keys"):
        assert secret not in form, secret


def test_an_attempt_is_scored_and_shown_with_explanations(
    client, login, session, course, enrolled, learner
) -> None:
    login(learner)
    response = submit(
        client,
        course,
        {"q-capital": "almaty", "q-ml": ["supervised"], "q-pi": "3,5", "q-city": "  ALMATY "},
    )
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 of 4 points." in html and "Not passed" in html
    assert html.count("Incorrect") == 2 and html.count("✓ Correct") == 2
    assert "Astana has been the capital since 1997." in html
    assert "Correct answer:" not in html, "keys stay hidden while attempts remain"
    row = progress(session, enrolled)
    assert row.best_score == 2 and row.max_score == 4 and not row.passed and row.attempts == 1


def test_the_best_attempt_counts_and_a_pass_is_never_undone(
    client, login, session, course, enrolled, learner
) -> None:
    login(learner)
    assert submit(client, course, {"q-capital": "almaty"}, 1).status_code == 303
    assert submit(client, course, RIGHT, 2).status_code == 303
    assert submit(client, course, {}, 3).status_code == 303
    row = progress(session, enrolled)
    assert (row.best_score, row.passed, row.attempts) == (4, True, 3)
    html = client.get(f"/courses/{course.slug}/items/check").get_data(as_text=True)
    assert "Your best result: 4 of 4 points." in html and html.count("Attempt ") >= 3
    assert "4 of 4 points" in client.get(f"/courses/{course.slug}").get_data(as_text=True)


def test_a_round_of_attempts_is_enforced_and_keys_revealed_at_its_end(
    client, login, session, make_course, learner
) -> None:
    course = make_course(
        items=[{"key": "check", "kind": "quiz", "max_attempts": 2, "pass_mark": "1"}]
    )
    enrollment = services.enrol(session, user=learner, course=course, language="en")
    login(learner)
    assert submit(client, course, {"q-capital": "almaty"}, 1).status_code == 303
    html = client.get(f"/courses/{course.slug}/items/check").get_data(as_text=True)
    assert "1 attempt left." in html
    last = submit(client, course, {"q-capital": "almaty"}, 2)
    assert last.status_code == 303
    result = client.get(last.headers["Location"]).get_data(as_text=True)
    assert "Correct answer:" in result and "Astana" in result and "Try again" not in result
    response = submit(client, course, RIGHT, 3)
    assert response.status_code == 400
    assert "You have used every attempt of this round." in response.get_data(as_text=True)
    assert attempts(session, enrollment) == 2
    assert not progress(session, enrollment).passed
    page = client.get(f"/courses/{course.slug}/items/check").get_data(as_text=True)
    assert "Submit answers" not in page


@pytest.mark.parametrize(
    ("answers", "attempt", "message"),
    [
        ({**RIGHT, "q-injected": "1"}, 1, "not in this quiz"),
        ({**RIGHT, "q-capital": "bishkek"}, 1, "not one of the question"),
        ({**RIGHT, "q-ml": ["supervised", "ghost"]}, 1, "not one of the question"),
        ({**RIGHT, "q-pi": "three and a half"}, 1, "Answer with a number"),
        ({**RIGHT, "q-capital": ["astana", "almaty"]}, 1, "Give one answer"),
        (RIGHT, 7, "out of date"),
        (RIGHT, "1; drop table", "out of date"),
        (RIGHT, "", "out of date"),
    ],
)
def test_bad_input_is_400_and_changes_nothing(
    client, login, session, course, enrolled, learner, answers, attempt, message
) -> None:
    login(learner)
    response = submit(client, course, answers, attempt)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert attempts(session, enrolled) == 0
    assert progress(session, enrolled) is None
    # The page still works afterwards, and a proper attempt goes through as the first.
    assert submit(client, course, RIGHT, 1).status_code == 303
    assert attempts(session, enrolled) == 1


def test_a_form_sent_twice_counts_once(client, login, session, course, enrolled, learner) -> None:
    login(learner)
    assert submit(client, course, RIGHT, 1).status_code == 303
    assert submit(client, course, RIGHT, 1).status_code == 400
    assert attempts(session, enrolled) == 1


def test_another_learner_cannot_see_my_attempt(
    client, login, session, course, enrolled, learner, make_user
) -> None:
    login(learner)
    mine = submit(client, course, RIGHT, 1).headers["Location"]
    assert client.get(mine).status_code == 200
    client.post("/logout")
    other = make_user()
    login(other)
    # Not enrolled: sent to the course page; enrolled: my attempt is still not theirs.
    assert client.get(mine).status_code == 303
    services.enrol(session, user=other, course=course, language="en")
    response = client.get(mine)
    assert response.status_code == 404
    attempt_id = int(mine.rsplit("/", 1)[1])
    for guess in (attempt_id, attempt_id + 1, attempt_id - 1):
        assert client.get(f"/courses/{course.slug}/items/check/attempts/{guess}").status_code == 404
    page = client.get(f"/courses/{course.slug}/items/check").get_data(as_text=True)
    assert "Your attempts" not in page and "Your best result" not in page
