"""Every learning view against each role; pages carry no inline script or style."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from lms.learning import services
from lms.learning.models import ItemProgress, QuizAttempt
from tests.learning.conftest import RIGHT

ROLES = ["anonymous", "learner", "enrolled", "instructor", "owner", "analyst", "admin"]

# What each role gets: the course page, a lesson, the quiz, the dashboard. The course is a
# published public one, so anyone may read its lessons (nothing is recorded without an
# enrolment); its quiz needs an account and an enrolment.
EXPECTED = {
    "anonymous": (200, 200, 302, 302),
    "learner": (200, 200, 303, 200),
    "enrolled": (200, 200, 200, 200),
    "instructor": (200, 200, 303, 200),
    "owner": (200, 200, 200, 200),  # a preview: nothing is recorded
    "analyst": (200, 200, 303, 200),
    "admin": (200, 200, 200, 200),
}


@pytest.fixture
def as_role(client, login, session, make_user, make_course):
    def become(role: str):
        owner = make_user(roles=["instructor"])
        course = make_course(owner_id=owner.id)
        if role == "anonymous":
            return course
        roles = {"instructor": ["instructor"], "analyst": ["analyst"], "admin": ["admin"]}
        user = owner if role == "owner" else make_user(roles=roles.get(role, []))
        if role == "enrolled":
            services.enrol(session, user=user, course=course, language="en")
        login(user)
        return course

    return become


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_it_may(client, as_role, role) -> None:
    course = as_role(role)
    got = tuple(
        client.get(path).status_code
        for path in (
            f"/courses/{course.slug}",
            f"/courses/{course.slug}/items/intro",
            f"/courses/{course.slug}/items/check",
            "/dashboard",
        )
    )
    assert got == EXPECTED[role]


@pytest.mark.parametrize("role", ["learner", "instructor", "owner", "analyst", "admin"])
def test_only_enrolled_learners_record_anything(client, session, as_role, role) -> None:
    course = as_role(role)
    done = client.post(f"/courses/{course.slug}/items/intro/done")
    quiz = client.post(
        f"/courses/{course.slug}/items/check/attempts", data={**RIGHT, "attempt": "1"}
    )
    if role in ("owner", "admin"):
        assert (done.status_code, quiz.status_code) == (404, 404)
    else:
        assert (done.status_code, quiz.status_code) == (303, 303)
        assert quiz.headers["Location"].endswith(f"/courses/{course.slug}")
    for model in (ItemProgress, QuizAttempt):
        assert session.scalar(select(func.count()).select_from(model)) == 0


@pytest.mark.parametrize("role", ["learner", "instructor", "analyst", "admin"])
def test_drafts_stay_hidden_from_all_but_their_staff(
    client, login, make_user, make_course, role
) -> None:
    draft = make_course(published=False, owner_id=make_user(roles=["instructor"]).id)
    roles = {"learner": []}.get(role, [role])
    login(make_user(roles=roles))
    expected = 200 if role == "admin" else 404
    assert client.get(f"/courses/{draft.slug}").status_code == expected
    assert client.get(f"/courses/{draft.slug}/items/check").status_code == expected


def test_learning_pages_have_no_inline_script_or_style(
    client, login, session, course, enrolled, learner
) -> None:
    login(learner)
    attempt = client.post(
        f"/courses/{course.slug}/items/check/attempts", data={**RIGHT, "attempt": "1"}
    ).headers["Location"]
    for path in (
        f"/courses/{course.slug}",
        f"/courses/{course.slug}/items/intro",
        f"/courses/{course.slug}/items/check",
        attempt,
        "/dashboard",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\sstyle=", html), path
        assert not re.search(r"<[^>]*\son[a-z]+=", html), path
        # Every input has a label (or is a hidden field / inside a labelled choice).
        for field_id in re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"', html):
            if field_id != "csrf_token" and field_id != "attempt":
                assert f'for="{field_id}"' in html, (path, field_id)


def test_learning_forms_need_the_csrf_token(
    app_settings, request, session, course, learner
) -> None:
    from sqlalchemy import func, select

    from lms.learning.models import ItemProgress, QuizAttempt
    from tests.conftest import PASSWORD

    app_settings["WTF_CSRF_ENABLED"] = True
    client = request.getfixturevalue("app").test_client()
    services.enrol(session, user=learner, course=course, language="en")

    def token(path: str) -> str:
        html = client.get(path).get_data(as_text=True)
        return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)

    client.post(
        "/login", data={"email": learner.email, "password": PASSWORD, "csrf_token": token("/login")}
    )
    base = f"/courses/{course.slug}/items"
    assert client.post(f"{base}/intro/done").status_code == 400
    assert client.post(f"{base}/check/attempts", data={**RIGHT, "attempt": "1"}).status_code == 400
    assert session.scalar(select(func.count(ItemProgress.id))) == 0
    assert session.scalar(select(func.count(QuizAttempt.id))) == 0
    assert (
        client.post(f"{base}/intro/done", data={"csrf_token": token(f"{base}/intro")}).status_code
        == 303
    )
    assert (
        client.post(
            f"{base}/check/attempts",
            data={**RIGHT, "attempt": "1", "csrf_token": token(f"{base}/check")},
        ).status_code
        == 303
    )
    assert session.scalar(select(func.count(QuizAttempt.id))) == 1
