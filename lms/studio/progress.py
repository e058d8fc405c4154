"""What a course's instructors see of its learners: counts, pass rates, slow items, flags.
Reads only."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, defer, selectinload

from lms.assignments.models import Submission
from lms.courses.models import Course, Item
from lms.db import utcnow
from lms.learning.models import Enrollment, ItemProgress
from lms.paging import Page, page_of
from lms.stats import services as stats
from lms.stats.models import Completion
from lms.workspace.services import Activity
from lms.workspace.services import activity as workspace_activity

ACTIVE_DAYS = 30
SLOWEST = 5
FLAGGED_PER_PAGE = 50


@dataclass
class ItemFigures:
    """How learners fare on one item."""

    item: Item
    started: int
    passed: int
    median_time: timedelta | None
    # Notebook assignments only: learners with a workspace draft, who ran it, who submitted.
    workspace: Activity | None = None

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.started if self.started else None


@dataclass
class CourseFigures:
    """A course's progress view."""

    enrolled: int
    active: int
    completed: int
    items: list[ItemFigures]
    lowest_pass_rate: list[ItemFigures]
    longest_time: list[ItemFigures]
    flagged: Page[Submission]


def course_figures(
    session: Session, *, course: Course, now: datetime | None = None, flagged_page: int = 1
) -> CourseFigures:
    """Enrolled, active in the last 30 days, completed; per-item figures; a page of flagged
    work."""
    now = now or utcnow()
    by_course = Enrollment.course_id == course.id
    enrolled = session.scalar(select(func.count()).where(by_course)) or 0
    active = (
        session.scalar(
            select(func.count()).where(
                by_course, Enrollment.last_active_at >= now - timedelta(days=ACTIVE_DAYS)
            )
        )
        or 0
    )
    # An annulled completion leaves ``completed_at`` as it was: its correction says it is void.
    annulled = select(Completion.id).where(
        Completion.id.in_(stats.annulled_ids()),
        Completion.user_id == Enrollment.user_id,
        Completion.course_id == Enrollment.course_id,
    )
    completed = (
        session.scalar(
            select(func.count()).where(
                by_course, Enrollment.completed_at.is_not(None), ~exists(annulled)
            )
        )
        or 0
    )
    rows = session.execute(
        select(
            ItemProgress.item_id,
            ItemProgress.passed,
            ItemProgress.started_at,
            ItemProgress.passed_at,
        )
        .join(Enrollment, Enrollment.id == ItemProgress.enrollment_id)
        .where(by_course)
    ).all()
    started: dict[int, int] = {}
    passed: dict[int, int] = {}
    times: dict[int, list[float]] = {}
    for item_id, did_pass, started_at, passed_at in rows:
        started[item_id] = started.get(item_id, 0) + 1
        if did_pass:
            passed[item_id] = passed.get(item_id, 0) + 1
            if passed_at is not None and started_at is not None:
                times.setdefault(item_id, []).append((passed_at - started_at).total_seconds())
    activity = workspace_activity(session, course=course)
    items = [
        ItemFigures(
            item=item,
            started=started.get(item.id, 0),
            passed=passed.get(item.id, 0),
            median_time=timedelta(seconds=statistics.median(times[item.id]))
            if times.get(item.id)
            else None,
            workspace=activity.get(item.id),
        )
        for item in course.items
        if item.active
    ]
    tried = [f for f in items if f.started]
    lowest = sorted(tried, key=lambda f: (f.pass_rate or 0.0, f.item.position))[:SLOWEST]
    timed = [f for f in items if f.median_time is not None]
    longest = sorted(
        timed,
        key=lambda f: (
            -f.median_time.total_seconds(),  # type: ignore[union-attr]
            f.item.position,
        ),
    )[:SLOWEST]
    return CourseFigures(
        enrolled=enrolled,
        active=active,
        completed=completed,
        items=items,
        lowest_pass_rate=lowest,
        longest_time=longest,
        flagged=flagged_submissions(session, course=course, page=flagged_page),
    )


def flagged_submissions(
    session: Session, *, course: Course, page: int = 1, per_page: int = FLAGGED_PER_PAGE
) -> Page[Submission]:
    """One page of the course's submissions whose grading flagged something for a person."""
    # Flags are a JSON list; json_array_length exists in SQLite and PostgreSQL alike.
    statement = (
        select(Submission)
        .join(Item, Item.id == Submission.item_id)
        .where(Item.course_id == course.id, func.json_array_length(Submission.flags) > 0)
        .order_by(Submission.submitted_at.desc(), Submission.id.desc())
    )
    return page_of(
        session,
        statement,
        page=page,
        per_page=per_page,
        options=(
            selectinload(Submission.item),
            defer(Submission.notebook),
            defer(Submission.executed),
        ),
    )
