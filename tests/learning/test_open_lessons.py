"""Anyone may read a published public course's lessons, as Elements of AI allows; signing
in and enrolling keeps progress, and quizzes and notebooks still need both."""

from __future__ import annotations

from sqlalchemy import func, select

from lms.learning.models import ItemProgress


def test_anyone_reads_a_public_lesson_and_is_asked_to_sign_in(client, course) -> None:
    response = client.get(f"/courses/{course.slug}/items/intro")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "A <strong>neuron</strong> adds its inputs." in html
    # Kazakh, the default language of a visitor who has chosen none.
    assert "Үлгеріміңізді сақтаңыз" in html and "/login?next=" in html
    # Nothing personal and no form to forge: no CSRF token, no "mark as done".
    assert "csrf_token" not in html and "Mark as done" not in html
    # The same page for every visitor without a session: a shared cache may keep it.
    assert response.cache_control.public and response.cache_control.max_age == 300
    assert {"Cookie", "Accept-Language"} <= set(response.vary)
    assert "Set-Cookie" not in response.headers


def test_a_revisit_without_a_session_is_answered_304_and_a_signed_in_page_has_no_etag(
    client, login, course, learner
) -> None:
    first = client.get(f"/courses/{course.slug}/items/intro")
    assert first.headers.get("ETag")
    again = client.get(
        f"/courses/{course.slug}/items/intro", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304 and again.get_data() == b""
    login(learner)
    signed_in = client.get(
        f"/courses/{course.slug}/items/intro", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert signed_in.status_code == 200 and "ETag" not in signed_in.headers


def test_the_course_page_links_lessons_only(client, course) -> None:
    html = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert f'href="/courses/{course.slug}/items/intro"' in html
    assert f'href="/courses/{course.slug}/items/check"' not in html
    assert "Бұл курстың сабақтарын кез келген адам тіркелмей-ақ оқи алады" in html


def test_a_signed_in_reader_gets_a_private_page_and_nothing_is_recorded(
    client, login, session, course, learner
) -> None:
    login(learner)
    response = client.get(f"/courses/{course.slug}/items/intro")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Enrol on the course page" in html and "Mark as done" not in html
    assert response.cache_control.private and response.cache_control.no_store
    assert session.scalar(select(func.count(ItemProgress.id))) == 0


def test_drafts_specialist_courses_and_quizzes_stay_closed(client, session, make_course) -> None:
    draft = make_course(published=False)
    assert client.get(f"/courses/{draft.slug}/items/intro").status_code == 404
    specialist = make_course(tier="specialist")
    closed = client.get(f"/courses/{specialist.slug}/items/intro")
    assert closed.status_code == 302 and "/login" in closed.headers["Location"]
    public = make_course()
    quiz = client.get(f"/courses/{public.slug}/items/check")
    assert quiz.status_code == 302 and "/login" in quiz.headers["Location"]
    done = client.post(f"/courses/{public.slug}/items/intro/done")
    assert done.status_code in (302, 400)
    assert session.scalar(select(func.count(ItemProgress.id))) == 0


def test_prerequisites_gate_enrolment_not_reading(client, make_course) -> None:
    first = make_course()
    second = make_course(prerequisites=[first])
    assert client.get(f"/courses/{second.slug}/items/intro").status_code == 200
