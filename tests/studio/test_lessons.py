"""The lesson editor and its preview, rendered as learners see it."""

from __future__ import annotations

from sqlalchemy import select

from lms.courses.models import Item
from lms.learning.rendering import lesson_html


def test_save_lesson(client, session, login, instructor, make_studio_course):
    course = make_studio_course(instructor)
    login(instructor)
    url = f"/studio/courses/{course.slug}/lessons/intro"
    assert "# Hello" in client.get(url).get_data(as_text=True)
    response = client.post(
        url, data={"body_en": "# Neurons\r\n\r\nText.", "body_ru": "Текст", "action": "save"}
    )
    assert response.status_code == 303
    item = session.scalar(select(Item).where(Item.course_id == course.id))
    session.refresh(item.lesson)
    assert item.lesson.body == {"en": "# Neurons\n\nText.", "ru": "Текст"}


def test_first_language_is_required(client, login, instructor, make_studio_course):
    course = make_studio_course(instructor)
    login(instructor)
    response = client.post(
        f"/studio/courses/{course.slug}/lessons/intro",
        data={"body_en": " ", "body_ru": "Текст", "action": "save"},
    )
    assert response.status_code == 400
    assert "Required in the course" in response.get_data(as_text=True)


def test_preview_sanitises_and_does_not_save(
    client, session, login, instructor, make_studio_course
):
    course = make_studio_course(instructor)
    login(instructor)
    body = (
        "# Title\n\n<script>alert('x')</script>\n\n[click](javascript:alert(1))\n\n"
        "**bold** <img src=x onerror=alert(2)>"
    )
    response = client.post(
        f"/studio/courses/{course.slug}/lessons/intro", data={"body_en": body, "action": "preview"}
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    preview = html[html.index("studio-preview") :]
    # Exactly what the learners' lesson page renders from the same Markdown.
    assert lesson_html(body, f"/courses/{course.slug}/files") in preview
    assert "<h1>Title</h1>" in preview
    assert "<strong>bold</strong>" in preview
    assert "<script>" not in preview
    assert "&lt;script&gt;" in preview
    assert 'href="javascript' not in preview
    assert "<img" not in preview
    item = session.scalar(select(Item).where(Item.course_id == course.id))
    session.refresh(item.lesson)
    assert item.lesson.body == {"en": "# Hello"}
