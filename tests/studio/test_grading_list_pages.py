"""The manual-grading list comes 25 submissions a page, work still waiting first and oldest
first, with its count of cells left kept by grading and by the instructors' grades."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from graders.autograde import CellResult, GradeResult
from lms.assignments import grading
from lms.assignments import services as assignments
from lms.assignments.models import Submission, SubmissionStatus
from lms.courses.models import Item
from lms.learning.models import Enrollment
from lms.studio import grading as studio
from tests.certificates.test_list_queries import statements
from tests.studio.conftest import good_notebook

PER_PAGE = studio.GRADING_PER_PAGE
START = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
MANUAL = ("essay", "proof")  # the cells a person grades, 1 point each


def result(manual: tuple[str, ...] = MANUAL) -> GradeResult:
    """What the grader returns: the test cell scored, the manual cells left for a person."""
    cells = [CellResult("tests", 2.0, 2.0, False, True, "auto")]
    cells += [CellResult(g, None, 1.0, True, False, "manual") for g in manual]
    return GradeResult(
        status="graded",
        reason="",
        score=2.0,
        max_score=2.0 + len(manual),
        auto_max_score=2.0,
        needs_manual_grade=bool(manual),
        cells=cells,
    )


def grade(session, submission_id: int, outcome: GradeResult) -> Submission:
    """Claim and store as the worker does; the submission as stored."""
    session.expunge_all()  # the worker starts from the row, not from what this session holds
    token = grading.claim(session, submission_id=submission_id, stuck_seconds=60, task_id=None)
    assert token is not None
    assert grading.store(
        session,
        submission_id=submission_id,
        token=token,
        result=outcome,
        pass_score=Decimal("0.6"),
        auto_points=Decimal(2),
        hidden=set(),
        record=None,
    )
    session.expunge_all()
    return session.get_one(Submission, submission_id)


@pytest.fixture
def make_queue(session, make_user, example_course, instructor) -> Callable[..., list[int]]:
    """``make(count, done=...)``: ``count`` graded submissions by as many learners, each with
    two cells for a person, the later-made ones older, two at a time sharing a minute (the
    id settles their order); the ``n`` with ``done(n)`` have both cells graded. Their ids."""
    item = session.scalar(
        select(Item).where(Item.course_id == example_course.id, Item.key == "first-notebook")
    )
    text = good_notebook().decode()

    def make(count: int, *, done: Callable[[int], bool] = lambda n: False) -> list[int]:
        ids = []
        for n in range(count):
            learner = make_user()
            enrollment = Enrollment(user_id=learner.id, course_id=example_course.id, language="en")
            session.add(enrollment)
            session.flush()
            at = START + timedelta(minutes=(count - 1 - n) // 2)
            row = Submission(
                enrollment_id=enrollment.id,
                item_id=item.id,
                user_id=learner.id,
                notebook=text,
                submitted_at=at,
                sent_at=at,
                result=[],
                flags=[],
                timings={},
            )
            session.add(row)
            session.flush()
            stored = grade(session, row.id, result())
            if done(n):
                for grade_id in MANUAL:
                    studio.grade_cell(
                        session,
                        submission=stored,
                        grade_id=grade_id,
                        score=Decimal(1),
                        comment="",
                        by=instructor,
                    )
            ids.append(row.id)
        session.expunge_all()
        return ids

    return make


ROW = re.compile(
    r'/grading/(\d+)">#\d+</a></th>.*?<td>(?:<span class="badge bad">(\d+)</span>'
    r'|<span class="badge ok">(All graded)</span>)</td></tr>',
    re.S,
)


def listed(html: str) -> list[tuple[int, int]]:
    """(submission id, cells left to grade) of each row of the list, top to bottom."""
    return [(int(sid), 0 if graded else int(left)) for sid, left, graded in ROW.findall(html)]


def expected_order(session, ids: list[int]) -> list[tuple[int, int]]:
    rows = session.scalars(select(Submission).where(Submission.id.in_(ids))).all()
    ordered = sorted(rows, key=lambda s: (s.manual_pending == 0, s.submitted_at, s.id))
    return [(s.id, s.manual_pending) for s in ordered]


def test_the_list_comes_in_pages_waiting_work_first(
    client, session, login, instructor, example_course, make_queue
):
    ids = make_queue(PER_PAGE + 5, done=lambda n: n % 3 == 0)
    expected = expected_order(session, ids)
    assert [left for _, left in expected] == [2] * 20 + [0] * 10
    login(instructor)
    url = f"/studio/courses/{example_course.slug}/grading"
    first = client.get(url).get_data(as_text=True)
    assert listed(first) == expected[:PER_PAGE]
    assert "Page 1 of 2" in first
    assert f'href="{url}?page=2" rel="next"' in first
    second = client.get(f"{url}?page=2").get_data(as_text=True)
    assert listed(second) == expected[PER_PAGE:]
    assert f'href="{url}?page=1" rel="prev"' in second and 'rel="next"' not in second


def test_grading_cells_changes_the_count_and_the_place(
    client, session, login, instructor, example_course, make_queue
):
    ids = make_queue(3)
    login(instructor)
    base = f"/studio/courses/{example_course.slug}/grading"
    before = listed(client.get(base).get_data(as_text=True))
    assert before == expected_order(session, ids) and [left for _, left in before] == [2] * 3
    (oldest, _), (middle, _), (newest, _) = before

    def give(grade_id: str, score: str) -> None:
        response = client.post(f"{base}/{oldest}/{grade_id}", data={f"g-{grade_id}-score": score})
        assert response.status_code == 303

    give("essay", "0.5")
    assert listed(client.get(base).get_data(as_text=True))[0] == (oldest, 1)
    give("essay", "1")  # the same cell again: a changed grade, not one more graded cell
    assert listed(client.get(base).get_data(as_text=True))[0] == (oldest, 1)
    assert session.get_one(Submission, oldest).manual_pending == 1
    give("proof", "1")
    html = client.get(base).get_data(as_text=True)
    assert listed(html) == [(middle, 2), (newest, 2), (oldest, 0)]
    assert "All graded" in html


def test_a_regrade_keeps_the_grades_given(session, instructor, make_queue):
    (submission_id,) = make_queue(1)
    submission = session.get_one(Submission, submission_id)
    studio.grade_cell(
        session,
        submission=submission,
        grade_id="essay",
        score=Decimal(1),
        comment="",
        by=instructor,
    )
    assignments.request_regrade(session, submission=submission, by=instructor)
    session.commit()
    # The grader now finds a third cell for a person; the essay keeps its grade.
    again = grade(session, submission_id, result(("essay", "proof", "chart")))
    assert again.status == SubmissionStatus.GRADED and again.manual_pending == 2
    # A result with nothing left for a person waits for nobody.
    assignments.request_regrade(session, submission=again, by=instructor)
    session.commit()
    assert grade(session, submission_id, result(())).manual_pending == 0


def test_the_list_takes_a_fixed_number_of_queries(
    engine, client, session, login, instructor, example_course, make_queue
):
    login(instructor)
    url = f"/studio/courses/{example_course.slug}/grading"

    def count(page: int) -> int:
        session.expunge_all()  # a real request starts with an empty session
        with statements(engine) as seen:
            html = client.get(url, query_string={"page": page}).get_data(as_text=True)
        assert listed(html)
        return len(seen)

    make_queue(3, done=lambda n: n == 0)
    few = count(1)
    make_queue(2 * PER_PAGE, done=lambda n: n % 4 == 0)
    assert (count(1), count(3)) == (few, few), f"{few} statements for 3 submissions"
