"""The learning pages speak the learner's UI language; content follows the enrolment."""

from __future__ import annotations

import pytest

from lms.learning import services
from tests.learning.conftest import RIGHT


@pytest.mark.parametrize(
    ("ui", "words"),
    [
        ("kk", ("Менің оқуым", "Аяқталған курстар", "Аяқталған күні")),
        ("ru", ("Моё обучение", "Завершённые курсы", "Завершён")),
        ("en", ("My learning", "Completed courses", "Completed on")),
    ],
)
def test_dashboard_in_each_ui_language(
    client, login, session, course, make_user, ui, words
) -> None:
    learner = make_user(locale=ui)
    enrollment = services.enrol(session, user=learner, course=course, language="ru")
    for key, score in (("intro", None), ("check", 4)):
        item = next(i for i in course.items if i.key == key)
        services.record_item_result(
            session,
            enrollment=enrollment,
            item=item,
            score=score,
            max_score=4 if score else None,
            passed=True,
        )
    login(learner)
    html = client.get("/dashboard").get_data(as_text=True)
    for word in words:
        assert word in html
    assert f"Курс {course.slug}" in html, "the course title in the enrolment language"
    # Russian long dates end in "г.": the sentence around them must not add a second dot.
    assert ".." not in html.replace("...", "")


def test_quiz_in_russian_ui_with_english_content(client, login, session, course, make_user) -> None:
    learner = make_user(locale="ru")
    services.enrol(session, user=learner, course=course, language="en")
    login(learner)
    html = client.get(f"/courses/{course.slug}/items/check").get_data(as_text=True)
    assert "Отправить ответы" in html and "Which city is the capital?" in html
    assert "(1 балл)" in html
    response = client.post(
        f"/courses/{course.slug}/items/check/attempts",
        data={**RIGHT, "q-pi": "abc", "attempt": "1"},
    )
    assert response.status_code == 400
    assert "Ответьте числом" in response.get_data(as_text=True)


def test_before_enrolling_the_course_page_marks_content_in_a_course_language(
    client, make_course
) -> None:
    # A visitor reading in Kazakh sees a course taught in Russian and English: the titles
    # are Russian (the course's first language) and say so, as the item pages do.
    course = make_course(languages=["ru", "en"])
    client.set_cookie("oqu_lang", "kk")
    html = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert f'<h1 lang="ru">Курс {course.slug}</h1>' in html
