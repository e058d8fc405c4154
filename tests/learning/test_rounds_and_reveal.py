"""Rounds of attempts (nobody is locked out for good) and when marks and explanations show.

Time passes by moving the recorded attempts back: the server reads the clock as it is.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lms.learning import services
from lms.learning.models import QuizAttempt
from tests.learning.conftest import RIGHT

WRONG = {"q-capital": "almaty", "q-ml": ["teleport"], "q-pi": "1", "q-city": "Astana"}
EXPLANATION = "Astana has been the capital since 1997."


def submit(client, course, answers: dict, attempt: int):
    return client.post(
        f"/courses/{course.slug}/items/check/attempts", data={**answers, "attempt": str(attempt)}
    )


def age_attempts(session, enrollment, hours: float) -> None:
    """Move every attempt of the enrolment ``hours`` into the past."""
    for attempt in session.scalars(
        select(QuizAttempt).where(QuizAttempt.enrollment_id == enrollment.id)
    ):
        attempt.submitted_at = attempt.submitted_at - timedelta(hours=hours)
    session.flush()


def quiz_course(make_course, **settings):
    return make_course(items=[{"key": "check", "kind": "quiz", "pass_mark": "1", **settings}])


def test_a_new_round_opens_after_retry_hours(client, login, session, make_course, learner) -> None:
    course = quiz_course(make_course, max_attempts=2, retry_hours=24)
    enrollment = services.enrol(session, user=learner, course=course, language="en")
    login(learner)
    assert submit(client, course, WRONG, 1).status_code == 303
    assert submit(client, course, WRONG, 2).status_code == 303
    refused = submit(client, course, RIGHT, 3)
    assert refused.status_code == 400
    assert "A new round opens on" in refused.get_data(as_text=True)
    page = client.get(f"/courses/{course.slug}/items/check").get_data(as_text=True)
    assert "Submit answers" not in page and "A new round opens on" in page
    # 23 hours later: still closed.
    age_attempts(session, enrollment, 23)
    assert submit(client, course, RIGHT, 3).status_code == 400
    # A day after the last attempt: a fresh round of two.
    age_attempts(session, enrollment, 1.01)
    page = client.get(f"/courses/{course.slug}/items/check").get_data(as_text=True)
    assert "Submit answers" in page and "2 attempts left." in page
    assert submit(client, course, WRONG, 3).status_code == 303
    assert submit(client, course, RIGHT, 4).status_code == 303
    assert submit(client, course, RIGHT, 5).status_code == 400, "the second round is used up"
    rows = services.progress_by_item(session, enrollment=enrollment).values()
    assert [row.passed for row in rows] == [True]


def test_retry_hours_is_the_quizs_own(client, login, session, make_course, learner) -> None:
    course = quiz_course(make_course, max_attempts=1, retry_hours=2)
    enrollment = services.enrol(session, user=learner, course=course, language="en")
    login(learner)
    assert submit(client, course, WRONG, 1).status_code == 303
    assert submit(client, course, WRONG, 2).status_code == 400
    age_attempts(session, enrollment, 2.01)
    assert submit(client, course, WRONG, 2).status_code == 303


def test_reveal_after_pass_or_last_attempt_hides_marks_until_then(
    client, login, session, make_course, learner
) -> None:
    course = quiz_course(make_course, max_attempts=3, reveal="after-pass-or-last-attempt")
    services.enrol(session, user=learner, course=course, language="en")
    login(learner)
    first = client.get(submit(client, course, WRONG, 1).headers["Location"]).get_data(as_text=True)
    assert "0 of 4 points." in first and "Not passed" in first, "the total is always shown"
    assert EXPLANATION not in first and "Incorrect" not in first and "Correct answer:" not in first
    assert "Which answers were right, and why, is shown once you pass" in first
    second = client.get(submit(client, course, WRONG, 2).headers["Location"]).get_data(as_text=True)
    assert EXPLANATION not in second
    # The last attempt of the round shows everything.
    third = client.get(submit(client, course, WRONG, 3).headers["Location"]).get_data(as_text=True)
    assert EXPLANATION in third and "Incorrect" in third and "Correct answer:" in third
    assert "Astana" in third


def test_reveal_after_a_pass(client, login, session, make_course, learner) -> None:
    course = quiz_course(make_course, max_attempts=3, reveal="after-pass-or-last-attempt")
    services.enrol(session, user=learner, course=course, language="en")
    login(learner)
    first_url = submit(client, course, WRONG, 1).headers["Location"]
    assert EXPLANATION not in client.get(first_url).get_data(as_text=True)
    passed = client.get(submit(client, course, RIGHT, 2).headers["Location"]).get_data(as_text=True)
    assert "Passed" in passed and EXPLANATION in passed and "✓" in passed
    # Once passed, earlier attempts open too: nothing is left to find by elimination.
    assert EXPLANATION in client.get(first_url).get_data(as_text=True)


def test_reveal_always_shows_explanations_after_every_attempt(
    client, login, session, make_course, learner
) -> None:
    course = quiz_course(make_course, max_attempts=3)
    services.enrol(session, user=learner, course=course, language="en")
    login(learner)
    first = client.get(submit(client, course, WRONG, 1).headers["Location"]).get_data(as_text=True)
    assert EXPLANATION in first and "Incorrect" in first
    assert "Correct answer:" not in first, "the keys wait for the end of the round"


def test_unlimited_attempts_never_close(client, login, session, make_course, learner) -> None:
    course = quiz_course(make_course)
    services.enrol(session, user=learner, course=course, language="en")
    login(learner)
    for n in range(1, 6):
        assert submit(client, course, WRONG, n).status_code == 303
    page = client.get(f"/courses/{course.slug}/items/check").get_data(as_text=True)
    assert "Submit answers" in page and "Attempt 5" in page and "attempts left" not in page
