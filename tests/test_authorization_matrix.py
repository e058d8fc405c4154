"""The authorization matrix: every route of the app × who asks, with the status each gets.

Every (method, rule) of ``app.url_map`` has a row in ``MATRIX``; a route added without its
row, or a row left for a route that is gone, fails ``test_every_route_has_a_row``. Each row
is checked against a small world in which every URL parameter names something real: a
published course with a lesson, a quiz and a notebook assignment (the example package),
the learner's enrolment, quiz attempt, submission, workspace draft and Run, completion and
certificate, API tokens, a password reset link. Requests carry no form data: the matrix is
about who gets through, not what a form says (a 400 means "past the door, bad input").

Who asks, in this order: nobody signed in, the learner who owns the world's records,
another learner, an instructor of another course, an analyst and an admin (the two of them
with their API token on ``/api``). ``LMS_PRINT_MATRIX=1`` prints the observed rows.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.api import services as api
from lms.assignments.models import Submission
from lms.certificates import services as certificates
from lms.courses import services as courses
from lms.courses.models import Course, Item, Tier
from lms.courses.package.loaded import LoadedPackage
from lms.learning.models import Enrollment, QuizAttempt
from lms.stats import services as stats
from lms.workspace import runs
from lms.workspace import services as workspace
from lms.workspace.models import DraftRevision
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[1]
PERSONAS = ("anonymous", "learner", "other_learner", "other_instructor", "analyst", "admin")

# (method, rule): the status for each persona, in PERSONAS' order.
MATRIX: dict[tuple[str, str], str] = {
    ("GET", "/"): "200 200 200 200 200 200",
    ("GET", "/.well-known/jwks.json"): "200 200 200 200 200 200",
    ("GET", "/admin/certificates"): "302 403 403 403 403 200",
    ("GET", "/admin/completions"): "302 403 403 403 403 200",
    ("GET", "/admin/tokens"): "302 403 403 403 403 200",
    ("GET", "/admin/users"): "302 403 403 403 403 200",
    ("GET", "/api/v1/openapi.json"): "200 200 200 200 200 200",
    ("GET", "/api/v1/stats/breakdowns/<dimension>"): "401 401 401 401 200 200",
    ("GET", "/api/v1/stats/exports/<dimension>.<fmt>"): "401 401 401 401 400 400",
    ("GET", "/api/v1/stats/progress"): "401 401 401 401 200 200",
    ("GET", "/api/v1/stats/xapi"): "401 401 401 401 200 200",
    ("GET", "/certificates"): "302 200 200 200 200 200",
    ("GET", "/certificates/<code>.jwt"): "302 200 404 404 404 404",
    ("GET", "/certificates/<code>.pdf"): "302 200 404 404 404 404",
    ("GET", "/courses"): "200 200 200 200 200 200",
    ("GET", "/courses/<slug>"): "200 200 200 200 200 200",
    ("GET", "/courses/<slug>/assignments/<item_key>"): "302 200 303 303 303 200",
    ("GET", "/courses/<slug>/assignments/<item_key>/files/<name>"): "302 200 303 303 303 200",
    ("GET", "/courses/<slug>/assignments/<item_key>/student.ipynb"): "302 200 303 303 303 200",
    ("GET", "/courses/<slug>/assignments/<item_key>/workspace"): "302 200 303 303 303 303",
    ("GET", "/courses/<slug>/assignments/<item_key>/workspace/draft"): "401 200 404 404 404 404",
    (
        "GET",
        "/courses/<slug>/assignments/<item_key>/workspace/revisions",
    ): "401 200 404 404 404 404",
    (
        "GET",
        "/courses/<slug>/assignments/<item_key>/workspace/revisions/<int:number>",
    ): "401 200 404 404 404 404",
    ("GET", "/courses/<slug>/assignments/<item_key>/workspace/token"): "401 200 404 404 404 404",
    ("GET", "/courses/<slug>/files/<path:path>"): "200 200 200 200 200 200",
    ("GET", "/courses/<slug>/items/<item_key>"): "200 200 200 200 200 200",
    (
        "GET",
        "/courses/<slug>/items/<item_key>/attempts/<int:attempt_id>",
    ): "302 200 303 303 303 404",
    ("GET", "/dashboard"): "302 200 200 200 200 200",
    ("GET", "/healthz"): "200 200 200 200 200 200",
    ("GET", "/instructor/courses/<slug>/submissions"): "302 403 403 403 403 200",
    ("GET", "/instructor/submissions/<int:submission_id>"): "302 403 403 403 403 200",
    ("GET", "/instructor/submissions/<int:submission_id>/workspace"): "302 404 404 404 404 200",
    ("GET", "/lang/<code>"): "302 302 302 302 302 302",
    ("GET", "/login"): "200 302 302 302 302 302",
    ("GET", "/open-data"): "200 200 200 200 200 200",
    ("GET", "/open-data/<name>.zip"): "404 404 404 404 404 404",
    ("GET", "/open-data/catalog.json"): "200 200 200 200 200 200",
    ("GET", "/login/link/<token>"): "400 400 400 400 400 400",
    ("GET", "/register/sent"): "200 200 200 200 200 200",
    ("POST", "/login/link/<token>"): "400 400 400 400 400 400",
    ("POST", "/profile/sessions/<int:session_id>/end"): "302 404 404 404 404 404",
    ("POST", "/profile/sessions/end-others"): "302 302 302 302 302 302",
    ("GET", "/login/oidc/<name>"): "404 404 404 404 404 404",
    ("GET", "/login/oidc/<name>/callback"): "404 404 404 404 404 404",
    ("GET", "/login/oidc/link"): "302 302 302 302 302 302",
    ("GET", "/login/oidc/link/<token>"): "400 400 400 400 400 400",
    ("GET", "/login/oidc/profile"): "302 302 302 302 302 302",
    ("GET", "/profile/sign-in-methods"): "302 200 200 200 200 200",
    ("GET", "/profile/sign-in-methods/<name>/connect"): "302 404 404 404 404 404",
    ("POST", "/login/oidc/link"): "302 302 302 302 302 302",
    ("POST", "/login/oidc/link/<token>"): "400 400 400 400 400 400",
    ("POST", "/login/oidc/link/mail"): "302 302 302 302 302 302",
    ("POST", "/login/oidc/profile"): "302 302 302 302 302 302",
    ("POST", "/profile/sign-in-methods/<name>/unlink"): "302 404 404 404 404 404",
    ("GET", "/metrics"): "200 200 200 200 200 200",
    ("GET", "/password/forgot"): "200 200 200 200 200 200",
    ("GET", "/password/reset/<token>"): "200 200 200 200 200 200",
    ("GET", "/profile"): "302 200 200 200 200 200",
    ("GET", "/register"): "200 302 302 302 302 302",
    ("GET", "/static/<path:filename>"): "200 200 200 200 200 200",
    ("GET", "/stats"): "302 403 403 403 200 200",
    ("GET", "/stats/charts/<name>.svg"): "302 403 403 403 200 200",
    ("GET", "/stats/exports/<dimension>.<fmt>"): "302 403 403 403 400 400",
    ("GET", "/studio"): "302 403 403 200 403 200",
    ("GET", "/studio/courses/<slug>"): "302 403 403 403 403 200",
    ("GET", "/studio/courses/<slug>/assignments/<key>"): "302 403 403 403 403 200",
    ("GET", "/studio/courses/<slug>/edit"): "302 403 403 403 403 200",
    ("GET", "/studio/courses/<slug>/grading"): "302 403 403 403 403 200",
    ("GET", "/studio/courses/<slug>/grading/<int:submission_id>"): "302 403 403 403 403 200",
    ("GET", "/studio/courses/<slug>/items/<key>/settings"): "302 403 403 403 403 200",
    ("GET", "/studio/courses/<slug>/lessons/<key>"): "302 403 403 403 403 200",
    ("GET", "/studio/courses/<slug>/package.zip"): "302 403 403 403 403 200",
    ("GET", "/studio/courses/<slug>/progress"): "302 403 403 403 403 200",
    ("GET", "/studio/courses/<slug>/quizzes/<key>"): "302 403 403 403 403 200",
    (
        "GET",
        "/studio/courses/<slug>/quizzes/<key>/questions/<question_key>",
    ): "302 403 403 403 403 200",
    ("GET", "/studio/courses/<slug>/quizzes/<key>/questions/new"): "302 403 403 403 403 200",
    ("GET", "/studio/new"): "302 403 403 200 403 200",
    ("GET", "/studio/upload"): "302 403 403 200 403 200",
    ("GET", "/submissions/<int:submission_id>"): "302 200 404 404 404 200",
    ("GET", "/submissions/<int:submission_id>/status"): "302 200 404 404 404 200",
    ("GET", "/verify/<code>"): "200 200 200 200 200 200",
    ("GET", "/verify/<code>.json"): "200 200 200 200 200 200",
    ("GET", "/workspace/runs/<int:run_id>"): "401 200 404 404 404 404",
    ("POST", "/admin/certificates/<code>/revoke"): "302 403 403 403 403 302",
    ("POST", "/admin/completions/<int:completion_id>/annul"): "302 403 403 403 403 302",
    ("POST", "/admin/tokens"): "302 403 403 403 403 400",
    ("POST", "/admin/tokens/<int:token_id>/revoke"): "302 403 403 403 403 302",
    ("POST", "/admin/users/<int:user_id>/roles"): "302 403 403 403 403 302",
    ("POST", "/certificates/<code>/reissue"): "302 303 404 404 404 404",
    ("POST", "/courses/<slug>/assignments/<item_key>"): "302 400 400 400 400 400",
    ("POST", "/courses/<slug>/assignments/<item_key>/workspace/draft"): "401 400 404 404 404 404",
    ("POST", "/courses/<slug>/assignments/<item_key>/workspace/runs"): "401 400 404 404 404 404",
    ("POST", "/courses/<slug>/assignments/<item_key>/workspace/submit"): "401 400 404 404 404 404",
    ("POST", "/courses/<slug>/enrol"): "302 400 400 400 400 400",
    ("POST", "/courses/<slug>/items/<item_key>/attempts"): "302 400 303 303 303 404",
    ("POST", "/courses/<slug>/items/<item_key>/done"): "302 303 303 303 303 404",
    (
        "POST",
        "/instructor/courses/<slug>/assignments/<item_key>/regrade",
    ): "302 403 403 403 403 303",
    ("POST", "/instructor/submissions/<int:submission_id>/regrade"): "302 403 403 403 403 303",
    ("POST", "/lang/<code>"): "303 303 303 303 303 303",
    ("POST", "/login"): "400 400 400 400 400 400",
    ("POST", "/logout"): "302 302 302 302 302 302",
    ("POST", "/password/forgot"): "400 400 400 400 400 400",
    ("POST", "/password/reset/<token>"): "400 400 400 400 400 400",
    ("POST", "/profile"): "302 400 400 400 400 400",
    ("POST", "/profile/delete"): "302 400 400 400 400 400",
    ("POST", "/profile/password"): "302 400 400 400 400 400",
    ("POST", "/register"): "400 302 302 302 302 302",
    ("POST", "/studio/courses/<slug>/assignments/<key>/files"): "302 403 403 403 403 400",
    (
        "POST",
        "/studio/courses/<slug>/assignments/<key>/files/<name>/remove",
    ): "302 403 403 403 403 303",
    ("POST", "/studio/courses/<slug>/assignments/<key>/notebook"): "302 403 403 403 403 400",
    ("POST", "/studio/courses/<slug>/assignments/<key>/settings"): "302 403 403 403 403 400",
    ("POST", "/studio/courses/<slug>/edit"): "302 403 403 403 403 400",
    (
        "POST",
        "/studio/courses/<slug>/grading/<int:submission_id>/<grade_id>",
    ): "302 403 403 403 403 400",
    ("POST", "/studio/courses/<slug>/instructors"): "302 403 403 403 403 400",
    ("POST", "/studio/courses/<slug>/instructors/<int:user_id>/remove"): "302 403 403 403 403 303",
    ("POST", "/studio/courses/<slug>/items"): "302 403 403 403 403 400",
    ("POST", "/studio/courses/<slug>/items/<key>/module"): "302 403 403 403 403 400",
    ("POST", "/studio/courses/<slug>/items/<key>/move"): "302 403 403 403 403 303",
    ("POST", "/studio/courses/<slug>/items/<key>/remove"): "302 403 403 403 403 303",
    ("POST", "/studio/courses/<slug>/items/<key>/restore"): "302 403 403 403 403 303",
    ("POST", "/studio/courses/<slug>/items/<key>/settings"): "302 403 403 403 403 400",
    ("POST", "/studio/courses/<slug>/lessons/<key>"): "302 403 403 403 403 400",
    ("POST", "/studio/courses/<slug>/modules"): "302 403 403 403 403 400",
    ("POST", "/studio/courses/<slug>/modules/<int:module_id>/move"): "302 403 403 403 403 303",
    ("POST", "/studio/courses/<slug>/modules/<int:module_id>/title"): "302 403 403 403 403 303",
    ("POST", "/studio/courses/<slug>/publish"): "302 403 403 403 403 303",
    ("POST", "/studio/courses/<slug>/quizzes/<key>"): "302 403 403 403 403 400",
    (
        "POST",
        "/studio/courses/<slug>/quizzes/<key>/questions/<question_key>",
    ): "302 403 403 403 403 400",
    (
        "POST",
        "/studio/courses/<slug>/quizzes/<key>/questions/<question_key>/delete",
    ): "302 403 403 403 403 303",
    (
        "POST",
        "/studio/courses/<slug>/quizzes/<key>/questions/<question_key>/move",
    ): "302 403 403 403 403 303",
    ("POST", "/studio/courses/<slug>/quizzes/<key>/questions/new"): "302 403 403 403 403 400",
    ("POST", "/studio/courses/<slug>/unpublish"): "302 403 403 403 403 303",
    ("POST", "/studio/new"): "302 403 403 400 403 400",
    ("POST", "/studio/upload"): "302 403 403 400 403 400",
}


@cache
def example_package() -> LoadedPackage:
    """The example package, read (and its notebook released) once for the whole module."""
    package, problems = courses.load_package(ROOT / "courses" / "example-package")
    assert package is not None, problems
    return package


@dataclass
class World:
    users: dict[str, User | None]
    tokens: dict[str, str]
    values: dict[str, Any]


@pytest.fixture
def world(app: Flask, session: Session, make_user: Callable[..., User]) -> World:
    owner = make_user(roles=["instructor"])
    learner, other_learner = make_user(), make_user()
    other_instructor = make_user(roles=["instructor"])
    analyst, admin = make_user(roles=["analyst"]), make_user(roles=["admin"])
    course = courses.import_package(session, package=example_package(), owner=owner)
    course.published = True
    other_course = Course(
        slug="other-course",
        tier=Tier.PUBLIC,
        languages=["en"],
        sectors=[],
        title={"en": "Another instructor's course"},
        summary={"en": "."},
        owner_id=other_instructor.id,
    )
    session.add(other_course)
    session.flush()
    items = {i.key: i for i in session.scalars(select(Item).where(Item.course_id == course.id))}
    notebook = items["first-notebook"]
    enrollment = Enrollment(user_id=learner.id, course_id=course.id, language="en")
    session.add(enrollment)
    session.flush()
    attempt = QuizAttempt(
        enrollment_id=enrollment.id,
        item_id=items["basics-quiz"].id,
        answers={},
        results={},
        score=0,
        max_score=1,
        passed=False,
    )
    submission = Submission(
        enrollment_id=enrollment.id,
        item_id=notebook.id,
        user_id=learner.id,
        notebook=notebook.assignment.student,
    )
    session.add_all([attempt, submission])
    session.flush()
    head, cells = workspace.current(session, user=learner, item=notebook)
    run = runs.start(
        session,
        user=learner,
        item=notebook,
        base=head,
        cells=cells,
        cell_id=next(c["id"] for c in cells if c["type"] == "code" and "source" in c),
        queue_max=100,
        stale_seconds=600,
        max_bytes=10_000_000,
    )
    # The Run's revision is the one submitted: instructors may read it with the submission.
    revision = session.get(DraftRevision, run.revision_id)
    assert revision is not None
    revision.submission_id = submission.id
    fact = stats.record_completion(session, user=learner, course=course, language="en")
    certificate = certificates.issue(session, completion=fact)
    analyst_token = api.create_token(session, user=analyst)
    admin_token = api.create_token(session, user=admin)
    tokens = {"analyst": analyst_token.secret, "admin": admin_token.secret}
    values = {
        "slug": course.slug,
        "code": certificate.code,
        "submission_id": submission.id,
        "attempt_id": attempt.id,
        "run_id": run.id,
        "number": revision.number,
        "completion_id": fact.id,
        "module_id": course.modules[0].id,
        "token_id": admin_token.token.id,
        "user_id": learner.id,
        "question_key": "q-learns-from",
        "grade_id": "mean-score",
        "path": "lessons/img/pipeline.png",
        "filename": "oqu.css",
        "dimension": "region",
        "fmt": "csv",
        "token": accounts.reset_token(learner, secret=app.config["SECRET_KEY"]),
    }
    return World(
        users={
            "anonymous": None,
            "learner": learner,
            "other_learner": other_learner,
            "other_instructor": other_instructor,
            "analyst": analyst,
            "admin": admin,
        },
        tokens=tokens,
        values=values,
    )


def _item_key(rule: str) -> str:
    if "/attempts" in rule or "/quizzes/" in rule:
        return "basics-quiz"
    if "/assignments/" in rule or "/workspace" in rule:
        return "first-notebook"
    return "what-is-ai"


def url_for_rule(rule: str, world: World) -> str:
    """``rule`` with each ``<converter:name>`` replaced by a value of the world."""
    values = {**world.values, "item_key": _item_key(rule), "key": _item_key(rule)}
    # A session nobody holds (ids differ between databases): ending it is nobody's right.
    values.setdefault("session_id", 2_000_000_000)
    if "/stats/charts/" in rule:
        values["name"] = "cumulative"
    elif "/lang/" in rule:
        values["code"] = "en"
    elif rule.startswith("/open-data/"):
        values["name"] = "region-2026-Q1"  # nothing published in this world: 404
    elif "/oidc/" in rule or "/sign-in-methods/" in rule:
        values["name"] = "employer"  # no provider of that name is configured here
    else:
        values["name"] = "scores.csv"
    url = rule
    while "<" in url:
        start = url.index("<")
        end = url.index(">", start)
        name = url[start + 1 : end].rsplit(":", 1)[-1]
        url = url[:start] + str(values[name]) + url[end + 1 :]
    return url


def routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    }


def test_every_route_has_a_row(app: Flask) -> None:
    present = routes(app)
    missing = sorted(present - MATRIX.keys())
    stale = sorted(MATRIX.keys() - present)
    assert not missing, f"routes without a row in MATRIX (add who may use them): {missing}"
    assert not stale, f"rows for routes that no longer exist: {stale}"


def _ask(app: Flask, world: World, persona: str, method: str, url: str) -> int:
    client = app.test_client()
    user = world.users[persona]
    if user is not None:
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code in (302, 303), persona
    headers = {}
    if url.startswith("/api/") and persona in world.tokens:
        headers["Authorization"] = f"Bearer {world.tokens[persona]}"
    response = client.open(
        url, method=method, headers=headers, data={} if method == "POST" else None
    )
    return response.status_code


@pytest.mark.parametrize(("method", "rule"), sorted(MATRIX))
def test_each_persona_gets_its_status(app: Flask, world: World, method: str, rule: str) -> None:
    url = url_for_rule(rule, world)
    observed = " ".join(str(_ask(app, world, p, method, url)) for p in PERSONAS)
    if os.environ.get("LMS_PRINT_MATRIX"):
        print(f'MATRIX-ROW    ("{method}", "{rule}"): "{observed}",')
    assert observed == MATRIX[(method, rule)], f"{method} {url}: {PERSONAS}"
