"""Uploading notebooks: what is stored, what is refused, who sees what (no worker needed)."""

from __future__ import annotations

import io
import json
from decimal import Decimal

from sqlalchemy import func, select

from lms.assignments import grading
from lms.assignments.models import Submission, SubmissionStatus
from tests.assignments.conftest import (
    CORRECT,
    HIDDEN_MARK,
    RELEASE,
    create_course,
    solved,
    upload,
)
from tests.conftest import PASSWORD


def count(session, item) -> int:
    return session.scalar(select(func.count(Submission.id)).where(Submission.item_id == item.id))


def only(session, item) -> Submission:
    return session.scalars(select(Submission).where(Submission.item_id == item.id)).one()


def test_item_page_offers_student_version_and_upload_form(setup, login):
    client = login(setup.learner)
    page = client.get(f"/courses/{setup.course.slug}/assignments/{setup.item.key}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Adding numbers" in html and 'type="file"' in html
    student = client.get(f"/courses/{setup.course.slug}/assignments/add/student.ipynb")
    assert student.status_code == 200
    text = student.get_data(as_text=True)
    assert HIDDEN_MARK not in text and "return a + b" not in text
    assert json.loads(text)["nbformat"] == 4


def test_upload_is_stored_queued_and_shown(setup, login, session):
    client = login(setup.learner)
    response = upload(client, setup.course, setup.item, solved(CORRECT))
    assert response.status_code == 303
    submission = only(session, setup.item)
    assert response.headers["Location"].endswith(f"/submissions/{submission.id}")
    assert submission.status == SubmissionStatus.QUEUED
    assert submission.user_id == setup.learner.id
    page = client.get(f"/submissions/{submission.id}").get_data(as_text=True)
    assert "Waiting for a grader" in page
    assert f'data-poll-url="/submissions/{submission.id}/status"' in page
    assert "Refresh" in page  # the no-JavaScript way to see the score
    listing = client.get(f"/courses/{setup.course.slug}/assignments/add").get_data(as_text=True)
    assert f"/submissions/{submission.id}" in listing


def test_malformed_notebook_is_refused_and_nothing_stored(setup, login, session):
    client = login(setup.learner)
    broken = json.loads(solved(CORRECT))
    broken["cells"][0]["cell_type"] = "spreadsheet"
    for data in (b'{"cells": [', json.dumps(broken).encode(), b"PK\x03\x04 not a notebook", b""):
        response = upload(client, setup.course, setup.item, data)
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert "Nothing was saved" in html or "Choose a notebook" in html
    assert count(session, setup.item) == 0


def test_oversize_upload_is_refused_with_a_clear_error(app, setup, login, session):
    client = login(setup.learner)
    app.config["MAX_UPLOAD_BYTES"] = 4000
    big = json.loads(solved(CORRECT))
    big["cells"][1]["source"] = "x = 1\n" * 2000
    response = upload(client, setup.course, setup.item, json.dumps(big).encode())
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    assert count(session, setup.item) == 0


def test_request_over_the_body_limit_gets_the_same_clear_error(app, setup, login, session):
    client = login(setup.learner)
    app.config["MAX_CONTENT_LENGTH"] = 2000
    response = upload(client, setup.course, setup.item, b"x" * 10_000)
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    assert count(session, setup.item) == 0


def test_learner_not_enrolled_cannot_submit(setup, login, make_user, session):
    stranger = make_user()
    client = login(stranger)
    # Like lessons and quizzes, the page and its files are for enrolled learners (enrolment
    # is where prerequisites are checked): a stranger is sent to the course page to enrol.
    base = f"/courses/{setup.course.slug}/assignments/add"
    for path in (base, f"{base}/student.ipynb"):
        response = client.get(path, headers={"Accept-Language": "en"}, follow_redirects=True)
        assert response.request.path == f"/courses/{setup.course.slug}"
        page = response.get_data(as_text=True)
        assert "Enrol in this course to open" in page and "BEGIN SOLUTION" not in page
    response = upload(client, setup.course, setup.item, solved(CORRECT))
    assert response.status_code == 403
    assert "Enrol in the course" in response.get_data(as_text=True)
    assert count(session, setup.item) == 0


def test_attempt_limit_is_enforced(session, make_user, login):
    from tests.assignments.conftest import enrol

    owner, learner = make_user(roles=["instructor"]), make_user()
    course, item = create_course(session, owner=owner, max_attempts=1)
    enrol(session, learner, course)
    client = login(learner)
    assert upload(client, course, item, solved(CORRECT)).status_code == 303
    second = upload(client, course, item, solved(CORRECT))
    assert second.status_code == 409
    assert "every attempt" in second.get_data(as_text=True)
    assert count(session, item) == 1


def test_another_learner_cannot_see_my_submission(setup, login, make_user, client, session):
    login(setup.learner)
    upload(client, setup.course, setup.item, solved(CORRECT))
    submission = only(session, setup.item)
    client.post("/logout")
    other = make_user()
    enrolled_other = login(other)
    assert enrolled_other.get(f"/submissions/{submission.id}").status_code == 404
    assert enrolled_other.get(f"/submissions/{submission.id}/status").status_code == 404


def test_draft_course_assignment_is_hidden_from_learners(session, make_user, login):
    owner, learner = make_user(roles=["instructor"]), make_user()
    course, item = create_course(session, owner=owner, published=False)
    client = login(learner)
    assert client.get(f"/courses/{course.slug}/assignments/add").status_code == 404


def test_feedback_shows_visible_output_and_only_scores_of_hidden_tests(setup, login, session):
    """A graded result as stored by the worker: the learner sees no hidden test's output."""
    submission = Submission(
        enrollment_id=_enrollment_id(session, setup),
        item_id=setup.item.id,
        user_id=setup.learner.id,
        notebook=solved(CORRECT).decode(),
        status=SubmissionStatus.GRADED,
        score=Decimal(3),
        max_score=Decimal(3),
        auto_max_score=Decimal(3),
        passed=True,
        result=grading.learner_cells(
            [
                {
                    "grade_id": "test-visible",
                    "score": 1,
                    "max_score": 1,
                    "passed": True,
                    "kind": "auto",
                    "feedback_output": "visible-test-ran\n",
                },
                {
                    "grade_id": "test-hidden",
                    "score": 2,
                    "max_score": 2,
                    "passed": True,
                    "kind": "auto",
                    "feedback_output": HIDDEN_MARK,
                },
            ],
            {"test-hidden"},
        ),
    )
    session.add(submission)
    session.flush()
    client = login(setup.learner)
    fragment = client.get(f"/submissions/{submission.id}/status").get_data(as_text=True)
    assert "data-poll-url" not in fragment  # final: the page stops polling
    assert "visible-test-ran" in fragment and "Passed" in fragment
    assert HIDDEN_MARK not in fragment
    assert "only the result is shown" in fragment
    assert RELEASE.auto_points == 3


def test_feedback_shows_visible_check_messages_and_only_that_a_hidden_check_failed(
    setup, login, session
):
    hint = {"kk": "Медиананы алыңыз.", "ru": "Возьмите медиану.", "en": "Use the median."}
    secret = {"kk": "SECRET-kk", "ru": "SECRET-ru", "en": "SECRET-en"}
    submission = Submission(
        enrollment_id=_enrollment_id(session, setup),
        item_id=setup.item.id,
        user_id=setup.learner.id,
        notebook=solved(CORRECT).decode(),
        status=SubmissionStatus.GRADED,
        score=Decimal(0),
        max_score=Decimal(3),
        auto_max_score=Decimal(3),
        passed=False,
        result=grading.learner_cells(
            [
                {
                    "grade_id": "test-visible",
                    "score": 0,
                    "max_score": 3,
                    "passed": False,
                    "kind": "auto",
                    "feedback_output": "",
                    "checks": [
                        {"id": "fill", "status": "failed", "hidden": False, "messages": hint},
                        {"id": "size", "status": "passed", "hidden": False, "messages": hint},
                        {"id": "hid-den", "status": "failed", "hidden": True, "messages": secret},
                    ],
                }
            ],
            set(),
        ),
    )
    assert "hid-den" not in str(submission.result) and "SECRET" not in str(submission.result)
    session.add(submission)
    session.flush()
    setup.learner.locale = "ru"
    session.flush()
    client = login(setup.learner)
    fragment = client.get(f"/submissions/{submission.id}/status").get_data(as_text=True)
    assert "Возьмите медиану." in fragment and "Use the median." not in fragment
    assert "SECRET" not in fragment and "hid-den" not in fragment
    assert "Одна из скрытых проверок не пройдена." in fragment


def _enrollment_id(session, setup) -> int:
    from lms.learning.models import Enrollment

    return session.scalar(select(Enrollment.id).where(Enrollment.user_id == setup.learner.id))


def test_uploads_are_rate_limited_and_need_the_csrf_token(request, app_settings, setup, session):
    app_settings.update(RATELIMIT_ENABLED=True, RATELIMIT_SUBMIT="2 per day", WTF_CSRF_ENABLED=True)
    client = request.getfixturevalue("client")
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    client.post(
        "/login", data={"email": setup.learner.email, "password": PASSWORD, "csrf_token": token}
    )
    assert upload(client, setup.course, setup.item, solved(CORRECT)).status_code == 400
    assert count(session, setup.item) == 0  # no CSRF token: refused, nothing stored
    page = client.get(f"/courses/{setup.course.slug}/assignments/add").get_data(as_text=True)
    token = page.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    statuses = [
        client.post(
            f"/courses/{setup.course.slug}/assignments/add",
            data={"notebook": (io.BytesIO(solved(CORRECT)), "a.ipynb"), "csrf_token": token},
            content_type="multipart/form-data",
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [303, 303, 429]
    assert count(session, setup.item) == 2


def test_instructor_sees_the_executed_notebook_escaped(setup, login, make_user, session, client):
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    executed = new_notebook(
        cells=[
            new_markdown_cell("<script>alert('md')</script>"),
            new_code_cell(
                "print('<img src=x onerror=alert(1)>')",
                outputs=[
                    new_output("stream", name="stdout", text="<img src=x onerror=alert(1)>\n"),
                    new_output(
                        "display_data",
                        data={
                            "text/html": "<script>alert('html')</script>",
                            "text/plain": "<HTML object>",
                        },
                    ),
                ],
            ),
        ]
    )
    submission = Submission(
        enrollment_id=_enrollment_id(session, setup),
        item_id=setup.item.id,
        user_id=setup.learner.id,
        notebook=solved(CORRECT).decode(),
        status=SubmissionStatus.GRADED,
        score=Decimal(1),
        max_score=Decimal(3),
        auto_max_score=Decimal(3),
        executed=nbformat.writes(executed),
        result=[],
        flags=["always-equal-object", "patched-library"],
        flag_details={"patched-library": ["numpy.allclose", "<script>x</script>"]},
    )
    session.add(submission)
    session.flush()
    login(setup.learner)
    assert client.get(f"/instructor/courses/{setup.course.slug}/submissions").status_code == 403
    assert client.get(f"/instructor/submissions/{submission.id}").status_code == 403
    client.post("/logout")
    login(make_user(roles=["instructor"]))  # teaches another course, not this one
    assert client.get(f"/instructor/submissions/{submission.id}").status_code == 403
    client.post("/logout")
    login(setup.instructor)
    listing = client.get(f"/instructor/courses/{setup.course.slug}/submissions")
    assert listing.status_code == 200 and "Flagged" in listing.get_data(as_text=True)
    html = client.get(f"/instructor/submissions/{submission.id}").get_data(as_text=True)
    main = html.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    assert "<script" not in main and "<img src=x" not in main
    assert "&lt;script&gt;alert(&#39;md&#39;)&lt;/script&gt;" in main
    assert "&lt;img src=x onerror=alert(1)&gt;" in main and "always-equal-object" in main
    # What the guard put back is named, escaped like everything else.
    assert '<code class="flag-name">numpy.allclose</code>' in main
    assert "&lt;script&gt;x&lt;/script&gt;" in main
