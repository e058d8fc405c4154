"""Completion: one immutable fact with the learner's attributes then; dashboard shows it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from lms.learning import services
from lms.learning.models import Enrollment
from lms.stats.models import Completion, Milestone
from tests.learning.conftest import RIGHT, add_item


def completions(session, user) -> list[Completion]:
    return list(session.scalars(select(Completion).where(Completion.user_id == user.id)))


def item(course, key):
    return next(i for i in course.items if i.key == key)


def finish(client, course) -> None:
    """Read the required lesson and pass the quiz through the pages."""
    assert client.post(f"/courses/{course.slug}/items/intro/done").status_code == 303
    assert (
        client.post(
            f"/courses/{course.slug}/items/check/attempts", data={**RIGHT, "attempt": "1"}
        ).status_code
        == 303
    )


def test_completion_writes_one_fact_with_the_attributes_of_that_moment(
    client, login, session, make_course, make_user
) -> None:
    course = make_course(tier="specialist")
    learner = make_user(region="KZ-71", sector="P", sex="male", birth_year=2001)
    services.enrol(session, user=learner, course=course, language="ru")
    login(learner)
    assert client.post(f"/courses/{course.slug}/items/intro/done").status_code == 303
    assert completions(session, learner) == [], "the quiz is still required"
    response = client.post(
        f"/courses/{course.slug}/items/check/attempts",
        data={**RIGHT, "attempt": "1"},
        follow_redirects=True,
    )
    assert "Congratulations: you have completed this course!" in response.get_data(as_text=True)
    [fact] = completions(session, learner)
    this_year = datetime.now(UTC).year
    expected_band = "18-24" if this_year - 2001 <= 24 else "25-34"
    assert (
        fact.region,
        fact.sector,
        fact.sex,
        fact.age_band,
        fact.language,
        fact.tier,
        fact.course_id,
    ) == ("KZ-71", "P", "male", expected_band, "ru", "specialist", course.id)
    milestone = session.get(Milestone, learner.person_key)
    assert milestone.first_completion_id == fact.id
    assert milestone.specialist_completion_id == fact.id
    # The profile changes afterwards; the fact does not.
    learner.region, learner.sector, learner.sex, learner.birth_year = "KZ-19", "A", "female", 1960
    session.flush()
    session.expire_all()
    [again] = completions(session, learner)
    assert (again.region, again.sector, again.sex, again.age_band) == (
        "KZ-71",
        "P",
        "male",
        expected_band,
    )
    # More results after completion write no second fact.
    assert (
        client.post(
            f"/courses/{course.slug}/items/check/attempts", data={**RIGHT, "attempt": "2"}
        ).status_code
        == 303
    )
    assert client.post(f"/courses/{course.slug}/items/extra/done").status_code == 303
    assert len(completions(session, learner)) == 1


def test_optional_items_are_not_needed(session, course, enrolled, learner) -> None:
    services.record_item_result(
        session,
        enrollment=enrolled,
        item=item(course, "intro"),
        score=None,
        max_score=None,
        passed=True,
    )
    services.record_item_result(
        session, enrollment=enrolled, item=item(course, "check"), score=3, max_score=4, passed=True
    )
    assert enrolled.completed_at is not None
    assert len(completions(session, learner)) == 1
    summary = services.course_progress(session, enrollment=enrolled)
    assert (summary.required_passed, summary.required_total) == (2, 2)


def test_a_failed_result_never_undoes_a_pass(session, course, enrolled) -> None:
    quiz = item(course, "check")
    services.record_item_result(
        session, enrollment=enrolled, item=quiz, score=4, max_score=4, passed=True
    )
    row = services.record_item_result(
        session, enrollment=enrolled, item=quiz, score=Decimal("0.5"), max_score=4, passed=False
    )
    assert row.passed and row.best_score == 4 and row.attempts == 2


def test_a_new_required_item_keeps_a_recorded_completion(
    client, login, session, course, enrolled, learner
) -> None:
    login(learner)
    finish(client, course)
    completed_at = enrolled.completed_at
    assert completed_at is not None
    add_item(session, course, {"key": "late", "kind": "lesson", "required": True})
    session.expire_all()
    enrollment = session.get(Enrollment, enrolled.id)
    assert enrollment.completed_at == completed_at
    services.record_item_result(
        session,
        enrollment=enrollment,
        item=item(course, "extra"),
        score=None,
        max_score=None,
        passed=True,
    )
    assert len(completions(session, learner)) == 1
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Completed courses" in html and f"/courses/{course.slug}" in html
    assert "Completed on" in html and "No course in progress right now." in html
    page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert "2 of 3 required items" in page and "Completed on" in page


def test_assignment_results_count_toward_completion(session, make_course, learner) -> None:
    course = make_course(items=[{"key": "nb", "kind": "assignment"}])
    enrollment = services.enrol(session, user=learner, course=course, language="en")
    notebook = item(course, "nb")
    services.record_item_result(
        session, enrollment=enrollment, item=notebook, score=2, max_score=10, passed=False
    )
    assert enrollment.completed_at is None
    at = datetime(2026, 3, 1, 20, 30, tzinfo=UTC)  # already 2 March in Almaty
    row = services.record_item_result(
        session, enrollment=enrollment, item=notebook, score=9, max_score=10, passed=True, at=at
    )
    assert row.best_score == 9 and row.passed_at == at
    [fact] = completions(session, learner)
    assert fact.completed_at == at and str(fact.day) == "2026-03-02"
    assert enrollment.completed_at == at
    assert enrollment.last_active_at >= at, "a late-arriving grade never moves it back"


def test_completion_issues_a_certificate(session, course, enrolled, learner) -> None:
    from lms.certificates.models import Certificate

    for key, score in (("intro", None), ("check", 4)):
        services.record_item_result(
            session,
            enrollment=enrolled,
            item=item(course, key),
            score=score,
            max_score=4 if score else None,
            passed=True,
        )
    [fact] = completions(session, learner)
    assert session.scalar(select(Certificate).where(Certificate.completion_id == fact.id))


def test_dashboard_shows_progress_next_item_and_completions(
    client, login, session, make_course, learner
) -> None:
    started = make_course(title={"en": "Started course"})
    done = make_course(title={"en": "Finished course"})
    services.enrol(session, user=learner, course=started, language="en")
    services.enrol(session, user=learner, course=done, language="en")
    login(learner)
    assert client.post(f"/courses/{started.slug}/items/intro/done").status_code == 303
    finish(client, done)
    html = client.get("/dashboard").get_data(as_text=True)
    current, completed = html.split("Completed courses", 1)
    assert "Started course" in current and "1 of 2 required items" in current
    assert f'<progress id="progress-{started.id}" value="1" max="2">' in current
    assert f'href="/courses/{started.slug}/items/check"' in current, "the next item"
    assert "Finished course" in completed and "Completed on" in completed
    assert "Finished course" not in current


def test_dashboard_is_for_logged_in_users(client) -> None:
    response = client.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
