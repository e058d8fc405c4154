"""Creating and editing courses, co-instructors, publishing; completions are never touched."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from lms.courses.models import Course, Item
from lms.courses.services import published_courses
from lms.learning.models import Enrollment, ItemProgress
from lms.stats.models import Completion
from lms.stats.services import record_completion
from tests.conftest import PASSWORD

GOOD = {
    "slug": "intro-to-ai",
    "tier": "specialist",
    "sectors": ["C", "J"],
    "first_language": "ru",
    "other_languages": ["en", "kk"],
    "title_ru": "Введение в ИИ",
    "summary_ru": "Коротко об ИИ.",
    "title_en": "Intro to AI",
    "summary_en": "AI in brief.",
}


def test_create_course(client, session, login, instructor):
    login(instructor)
    page = client.get("/studio/new")
    assert page.status_code == 200
    response = client.post("/studio/new", data=GOOD)
    assert response.status_code == 303
    course = session.scalar(select(Course).where(Course.slug == "intro-to-ai"))
    assert course.owner_id == instructor.id
    assert course.published is False
    assert course.languages == ["ru", "kk", "en"]
    assert course.sectors == ["C", "J"]
    assert course.tier == "specialist"
    assert course.title == {"ru": "Введение в ИИ", "en": "Intro to AI"}
    listing = client.get("/studio").get_data(as_text=True)
    assert "Введение в ИИ" in listing or "Intro to AI" in listing
    assert "Draft" in listing


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"slug": "Bad Slug"}, "Use small Latin letters"),
        ({"slug": ""}, "Enter an id."),
        ({"slug": "-dash"}, "Use small Latin letters"),
        ({"title_ru": ""}, "Required in the course"),
        ({"summary_ru": "  "}, "Required in the course"),
        ({"tier": "vip"}, "Not a valid choice"),
        ({"sectors": ["ZZ"]}, "not a valid choice"),
        ({"first_language": "de"}, "Not a valid choice"),
    ],
)
def test_create_course_errors(client, session, login, instructor, change, message):
    login(instructor)
    response = client.post("/studio/new", data={**GOOD, **change})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(Course).where(Course.slug == "intro-to-ai")) is None


def test_slug_must_be_unique(client, login, instructor, make_studio_course):
    make_studio_course(instructor, slug="intro-to-ai")
    login(instructor)
    response = client.post("/studio/new", data=GOOD)
    assert response.status_code == 400
    assert "Another course already uses this slug." in response.get_data(as_text=True)


def test_edit_course_keeps_slug(client, session, login, instructor, make_studio_course):
    course = make_studio_course(instructor)
    login(instructor)
    form = client.get(f"/studio/courses/{course.slug}/edit").get_data(as_text=True)
    assert "Course en" in form
    response = client.post(
        f"/studio/courses/{course.slug}/edit",
        data={
            **GOOD,
            "slug": "renamed",
            "first_language": "en",
            "other_languages": [],
            "title_en": "New title",
            "summary_en": "New summary",
        },
    )
    assert response.status_code == 303
    session.refresh(course)
    assert course.slug == "studio-course"
    # Russian is no longer ticked: its stored title stays (the form's Russian field is ignored).
    assert course.title == {"en": "New title", "ru": "Course ru"}
    assert course.languages == ["en"]


def test_unticking_a_language_keeps_its_texts(
    client, session, login, instructor, make_studio_course
):
    course = make_studio_course(instructor)
    login(instructor)
    url = f"/studio/courses/{course.slug}/edit"
    assert (
        client.post(
            url,
            data={
                "tier": "public",
                "first_language": "en",
                "title_en": "Course en",
                "summary_en": "Summary en",
            },
        ).status_code
        == 303
    )
    session.refresh(course)
    assert course.languages == ["en"]
    assert (course.title["ru"], course.summary["ru"]) == ("Course ru", "Summary ru")
    # Ticking Russian again finds its texts in the form.
    form = client.get(url).get_data(as_text=True)
    assert 'value="Course ru"' in form and "Summary ru" in form


def test_a_published_course_keeps_its_first_language(
    client, session, login, instructor, example_course
):
    from lms.studio.services import check_package

    login(instructor)
    url = f"/studio/courses/{example_course.slug}/edit"
    before = (list(example_course.languages), dict(example_course.title), example_course.tier)
    response = client.post(
        url,
        data={
            "tier": "public",
            "first_language": "en",
            "other_languages": ["kk", "ru"],
            "title_en": "New",
            "summary_en": "New",
            "title_kk": "Жаңа",
            "summary_kk": "Жаңа",
        },
    )
    assert response.status_code == 400
    assert "A published course keeps its first language" in response.get_data(as_text=True)
    session.expire_all()
    assert (example_course.languages, example_course.title, example_course.tier) == before
    # Other languages may go: the course still exports to a package that imports.
    assert (
        client.post(
            url,
            data={
                "tier": "specialist",
                "first_language": "kk",
                "title_kk": "Жаңа",
                "summary_kk": "Қысқаша",
            },
        ).status_code
        == 303
    )
    session.expire_all()
    assert example_course.languages == ["kk"]
    assert check_package(session, course=example_course) == []


def _error(response) -> list[str]:
    return re.findall(r'class="field-error"[^>]*>([^<]*)<', response.get_data(as_text=True))


def test_co_instructors(client, session, make_user, login, instructor, make_studio_course):
    course = make_studio_course(instructor)
    helper = make_user(roles=["instructor"])
    learner = make_user()
    login(instructor)
    url = f"/studio/courses/{course.slug}/instructors"
    missing = client.post(url, data={"email": "nobody@example.kz"})
    assert missing.status_code == 400
    assert "No instructor has this e-mail address." in missing.get_data(as_text=True)
    not_instructor = client.post(url, data={"email": learner.email})
    assert not_instructor.status_code == 400
    # One answer for both: the form does not tell who has an account.
    assert _error(not_instructor) == _error(missing)
    assert client.post(url, data={"email": "not-an-email"}).status_code == 400
    assert client.post(url, data={"email": helper.email.upper()}).status_code == 303
    assert helper.email in client.get(f"/studio/courses/{course.slug}/edit").get_data(as_text=True)
    client.post("/logout")
    login(helper)
    assert client.get(f"/studio/courses/{course.slug}").status_code == 200
    client.post("/logout")
    login(instructor)
    assert client.post(f"{url}/{helper.id}/remove").status_code == 303
    client.post("/logout")
    login(helper)
    assert client.get(f"/studio/courses/{course.slug}").status_code == 403


def test_publish_and_unpublish(client, session, login, instructor, example_course):
    example_course.published = False
    session.flush()
    login(instructor)
    assert example_course not in published_courses(session)
    response = client.post(f"/studio/courses/{example_course.slug}/publish")
    assert response.status_code == 303
    assert "Published" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert example_course in published_courses(session)
    response = client.post(f"/studio/courses/{example_course.slug}/unpublish")
    assert response.status_code == 303
    assert example_course not in published_courses(session)


def test_publish_refuses_an_incomplete_course(
    client, session, login, instructor, make_studio_course
):
    course = make_studio_course(instructor)
    login(instructor)
    client.post(
        f"/studio/courses/{course.slug}/items",
        data={
            "key": "empty-quiz",
            "kind": "quiz",
            "module": course.modules[0].id,
            "title_en": "Quiz",
            "required": "y",
        },
    )
    response = client.post(f"/studio/courses/{course.slug}/publish")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "quizzes/empty-quiz.toml" in text
    session.refresh(course)
    assert course.published is False


def test_editing_a_published_course_leaves_completions_alone(
    client, session, make_user, login, instructor, example_course
):
    learner = make_user()
    done_at = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    enrollment = Enrollment(
        user_id=learner.id, course_id=example_course.id, language="en", completed_at=done_at
    )
    session.add(enrollment)
    session.flush()
    lesson = session.scalar(
        select(Item).where(Item.course_id == example_course.id, Item.key == "what-is-ai")
    )
    session.add(
        ItemProgress(enrollment_id=enrollment.id, item_id=lesson.id, passed=True, passed_at=done_at)
    )
    fact = record_completion(
        session, user=learner, course=example_course, language="en", at=done_at
    )
    before = {c.name: getattr(fact, c.name) for c in Completion.__table__.columns}
    login(instructor)
    slug = example_course.slug
    module_id = example_course.modules[0].id
    package = client.get(f"/studio/courses/{slug}/package.zip").data
    assert (
        client.post(
            f"/studio/courses/{slug}/items",
            data={
                "key": "new-required",
                "kind": "lesson",
                "module": module_id,
                "title_kk": "Жаңа",
                "required": "y",
            },
        ).status_code
        == 303
    )
    # A new required item goes live once it has its text: the completion stays.
    assert (
        client.post(
            f"/studio/courses/{slug}/lessons/new-required",
            data={"body_kk": "# Жаңа", "action": "save"},
        ).status_code
        == 303
    )
    assert client.post(f"/studio/courses/{slug}/items/new-required/restore").status_code == 303
    added = session.scalar(
        select(Item).where(Item.course_id == example_course.id, Item.key == "new-required")
    )
    assert (added.active, added.required) == (True, True)
    assert client.post(f"/studio/courses/{slug}/items/what-is-ai/remove").status_code == 303
    assert (
        client.post(
            f"/studio/courses/{slug}/edit",
            data={
                "tier": "specialist",
                "first_language": "kk",
                "other_languages": ["ru"],
                "title_kk": "Жаңа атау",
                "summary_kk": "Қысқаша",
            },
        ).status_code
        == 303
    )
    assert client.post(f"/studio/courses/{slug}/unpublish").status_code == 303
    assert (
        client.post(
            "/studio/upload",
            data={"package": (io.BytesIO(package), "p.zip")},
            content_type="multipart/form-data",
        ).status_code
        == 303
    )
    session.expire_all()
    after = session.get(Completion, fact.id)
    assert {c.name: getattr(after, c.name) for c in Completion.__table__.columns} == before
    assert session.get(Enrollment, enrollment.id).completed_at == done_at
    progress = session.scalar(select(ItemProgress).where(ItemProgress.item_id == lesson.id))
    assert progress.passed is True
    # The re-uploaded package brought the removed lesson back on the same row, and left the
    # studio's new item (not in that package) out of the course.
    assert session.scalar(select(Item).where(Item.id == lesson.id)).active is True
    assert session.get(Item, added.id).active is False


def test_the_co_instructor_form_is_rate_limited(
    app_settings, request, session, make_user, instructor, make_studio_course
) -> None:
    app_settings.update(RATELIMIT_ENABLED=True, RATELIMIT_CO_INSTRUCTOR="3 per hour")
    client = request.getfixturevalue("app").test_client()
    course = make_studio_course(instructor)
    client.post("/login", data={"email": instructor.email, "password": PASSWORD})
    url = f"/studio/courses/{course.slug}/instructors"
    for n in range(3):
        assert client.post(url, data={"email": f"probe{n}@example.kz"}).status_code == 400
    assert client.post(url, data={"email": "probe9@example.kz"}).status_code == 429
