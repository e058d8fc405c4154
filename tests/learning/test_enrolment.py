"""The course page and enrolment: idempotent, prerequisites explained, language chosen."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from lms.courses.models import course_instructor
from lms.learning import services
from lms.learning.models import Enrollment


def enrollments(session, user) -> list[Enrollment]:
    return list(session.scalars(select(Enrollment).where(Enrollment.user_id == user.id)))


def selected_language(html: str) -> str:
    match = re.search(r'<option selected value="(\w+)"|<option value="(\w+)" selected', html)
    assert match, "the language select has a chosen option"
    return match.group(1) or match.group(2)


def test_enrol_twice_gives_one_enrolment(session, course, learner) -> None:
    first = services.enrol(session, user=learner, course=course, language="en")
    second = services.enrol(session, user=learner, course=course, language="ru")
    assert first.id == second.id and second.language == "en"
    assert len(enrollments(session, learner)) == 1


def test_enrol_through_the_page_twice_stores_one_enrolment(
    client, login, session, course, learner
) -> None:
    login(learner)
    for _ in range(2):
        response = client.post(f"/courses/{course.slug}/enrol", data={"language": "ru"})
        assert response.status_code == 303
        assert response.headers["Location"].endswith(f"/courses/{course.slug}")
    assert [e.language for e in enrollments(session, learner)] == ["ru"]
    html = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert "You are studying this course in" in html and "Русский" in html
    assert "0 of 2 required items" in html
    assert '<progress id="course-progress" value="0" max="2">' in html


def test_prerequisite_not_met_is_explained_and_nothing_stored(
    client, login, session, make_course, learner
) -> None:
    basics = make_course(title={"en": "AI Basics", "ru": "Основы ИИ"})
    advanced = make_course(prerequisites=[basics])
    login(learner)
    page = client.get(f"/courses/{advanced.slug}").get_data(as_text=True)
    assert "Prerequisites" in page and "AI Basics" in page and "Not completed yet" in page
    response = client.post(
        f"/courses/{advanced.slug}/enrol", data={"language": "en"}, follow_redirects=True
    )
    html = response.get_data(as_text=True)
    assert "Complete these courses first: «AI Basics»." in html
    assert enrollments(session, learner) == []
    with pytest.raises(services.PrerequisitesNotMet) as error:
        services.enrol(session, user=learner, course=advanced, language="en")
    assert [c.slug for c in error.value.missing] == [basics.slug]
    # Once the prerequisite is completed, enrolment goes through.
    done = services.enrol(session, user=learner, course=basics, language="en")
    done.completed_at = datetime.now(UTC)
    session.flush()
    assert services.enrol(session, user=learner, course=advanced, language="en").id


@pytest.mark.parametrize(
    ("ui", "languages", "expected"),
    [
        ("ru", ["en", "ru"], "ru"),
        ("en", ["en", "ru"], "en"),
        ("en", ["kk"], "kk"),
        ("kk", ["ru", "en"], "ru"),
    ],
)
def test_default_language_is_the_ui_language_when_the_course_has_it(
    client, login, make_user, make_course, ui, languages, expected
) -> None:
    course = make_course(languages=languages, title={code: f"T-{code}" for code in languages})
    login(make_user(locale=ui))
    html = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert selected_language(html) == expected
    # Before enrolment, content is shown in the UI language when the course has it.
    assert f"T-{ui if ui in languages else languages[0]}" in html


def test_language_must_be_one_of_the_course(client, login, session, course, learner) -> None:
    login(learner)
    response = client.post(f"/courses/{course.slug}/enrol", data={"language": "kk"})
    assert response.status_code == 400
    assert "Choose one of the languages this course is taught in." in response.get_data(
        as_text=True
    )
    assert enrollments(session, learner) == []
    with pytest.raises(services.LanguageNotOffered):
        services.enrol(session, user=learner, course=course, language="de")


def test_anonymous_visitor_sees_the_course_and_a_login_link(client, course) -> None:
    kazakh = client.get(f"/courses/{course.slug}", headers={"Accept-Language": "kk"})
    assert "Жазылу үшін кіріңіз" in kazakh.get_data(as_text=True)
    response = client.get(f"/courses/{course.slug}", headers={"Accept-Language": "en"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Log in to enrol" in html and "/login?next=" in html
    assert "Intro" in html and "Optional" in html and "Required" in html
    assert 'action="/courses/' not in html, "no enrol form for anonymous visitors"
    response = client.post(f"/courses/{course.slug}/enrol", data={"language": "en"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_drafts_are_404_for_learners_and_anonymous(
    client, login, session, make_course, make_user, learner
) -> None:
    owner = make_user(roles=["instructor"])
    draft = make_course(published=False, owner_id=owner.id)
    assert client.get(f"/courses/{draft.slug}").status_code == 404
    login(learner)
    assert client.get(f"/courses/{draft.slug}").status_code == 404
    assert client.get(f"/courses/{draft.slug}/items/intro").status_code == 404
    assert client.post(f"/courses/{draft.slug}/enrol", data={"language": "en"}).status_code == 404
    assert enrollments(session, learner) == []
    with pytest.raises(services.CourseNotOpen):
        services.enrol(session, user=learner, course=draft, language="en")


@pytest.mark.parametrize("who", ["owner", "co-instructor", "admin"])
def test_course_staff_may_preview_a_draft(
    client, login, session, make_course, make_user, who
) -> None:
    owner = make_user(roles=["instructor"])
    draft = make_course(published=False, owner_id=owner.id)
    viewer = {
        "owner": owner,
        "co-instructor": make_user(roles=["instructor"]),
        "admin": make_user(roles=["admin"]),
    }[who]
    if who == "co-instructor":
        session.execute(course_instructor.insert().values(course_id=draft.id, user_id=viewer.id))
    login(viewer)
    html = client.get(f"/courses/{draft.slug}").get_data(as_text=True)
    assert "Draft: only this course" in html
    lesson = client.get(f"/courses/{draft.slug}/items/intro")
    assert lesson.status_code == 200 and "Preview" in lesson.get_data(as_text=True)
    assert "Mark as done" not in lesson.get_data(as_text=True)


def test_another_instructor_cannot_preview_a_draft(client, login, make_course, make_user) -> None:
    draft = make_course(published=False, owner_id=make_user(roles=["instructor"]).id)
    login(make_user(roles=["instructor"]))
    assert client.get(f"/courses/{draft.slug}").status_code == 404


def test_enrol_needs_the_csrf_token(app_settings, request, session, course, learner) -> None:
    app_settings["WTF_CSRF_ENABLED"] = True
    client = request.getfixturevalue("app").test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'type="hidden" name="csrf_token" value="([^"]+)"', page
    )
    from tests.conftest import PASSWORD

    client.post(
        "/login", data={"email": learner.email, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert client.post(f"/courses/{course.slug}/enrol", data={"language": "en"}).status_code == 400
    assert (
        session.scalar(select(func.count(Enrollment.id)).where(Enrollment.user_id == learner.id))
        == 0
    )
    html = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert (
        client.post(
            f"/courses/{course.slug}/enrol", data={"language": "en", "csrf_token": token.group(1)}
        ).status_code
        == 303
    )
    assert len(enrollments(session, learner)) == 1


def test_an_annulled_completion_satisfies_no_prerequisite(session, make_course, learner) -> None:
    from lms.stats import services as stats
    from lms.stats.models import Completion

    basics = make_course()
    advanced = make_course(prerequisites=[basics])
    enrollment = services.enrol(session, user=learner, course=basics, language="en")
    for item in basics.items:
        services.record_item_result(
            session, enrollment=enrollment, item=item, score=None, max_score=None, passed=True
        )
    assert services.has_completed(session, user=learner, course=basics)
    fact = session.scalar(select(Completion).where(Completion.user_id == learner.id))
    stats.annul_completion(session, completion=fact, reason="copied answers", by_user=None)
    assert not services.has_completed(session, user=learner, course=basics)
    with pytest.raises(services.PrerequisitesNotMet):
        services.enrol(session, user=learner, course=advanced, language="en")
