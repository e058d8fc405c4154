"""Lessons: Markdown rendered and sanitised, "mark as done", navigation, enrolment needed."""

from __future__ import annotations

import re

from sqlalchemy import select

from lms.learning import services
from lms.learning.models import ItemProgress
from lms.learning.rendering import lesson_html

HOSTILE = """# Title

<script>alert("owned")</script>

[click](javascript:alert(1)) and [fine](https://example.kz "Example")

<a href="javascript:alert(2)" onclick="steal()">raw link</a>

![local](/courses/x/files/lessons/img/a.png) ![remote](http://tracker.example/pixel.png)
![relative](img/b.png) ![escape](../../secret.png) ![secure](https://cdn.example.kz/c.png)

<img src=x onerror="alert(3)">

| model | score |
|-------|-------|
| tree  | 0.9   |
"""


def test_renderer_keeps_the_allow_list_only() -> None:
    html = lesson_html(HOSTILE, "/courses/demo/files")
    assert "<script" not in html, "no script element"
    assert not re.search(r"<[^>]*\son\w+\s*=", html), "no event handler attribute in a tag"
    assert not re.search(r'<[^>]*(href|src)="\s*javascript:', html, re.I)
    assert '<a href="https://example.kz" title="Example" rel="noopener noreferrer">fine</a>' in html
    assert '<img src="/courses/x/files/lessons/img/a.png" alt="local">' in html
    assert '<img src="/courses/demo/files/lessons/img/b.png" alt="relative">' in html
    # Other sites' images are dropped, https or not: a closed network, and the CSP.
    assert "cdn.example.kz" not in html and '<img alt="secure">' in html
    assert "tracker.example" not in html and "secret.png" not in html
    assert "<table>" in html and "<th>model</th>" in html and "<h1>Title</h1>" in html


def test_lesson_page_shows_sanitised_markdown(client, login, session, make_course, learner) -> None:
    course = make_course(items=[{"key": "intro", "kind": "lesson", "body": {"en": HOSTILE}}])
    services.enrol(session, user=learner, course=course, language="en")
    login(learner)
    response = client.get(f"/courses/{course.slug}/items/intro")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script in the page"
    assert not re.search(r'<[^>]*(href|src)="\s*javascript:', html, re.I)
    assert not re.search(r"<[^>]*\son\w+\s*=", html), "no event handler attribute in a tag"
    assert "&lt;script&gt;" in html, "raw HTML is shown as text"
    assert "<td>tree</td>" in html


def test_lesson_in_the_enrolment_language_with_fallback(
    client, login, session, make_course, make_user
) -> None:
    course = make_course(
        items=[
            {"key": "both", "kind": "lesson", "body": {"en": "Hello learners", "ru": "Привет"}},
            {"key": "english", "kind": "lesson", "body": {"en": "Only English here"}},
        ]
    )
    learner = make_user(locale="en")
    services.enrol(session, user=learner, course=course, language="ru")
    login(learner)
    html = client.get(f"/courses/{course.slug}/items/both").get_data(as_text=True)
    assert "Привет" in html and "Hello learners" not in html
    html = client.get(f"/courses/{course.slug}/items/english").get_data(as_text=True)
    assert "Only English here" in html, "falls back to the course's first language"


def test_mark_as_done_records_progress_and_moves_on(
    client, login, session, course, enrolled, learner
) -> None:
    login(learner)
    page = client.get(f"/courses/{course.slug}/items/intro").get_data(as_text=True)
    assert "Mark as done" in page
    assert f'href="/courses/{course.slug}/items/extra"' in page, "a link to the next item"
    response = client.post(f"/courses/{course.slug}/items/intro/done")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/courses/{course.slug}/items/extra")
    row = session.scalar(select(ItemProgress).where(ItemProgress.enrollment_id == enrolled.id))
    assert row.passed and row.passed_at is not None
    page = client.get(f"/courses/{course.slug}/items/intro").get_data(as_text=True)
    assert "You have marked this lesson as done." in page and "Mark as done" not in page
    course_page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert "1 of 2 required items" in course_page and "Done" in course_page
    # The optional lesson has a link back to the first one.
    page = client.get(f"/courses/{course.slug}/items/extra").get_data(as_text=True)
    assert f'rel="prev" href="/courses/{course.slug}/items/intro"' in page


def test_quizzes_need_an_enrolment(client, login, course, learner) -> None:
    login(learner)
    response = client.get(f"/courses/{course.slug}/items/check")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/courses/{course.slug}")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Enrol in this course to open its lessons and quizzes." in html
    # Reading a public lesson records nothing: marking it done needs the enrolment.
    assert client.post(f"/courses/{course.slug}/items/intro/done").status_code == 303


def test_specialist_lessons_need_an_enrolment(client, login, session, course, learner) -> None:
    course.tier = "specialist"
    session.flush()
    response = client.get(f"/courses/{course.slug}/items/intro")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(learner)
    response = client.get(f"/courses/{course.slug}/items/intro")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/courses/{course.slug}")


def test_anonymous_visitors_are_sent_to_log_in_for_quizzes(client, course) -> None:
    response = client.get(f"/courses/{course.slug}/items/check")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    attempt = client.post(f"/courses/{course.slug}/items/check/attempts", data={"attempt": "1"})
    assert attempt.status_code == 302 and "/login" in attempt.headers["Location"]


def test_unknown_and_removed_items_are_404(
    client, login, session, course, enrolled, learner
) -> None:
    login(learner)
    assert client.get(f"/courses/{course.slug}/items/nope").status_code == 404
    extra = next(i for i in course.items if i.key == "extra")
    extra.active = False
    session.flush()
    assert client.get(f"/courses/{course.slug}/items/extra").status_code == 404
    assert "Extra" not in client.get(f"/courses/{course.slug}").get_data(as_text=True)


def test_assignment_items_link_to_the_assignment_page_or_say_soon(
    client, login, session, make_course, learner, app
) -> None:
    course = make_course(
        items=[{"key": "nb", "kind": "assignment", "title": {"en": "Notebook one"}}]
    )
    services.enrol(session, user=learner, course=course, language="en")
    login(learner)
    response = client.get(f"/courses/{course.slug}/items/nb")
    if "assignments.item" in app.view_functions:
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/courses/{course.slug}/assignments/nb")
    else:
        html = response.get_data(as_text=True)
        assert "Notebook one" in html and "Notebook assignments open soon." in html
