"""With CSRF on (as in production), every studio form carries a token and works."""

from __future__ import annotations

import re

import pytest

from lms.studio.grading import manual_grades_for
from tests.conftest import PASSWORD

TOKEN = re.compile(r'name="((?:[\w-]+-)?csrf_token)"[^>]*value="([^"]+)"')
FORM = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>.*?</form>", re.S)


@pytest.fixture
def csrf_client(request, app_settings):
    app_settings["WTF_CSRF_ENABLED"] = True
    return request.getfixturevalue("client")


def token(html: str) -> str:
    return TOKEN.search(html).group(2)


def log_in(client, user):
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token(page)}
    )
    assert response.status_code in (302, 303)


def test_every_post_form_has_a_token(csrf_client, instructor, example_course):
    log_in(csrf_client, instructor)
    slug = example_course.slug
    for url in [
        "/studio",
        f"/studio/courses/{slug}",
        f"/studio/courses/{slug}/edit",
        f"/studio/courses/{slug}/lessons/what-is-ai",
        f"/studio/courses/{slug}/quizzes/basics-quiz",
        f"/studio/courses/{slug}/assignments/first-notebook",
        "/studio/upload",
        "/studio/new",
    ]:
        html = csrf_client.get(url).get_data(as_text=True)
        for form in FORM.findall(html):
            assert TOKEN.search(form), (url, form[:200])


def test_post_without_token_is_refused(csrf_client, session, instructor, example_course):
    log_in(csrf_client, instructor)
    url = f"/studio/courses/{example_course.slug}/unpublish"
    assert csrf_client.post(url).status_code == 400
    session.refresh(example_course)
    assert example_course.published is True
    page = csrf_client.get(f"/studio/courses/{example_course.slug}").get_data(as_text=True)
    assert csrf_client.post(url, data={"csrf_token": token(page)}).status_code == 303
    session.refresh(example_course)
    assert example_course.published is False


def test_grade_forms_work_with_csrf(csrf_client, session, instructor, example_course, to_grade):
    log_in(csrf_client, instructor)
    base = f"/studio/courses/{example_course.slug}/grading/{to_grade.id}"
    html = csrf_client.get(base).get_data(as_text=True)
    name, value = TOKEN.search(html[html.index('id="cell-essay"') :]).groups()
    assert name == "g-essay-csrf_token"
    response = csrf_client.post(f"{base}/essay", data={name: value, "g-essay-score": "1"})
    assert response.status_code == 303
    assert manual_grades_for(session, to_grade)["essay"].score == 1
