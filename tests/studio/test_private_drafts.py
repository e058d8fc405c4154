"""Drafts stay private: no other instructor's draft as a prerequisite, and a draft's staff is
who holds the instructor role (issue 11, item 4)."""

from __future__ import annotations

import io
import zipfile

from sqlalchemy import insert, select

from lms.accounts import services as accounts
from lms.accounts.models import Role
from lms.courses.models import Course, course_instructor
from lms.courses.services import export_course

SECRET = "Unannounced course on medical imaging"


def package_zip(session, source_slug: str, *, slug: str, prerequisites: list[str]) -> bytes:
    """The package of course ``source_slug`` as a zip, under ``slug``, with ``prerequisites``."""
    files = export_course(session, slug=source_slug)
    toml = files["course.toml"].decode()
    toml = toml.replace(f'slug = "{source_slug}"', f'slug = "{slug}"')
    named = ", ".join(f'"{p}"' for p in prerequisites)
    toml = toml.replace("prerequisites = []", f"prerequisites = [{named}]")
    files["course.toml"] = toml.encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(f"{slug}/{name}", content)
    return buffer.getvalue()


def upload(client, data: bytes):
    return client.post(
        "/studio/upload",
        data={"package": (io.BytesIO(data), "p.zip")},
        content_type="multipart/form-data",
    )


def secret_draft(session, owner, make_studio_course) -> Course:
    draft = make_studio_course(owner, slug="secret-draft")
    draft.title = {"en": SECRET, "ru": SECRET}
    session.flush()
    return draft


def test_another_instructors_draft_is_refused_as_prerequisite(
    client, session, make_user, login, instructor, make_studio_course
):
    secret_draft(session, instructor, make_studio_course)
    other = make_user(roles=["instructor"])
    mine = make_studio_course(other, slug="template-course")
    data = package_zip(session, mine.slug, slug="piggyback", prerequisites=["secret-draft"])
    login(other)
    response = upload(client, data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "nothing was imported" in page
    assert "&#39;secret-draft&#39; is neither a published course on this platform" in page
    assert session.scalar(select(Course).where(Course.slug == "piggyback")) is None
    # The same answer as for a slug nobody uses: no way to learn that the draft exists.
    unknown = package_zip(session, mine.slug, slug="piggyback", prerequisites=["no-such-course"])
    assert "&#39;no-such-course&#39; is neither a published" in upload(client, unknown).get_data(
        as_text=True
    )
    # Nowhere public shows the draft's title.
    for url in ("/courses", "/courses/piggyback", "/courses/secret-draft"):
        assert SECRET not in client.get(url).get_data(as_text=True)


def test_published_course_or_own_draft_may_be_named(
    client, session, make_user, login, instructor, make_studio_course
):
    draft = secret_draft(session, instructor, make_studio_course)
    published = make_studio_course(make_user(roles=["instructor"]), slug="open-course")
    published.published = True
    co_teacher = make_user(roles=["instructor"])
    session.execute(insert(course_instructor).values(course_id=draft.id, user_id=co_teacher.id))
    session.flush()
    mine = make_studio_course(co_teacher, slug="template-course")
    data = package_zip(
        session, mine.slug, slug="follow-up", prerequisites=["open-course", "secret-draft"]
    )
    login(co_teacher)
    assert upload(client, data).status_code == 303
    course = session.scalar(select(Course).where(Course.slug == "follow-up"))
    assert [c.slug for c in course.prerequisites] == ["open-course", "secret-draft"]


def test_draft_prerequisite_title_hidden_on_a_public_course_page(
    client, session, make_user, login, instructor, make_studio_course
):
    draft = secret_draft(session, instructor, make_studio_course)
    course = make_studio_course(instructor, slug="public-follow-up")
    course.prerequisites = [draft]
    course.published = True
    session.flush()
    page = client.get("/courses/public-follow-up", headers={"Accept-Language": "ru"})
    assert SECRET not in page.get_data(as_text=True)
    assert "Ещё не опубликованный курс" in page.get_data(as_text=True)
    login(make_user())
    assert SECRET not in client.get("/courses/public-follow-up").get_data(as_text=True)
    client.post("/logout")
    login(instructor)
    assert SECRET in client.get("/courses/public-follow-up").get_data(as_text=True)


def test_revoked_instructor_no_longer_previews_their_drafts(
    client, session, make_user, login, instructor, make_studio_course
):
    draft = secret_draft(session, instructor, make_studio_course)
    co_teacher = make_user(roles=["instructor"])
    session.execute(insert(course_instructor).values(course_id=draft.id, user_id=co_teacher.id))
    session.flush()
    pages = ["/courses/secret-draft", "/courses/secret-draft/items/intro"]
    for user in (instructor, co_teacher):
        login(user)
        assert [client.get(url).status_code for url in pages] == [200, 200]
        client.post("/logout")
    for user in (instructor, co_teacher):
        accounts.revoke_role(session, user=user, role=Role.INSTRUCTOR)
        session.flush()
        login(user)
        for url in pages:
            response = client.get(url)
            assert response.status_code == 404, url
            assert SECRET not in response.get_data(as_text=True)
        client.post("/logout")
