"""The progress page lists flagged submissions 50 at a time, newest first, with their count;
unflagged work never takes a place in the list."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from lms.assignments.models import Submission, SubmissionStatus
from lms.courses.models import Item
from lms.learning.models import Enrollment
from tests.studio.conftest import good_notebook

FLAGGED = 55  # pages of 50 and 5
START = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def flagged(session, make_user, example_course):
    """FLAGGED flagged submissions and as many clean ones, interleaved, one a minute."""
    notebook = session.scalar(
        select(Item).where(Item.course_id == example_course.id, Item.key == "first-notebook")
    )
    learner = make_user()
    enrollment = Enrollment(user_id=learner.id, course_id=example_course.id, language="en")
    session.add(enrollment)
    session.flush()
    text = good_notebook().decode()
    rows = []
    for n in range(2 * FLAGGED):
        rows.append(
            Submission(
                enrollment_id=enrollment.id,
                item_id=notebook.id,
                user_id=learner.id,
                notebook=text,
                status=SubmissionStatus.GRADED,
                submitted_at=START + timedelta(minutes=n),
                result=[],
                timings={},
                flags=[{"kind": "patched-builtins", "detail": "x"}] if n % 2 else [],
            )
        )
    session.add_all(rows)
    session.flush()
    return ([r.id for r in reversed(rows) if r.flags], [r.id for r in rows if not r.flags])


def listed(html: str) -> list[int]:
    section = html[html.index('id="flagged"') :]
    section = section[: section.index("</ul>")]
    return [int(n) for n in re.findall(r"Submission #(\d+)", section)]


def test_flagged_submissions_come_in_pages(client, login, instructor, example_course, flagged):
    shown, clean = flagged
    login(instructor)
    url = f"/studio/courses/{example_course.slug}/progress"
    first = client.get(url).get_data(as_text=True)
    assert f"{FLAGGED} submissions are flagged." in first
    assert listed(first) == shown[:50]
    assert "Page 1 of 2" in first
    assert f'href="{url}?page=2#flagged-heading" rel="next"' in first
    second = client.get(f"{url}?page=2").get_data(as_text=True)
    assert listed(second) == shown[50:]
    assert f'href="{url}?page=1#flagged-heading" rel="prev"' in second
    assert 'rel="next"' not in second
    assert not set(clean) & set(listed(first) + listed(second))
    # The rest of the page is there on every page of the list.
    assert 'data-figure="enrolled">1<' in second


@pytest.mark.parametrize(("asked", "shown"), [("0", 1), ("x", 1), ("3", 2), ("100000", 2)])
def test_a_page_out_of_range_shows_the_nearest_page(
    client, login, instructor, example_course, flagged, asked, shown
):
    login(instructor)
    response = client.get(f"/studio/courses/{example_course.slug}/progress?page={asked}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"Page {shown} of 2" in html
    assert listed(html) == flagged[0][(shown - 1) * 50 : shown * 50]


def test_nothing_flagged_shows_no_pages(client, login, instructor, example_course):
    login(instructor)
    html = client.get(f"/studio/courses/{example_course.slug}/progress").get_data(as_text=True)
    assert "Nothing is flagged." in html and "Page 1" not in html
