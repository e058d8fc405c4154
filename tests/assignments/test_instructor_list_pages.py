"""The instructor's list of a course's submissions comes in pages of 50, newest first, with a
count of them all and links to the previous and next page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from lms.assignments.models import Submission, SubmissionStatus
from lms.learning.models import Enrollment
from tests.assignments.conftest import CORRECT, create_course, enrol, solved

TOTAL = 120  # pages of 50, 50 and 20
START = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def many(setup, session, make_user):
    """TOTAL submissions of the course, one a minute; the newest first in the list."""
    enrollment = session.scalar(
        select(Enrollment).where(
            Enrollment.user_id == setup.learner.id, Enrollment.course_id == setup.course.id
        )
    )
    notebook = solved(CORRECT).decode()
    rows = [
        Submission(
            enrollment_id=enrollment.id,
            item_id=setup.item.id,
            user_id=setup.learner.id,
            notebook=notebook,
            status=SubmissionStatus.GRADED,
            submitted_at=START + timedelta(minutes=n),
            result=[],
            flags=[],
            timings={},
        )
        for n in range(TOTAL)
    ]
    session.add_all(rows)
    # Another course's submission never shows.
    other_course, other_item = create_course(session, owner=make_user(roles=["instructor"]))
    other = enrol(session, setup.learner, other_course)
    session.add(
        Submission(
            enrollment_id=other.id,
            item_id=other_item.id,
            user_id=setup.learner.id,
            notebook=notebook,
            result=[],
            flags=[],
            timings={},
        )
    )
    session.flush()
    return [r.id for r in reversed(rows)]


def listed(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/instructor/submissions/(\d+)"', html)]


def test_submissions_come_in_pages(setup, many, login):
    client = login(setup.instructor)
    url = f"/instructor/courses/{setup.course.slug}/submissions"
    first = client.get(url).get_data(as_text=True)
    assert f"{TOTAL} submissions in total." in first
    assert "Page 1 of 3" in first
    assert listed(first) == many[:50]
    assert 'rel="prev"' not in first
    assert f'href="{url}?page=2" rel="next"' in first
    second = client.get(f"{url}?page=2").get_data(as_text=True)
    assert listed(second) == many[50:100] and "Page 2 of 3" in second
    assert f'href="{url}?page=1" rel="prev"' in second
    assert f'href="{url}?page=3" rel="next"' in second
    last = client.get(f"{url}?page=3").get_data(as_text=True)
    assert listed(last) == many[100:] and 'rel="next"' not in last
    # Every submission is on exactly one page.
    assert sorted(listed(first) + listed(second) + listed(last)) == sorted(many)


@pytest.mark.parametrize(
    ("asked", "shown"), [("0", 1), ("-4", 1), ("abc", 1), ("", 1), ("4", 3), ("999999", 3)]
)
def test_a_page_out_of_range_shows_the_nearest_page(setup, many, login, asked, shown):
    client = login(setup.instructor)
    response = client.get(f"/instructor/courses/{setup.course.slug}/submissions?page={asked}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"Page {shown} of 3" in html
    assert listed(html) == many[(shown - 1) * 50 : shown * 50]


def test_one_page_reads_one_page_of_rows(setup, many, login, engine, session):
    client = login(setup.instructor)
    session.expunge_all()
    selects: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if "FROM submission" in statement and "count(" not in statement.lower():
            selects.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        html = client.get(f"/instructor/courses/{setup.course.slug}/submissions?page=2").get_data(
            as_text=True
        )
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert listed(html) == many[50:100]
    # The rows come from one bounded query, and the notebooks' texts stay in the database.
    assert len(selects) == 1 and "LIMIT" in selects[0].upper()
    assert "submission.notebook" not in selects[0] and "submission.executed" not in selects[0]


def test_a_course_without_submissions_says_so(setup, login):
    html = (
        login(setup.instructor)
        .get(f"/instructor/courses/{setup.course.slug}/submissions")
        .get_data(as_text=True)
    )
    assert "No submissions yet." in html and "Page 1" not in html


def test_another_instructor_sees_no_page(setup, many, login, make_user):
    client = login(make_user(roles=["instructor"]))
    assert (
        client.get(f"/instructor/courses/{setup.course.slug}/submissions?page=2").status_code == 403
    )
