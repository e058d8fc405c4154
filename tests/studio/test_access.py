"""Who may use the studio: instructors on their own courses, co-instructors, admins."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from lms.courses.models import course_instructor

PAGES = [
    "/studio/courses/{slug}",
    "/studio/courses/{slug}/edit",
    "/studio/courses/{slug}/progress",
    "/studio/courses/{slug}/grading",
    "/studio/courses/{slug}/lessons/intro",
    "/studio/courses/{slug}/package.zip",
]


def test_anonymous_is_sent_to_login(client, instructor, make_studio_course):
    course = make_studio_course(instructor)
    for page in ["/studio", *PAGES]:
        response = client.get(page.format(slug=course.slug))
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_learner_gets_403(client, make_user, login, instructor, make_studio_course):
    course = make_studio_course(instructor)
    login(make_user())
    assert client.get("/studio").status_code == 403
    for page in PAGES:
        assert client.get(page.format(slug=course.slug)).status_code == 403
    assert client.post(f"/studio/courses/{course.slug}/publish").status_code == 403


def test_instructor_of_another_course_gets_403(
    client, make_user, login, instructor, make_studio_course
):
    course = make_studio_course(instructor)
    other = make_user(roles=["instructor"])
    login(other)
    page = client.get("/studio")
    assert page.status_code == 200
    assert course.slug not in page.get_data(as_text=True)
    for url in PAGES:
        assert client.get(url.format(slug=course.slug)).status_code == 403
    response = client.post(f"/studio/courses/{course.slug}/items/intro/remove")
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["co-instructor", "admin", "owner"])
def test_staff_of_the_course_may_edit(
    client, session, make_user, login, instructor, make_studio_course, role
):
    course = make_studio_course(instructor)
    if role == "owner":
        user = instructor
    elif role == "admin":
        user = make_user(roles=["admin"])
    else:
        user = make_user(roles=["instructor"])
        session.execute(insert(course_instructor).values(course_id=course.id, user_id=user.id))
    login(user)
    assert course.slug in client.get("/studio").get_data(as_text=True)
    for url in PAGES:
        assert client.get(url.format(slug=course.slug)).status_code == 200, url


def test_only_owner_or_admin_manage_co_instructors(
    client, session, make_user, login, instructor, make_studio_course
):
    course = make_studio_course(instructor)
    helper = make_user(roles=["instructor"])
    third = make_user(roles=["instructor"])
    session.execute(insert(course_instructor).values(course_id=course.id, user_id=helper.id))
    login(helper)
    response = client.post(
        f"/studio/courses/{course.slug}/instructors", data={"email": third.email}
    )
    assert response.status_code == 403
    assert "Add co-instructor" not in client.get(f"/studio/courses/{course.slug}/edit").get_data(
        as_text=True
    )


def test_missing_course_is_404(client, login, instructor):
    login(instructor)
    assert client.get("/studio/courses/no-such-course").status_code == 404


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("kk", ["Менің курстарым", "Жаңа курс", "Жоба"]),
        ("ru", ["Мои курсы", "Новый курс", "Черновик"]),
    ],
)
def test_studio_speaks_kazakh_and_russian(
    client, make_user, login, make_studio_course, locale, words
):
    teacher = make_user(roles=["instructor"], locale=locale)
    course = make_studio_course(teacher)
    login(teacher)
    page = client.get("/studio").get_data(as_text=True)
    for word in words:
        assert word in page
    outline = client.get(f"/studio/courses/{course.slug}").get_data(as_text=True)
    assert ("Элемент қосу" if locale == "kk" else "Добавить элемент") in outline
