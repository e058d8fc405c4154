"""The progress view's figures and manual grading, stored and visible through the service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from lms.assignments.models import ManualGrade, Submission, SubmissionStatus
from lms.courses.models import Item
from lms.db import utcnow
from lms.learning.models import Enrollment, ItemProgress
from lms.studio.grading import manual_grades_for
from tests.studio.conftest import good_notebook


def item(session, course, key):
    return session.scalar(select(Item).where(Item.course_id == course.id, Item.key == key))


def enrol(session, user, course, *, active_days_ago=0, completed=False):
    now = utcnow()
    row = Enrollment(
        user_id=user.id,
        course_id=course.id,
        language="en",
        last_active_at=now - timedelta(days=active_days_ago),
        completed_at=now if completed else None,
    )
    session.add(row)
    session.flush()
    return row


def progress(session, enrollment, it, *, passed, hours=None):
    start = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    session.add(
        ItemProgress(
            enrollment_id=enrollment.id,
            item_id=it.id,
            passed=passed,
            started_at=start,
            passed_at=start + timedelta(hours=hours) if passed else None,
        )
    )
    session.flush()


def submission(session, enrollment, it, user, **fields):
    row = Submission(
        enrollment_id=enrollment.id,
        item_id=it.id,
        user_id=user.id,
        notebook=good_notebook().decode(),
        status=SubmissionStatus.GRADED,
        **fields,
    )
    session.add(row)
    session.flush()
    return row


def test_progress_figures(client, session, make_user, login, instructor, example_course):
    lesson = item(session, example_course, "what-is-ai")
    quiz = item(session, example_course, "basics-quiz")
    notebook = item(session, example_course, "first-notebook")
    learners = [make_user() for _ in range(4)]
    rows = [
        enrol(session, learners[0], example_course, completed=True),
        enrol(session, learners[1], example_course, active_days_ago=3),
        enrol(session, learners[2], example_course, active_days_ago=45),
        enrol(session, learners[3], example_course, active_days_ago=31),
    ]
    for row, hours in zip(rows, (1, 2, 3, 10), strict=True):
        progress(session, row, lesson, passed=True, hours=hours)
    progress(session, rows[0], quiz, passed=True, hours=30)
    progress(session, rows[1], quiz, passed=False)
    progress(session, rows[2], quiz, passed=False)
    flagged = submission(
        session, rows[1], notebook, learners[1], flags=[{"kind": "patched-builtins", "detail": "x"}]
    )
    submission(session, rows[2], notebook, learners[2], flags=[])
    login(instructor)
    page = client.get(f"/studio/courses/{example_course.slug}/progress").get_data(as_text=True)
    assert 'data-figure="enrolled">4<' in page
    assert 'data-figure="active">2<' in page
    assert 'data-figure="completed">1<' in page
    lesson_row = page[page.index('id="figures-what-is-ai"') :]
    lesson_row = lesson_row[: lesson_row.index("</tr>")]
    # Four started, four passed; median of 1, 2, 3 and 10 hours is 2.5 hours.
    assert ">4<" in lesson_row and "100 %" in lesson_row and "2 h 30 min" in lesson_row
    quiz_row = page[page.index('id="figures-basics-quiz"') :]
    assert "33 %" in quiz_row[: quiz_row.index("</tr>")]
    lowest = page[page.index('id="lowest-pass-rate"') :]
    assert lowest.index("Quiz: basics") < lowest.index("What artificial intelligence is")
    longest = page[page.index('id="longest-time"') :]
    assert longest.index("Quiz: basics") < longest.index("What artificial intelligence is")
    flags = page[page.index('id="flagged"') :]
    assert f"Submission #{flagged.id}" in flags
    assert "patched-builtins" in flags
    assert flags.count("Submission #") == 1


def test_the_flagged_list_names_what_the_guard_put_back(
    client, session, make_user, login, instructor, example_course
):
    notebook = item(session, example_course, "first-notebook")
    learner = make_user()
    row = enrol(session, learner, example_course)
    names = ["numpy.allclose", "pandas.core.series.Series.median", "np (notebook)"]
    submission(
        session,
        row,
        notebook,
        learner,
        flags=["deleted-cell", "patched-library"],
        flag_details={"patched-library": names},
    )
    older = submission(session, row, notebook, learner, flags=["patched-builtins"])
    assert older.flag_details == {}  # nothing to name: the list shows the flag alone
    login(instructor)
    page = client.get(f"/studio/courses/{example_course.slug}/progress").get_data(as_text=True)
    flags = page[page.index('id="flagged"') :]
    lines = flags[: flags.index("</ul>")].split("</li>")
    line = next(x for x in lines if "patched-library" in x)
    assert "<code>patched-library</code> (" in line
    assert all(f"<code>{n}</code>" in line for n in names)
    assert "<code>deleted-cell</code>, " in line  # a flag without names stays bare
    assert any(x.endswith("<code>patched-builtins</code>") for x in lines)


def test_an_annulled_completion_is_not_counted(
    client, session, make_user, login, instructor, example_course
):
    from lms.stats.services import annul_completion, record_completion

    learners = [make_user() for _ in range(3)]
    for learner in learners:
        enrol(session, learner, example_course, completed=True)
        fact = record_completion(session, user=learner, course=example_course, language="en")
    annul_completion(session, completion=fact, reason="copied work", by_user=None)
    login(instructor)
    page = client.get(f"/studio/courses/{example_course.slug}/progress").get_data(as_text=True)
    assert 'data-figure="enrolled">3<' in page
    assert 'data-figure="completed">2<' in page


def test_manual_grading(client, session, login, instructor, example_course, to_grade):
    login(instructor)
    base = f"/studio/courses/{example_course.slug}/grading"
    listing = client.get(base).get_data(as_text=True)
    assert f"#{to_grade.id}" in listing
    page = client.get(f"{base}/{to_grade.id}").get_data(as_text=True)
    assert "essay" in page and "Because." in page
    assert 'id="cell-tests"' not in page
    url = f"{base}/{to_grade.id}/essay"
    too_much = client.post(url, data={"g-essay-score": "1.5", "g-essay-comment": "x"})
    assert too_much.status_code == 400
    assert "Enter a score from 0 to 1" in too_much.get_data(as_text=True)
    negative = client.post(url, data={"g-essay-score": "-1"})
    assert negative.status_code == 400
    assert (
        client.post(f"{base}/{to_grade.id}/tests", data={"g-tests-score": "1"}).status_code == 404
    )
    assert manual_grades_for(session, to_grade) == {}
    ok = client.post(url, data={"g-essay-score": "0.5", "g-essay-comment": "Half right."})
    assert ok.status_code == 303
    grades = manual_grades_for(session, to_grade)
    assert list(grades) == ["essay"]
    assert grades["essay"].score == Decimal("0.5")
    assert grades["essay"].comment == "Half right."
    assert grades["essay"].graded_by_id == instructor.id
    assert "All graded" in client.get(base).get_data(as_text=True)
    # Grading again changes the one grade.
    again = client.post(url, data={"g-essay-score": "1", "g-essay-comment": "Right after all."})
    assert again.status_code == 303
    stored = session.scalars(select(ManualGrade)).all()
    assert len(stored) == 1
    assert stored[0].score == Decimal(1)


def test_grading_other_course_is_refused(client, make_user, login, example_course, to_grade):
    login(make_user(roles=["instructor"]))
    response = client.post(
        f"/studio/courses/{example_course.slug}/grading/{to_grade.id}/essay",
        data={"g-essay-score": "1"},
    )
    assert response.status_code == 403


def test_learner_sees_the_grade_through_the_include(
    app, client, session, login, instructor, example_course, to_grade
):
    from flask import render_template_string

    include = '{% include "studio/_manual_grades.html" ignore missing %}'
    with app.test_request_context():
        assert "Graded by an instructor" not in render_template_string(include, submission=to_grade)
    login(instructor)
    client.post(
        f"/studio/courses/{example_course.slug}/grading/{to_grade.id}/essay",
        data={"g-essay-score": "0.5", "g-essay-comment": "<b>Nearly</b> right."},
    )
    with app.test_request_context():
        html = render_template_string(include, submission=to_grade)
    assert "Graded by an instructor" in html
    assert "0.50 / 1" in html
    assert "&lt;b&gt;Nearly&lt;/b&gt; right." in html
