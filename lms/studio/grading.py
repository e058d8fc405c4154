"""Manual grading: the cells nbgrader leaves for a person, graded in the browser, and what the
learner is shown of it. Flushes; never commits."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer, selectinload

from lms.accounts.models import User
from lms.assignments.grading import manual_cells_waiting
from lms.assignments.models import ManualGrade, Submission, SubmissionStatus
from lms.courses.models import Course, Item
from lms.db import utcnow
from lms.paging import Page, page_of

GRADING_PER_PAGE = 25


class NotGradable(Exception):
    """This cell of this submission does not wait for a person."""


class ScoreOutOfRange(Exception):
    """The score is below 0 or above the cell's points."""

    def __init__(self, maximum: Decimal) -> None:
        super().__init__(str(maximum))
        self.maximum = maximum


@dataclass
class ManualCell:
    """A cell waiting for (or given) a person's grade."""

    grade_id: str
    max_score: Decimal
    grade: ManualGrade | None


def manual_cells(session: Session, *, submission: Submission) -> list[ManualCell]:
    """The submission's cells that need a person, with the grade given so far."""
    return _cells(submission, manual_grades_for(session, submission))


def _cells(submission: Submission, grades: dict[str, ManualGrade]) -> list[ManualCell]:
    return [
        ManualCell(
            grade_id=str(cell["grade_id"]),
            max_score=Decimal(str(cell.get("max_score") or 0)),
            grade=grades.get(str(cell["grade_id"])),
        )
        for cell in submission.result or []
        if isinstance(cell, dict) and cell.get("needs_manual_grade")
    ]


def manual_grades_for(session: Session, submission: Submission) -> dict[str, ManualGrade]:
    """The instructors' grades of a submission's cells, by grade id (for the learner's page)."""
    grades = session.scalars(select(ManualGrade).where(ManualGrade.submission_id == submission.id))
    return {g.grade_id: g for g in grades}


def submissions_to_grade(
    session: Session, *, course: Course, page: int = 1, per_page: int = GRADING_PER_PAGE
) -> Page[Submission]:
    """One page of the course's graded submissions with cells for a person: those still
    waiting first, then the fully graded ones, oldest first within each."""
    statement = (
        select(Submission)
        .join(Item, Item.id == Submission.item_id)
        .where(
            Item.course_id == course.id,
            Submission.needs_manual_grade.is_(True),
            Submission.status == SubmissionStatus.GRADED,
        )
        .order_by(Submission.manual_pending == 0, Submission.submitted_at, Submission.id)
    )
    # The list shows neither notebook nor the cells: leave those (large) values unloaded.
    return page_of(
        session,
        statement,
        page=page,
        per_page=per_page,
        options=(
            selectinload(Submission.user),
            selectinload(Submission.item),
            defer(Submission.notebook),
            defer(Submission.executed),
            defer(Submission.result),
        ),
    )


def grade_cell(
    session: Session,
    *,
    submission: Submission,
    grade_id: str,
    score: Decimal,
    comment: str,
    by: User,
) -> ManualGrade:
    """Record (or change) a person's score and comment for one cell, and recount the
    submission's cells still waiting."""
    # One grader at a time per submission (PostgreSQL), and the cells as stored now: the
    # count below then sees every grade committed before, and grading's store() waits.
    session.refresh(submission, with_for_update=True)
    cells = manual_cells(session, submission=submission)
    cell: Any = next((c for c in cells if c.grade_id == grade_id), None)
    if cell is None:
        raise NotGradable(grade_id)
    if score < 0 or score > cell.max_score:
        raise ScoreOutOfRange(cell.max_score)
    grade = cell.grade or ManualGrade(submission_id=submission.id, grade_id=grade_id, score=score)
    grade.score = score
    grade.comment = comment.strip()
    grade.graded_by_id = by.id
    grade.graded_at = utcnow()
    session.add(grade)
    graded = {c.grade_id for c in cells if c.grade is not None} | {grade_id}
    submission.manual_pending = manual_cells_waiting(submission.result or [], graded)
    session.flush()
    return grade


def answers(submission: Submission) -> dict[str, str]:
    """The learner's text of each graded cell of the submission, by grade id."""
    import nbformat  # here: importing it costs seconds

    try:
        node = nbformat.reads(submission.notebook, as_version=4)
    except Exception:  # noqa: BLE001 - an unreadable notebook shows no answers
        return {}
    found = {}
    for cell in node.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id:
            found[str(grade_id)] = cell.source
    return found
