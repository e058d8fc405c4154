"""Notebook assignments: submitting, looking up, regrading. Flushes; never commits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, defer, selectinload

from lms import events
from lms.accounts.models import User
from lms.assignments.models import Regrade, Submission, SubmissionStatus
from lms.courses.models import Assignment, Course, Item, ItemKind
from lms.courses.services import may_edit
from lms.db import utcnow
from lms.learning.models import Enrollment
from lms.learning.services import find_enrollment
from lms.paging import Page, page_of

SUBMISSIONS_PER_PAGE = 50


class AssignmentNotFound(Exception):
    """No active assignment item with this key in this (visible) course."""


class NotEnrolled(Exception):
    """The learner is not enrolled in the assignment's course."""


class AttemptsExhausted(Exception):
    """The learner has used every attempt the assignment allows."""


class InvalidNotebook(Exception):
    """The upload is not a Jupyter notebook; ``why`` says how: empty, encoding, json, schema."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class UploadTooLarge(Exception):
    """The upload is larger than the ``MAX_UPLOAD_BYTES`` setting."""


def find_assignment_item(
    session: Session, *, slug: str, item_key: str, include_drafts: bool = False
) -> Item:
    """The active assignment item ``item_key`` of course ``slug``."""
    item = session.scalar(
        select(Item)
        .join(Course, Item.course_id == Course.id)
        .where(
            Course.slug == slug,
            Item.key == item_key,
            Item.kind == ItemKind.ASSIGNMENT,
            Item.active.is_(True),
        )
        .options(selectinload(Item.assignment).selectinload(Assignment.files))
    )
    if item is None or item.assignment is None:
        raise AssignmentNotFound(slug, item_key)
    if not item.course.published and not include_drafts:
        raise AssignmentNotFound(slug, item_key)
    return item


def assignment_of(item: Item) -> Assignment:
    """The assignment of an assignment item (``find_assignment_item`` checked it is there)."""
    if item.assignment is None:
        raise AssignmentNotFound(item.course_id, item.key)
    return item.assignment


def teaches(session: Session, *, user: User, course: Course) -> bool:
    """Whether ``user`` may see the course's submissions: owner, co-instructor or admin."""
    return may_edit(session, user=user, course=course)


def validated_notebook(data: bytes, *, max_bytes: int) -> str:
    """The upload as notebook JSON text, or ``InvalidNotebook`` / ``UploadTooLarge``."""
    import nbformat  # here: importing it costs seconds
    from nbformat.validator import NotebookValidationError  # here: importing it costs seconds

    if len(data) > max_bytes:
        raise UploadTooLarge(len(data))
    if not data.strip():
        raise InvalidNotebook("empty")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidNotebook("encoding") from error
    try:
        node = nbformat.reads(text, as_version=4)
    except Exception as error:  # noqa: BLE001 - nbformat raises many kinds for bad input
        raise InvalidNotebook("json") from error
    try:
        nbformat.validate(node)
    except (nbformat.ValidationError, NotebookValidationError) as error:
        raise InvalidNotebook("schema") from error
    return text


def attempts_used(session: Session, *, enrollment: Enrollment, item: Item) -> int:
    """How many notebooks the learner has submitted for this item."""
    return (
        session.scalar(
            select(func.count(Submission.id)).where(
                Submission.enrollment_id == enrollment.id, Submission.item_id == item.id
            )
        )
        or 0
    )


def submit_notebook(
    session: Session,
    *,
    user: User,
    item: Item,
    data: bytes,
    max_bytes: int,
    uploaded: bool = True,
    request_id: str | None = None,
) -> Submission:
    """Store a learner's notebook, queued for grading. Flushes; the caller commits, then sends.
    An upload (not the workspace's Submit) is announced as ``events.notebook_uploaded``."""
    enrollment = find_enrollment(session, user=user, course=item.course)
    if enrollment is None:
        raise NotEnrolled(user.id, item.course_id)
    limit = assignment_of(item).max_attempts
    if limit is not None:
        # Two uploads at once must not both take the last attempt: hold the enrolment's
        # row until this transaction ends (as quizzes do).
        session.refresh(enrollment, with_for_update=True)
    if limit is not None and attempts_used(session, enrollment=enrollment, item=item) >= limit:
        raise AttemptsExhausted(limit)
    notebook = validated_notebook(data, max_bytes=max_bytes)
    now = utcnow()
    submission = Submission(
        enrollment_id=enrollment.id,
        item_id=item.id,
        user_id=user.id,
        notebook=notebook,
        status=SubmissionStatus.QUEUED,
        submitted_at=now,
        sent_at=now,
        result=[],
        flags=[],
        timings={},
        request_id=request_id,
    )
    session.add(submission)
    session.flush()
    if uploaded:
        events.notebook_uploaded.send(submission, session=session)
    return submission


def my_submissions(session: Session, *, user: User, item: Item) -> list[Submission]:
    """The user's submissions for an item, newest first."""
    return list(
        session.scalars(
            select(Submission)
            .where(Submission.user_id == user.id, Submission.item_id == item.id)
            .order_by(Submission.submitted_at.desc(), Submission.id.desc())
        )
    )


def visible_submission(session: Session, *, submission_id: int, user: User) -> Submission | None:
    """The submission when ``user`` owns it or teaches its course; else None."""
    submission = session.get(Submission, submission_id)
    if submission is None:
        return None
    if submission.user_id == user.id:
        return submission
    if teaches(session, user=user, course=submission.item.course):
        return submission
    return None


def course_submissions(
    session: Session, *, course: Course, page: int = 1, per_page: int = SUBMISSIONS_PER_PAGE
) -> Page[Submission]:
    """One page of the submissions of the course's items, newest first."""
    statement = (
        select(Submission)
        .join(Item, Submission.item_id == Item.id)
        .where(Item.course_id == course.id)
        .order_by(Submission.submitted_at.desc(), Submission.id.desc())
    )
    # The list shows neither notebook: leave those (large) texts unloaded.
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
        ),
    )


def request_regrade(session: Session, *, submission: Submission, by: User) -> Regrade:
    """Queue ``submission`` to be graded again; the worker fills in the new result."""
    regrade = Regrade(
        submission_id=submission.id,
        requested_by_id=by.id,
        requested_at=utcnow(),
        old_status=str(submission.status),
        old_score=submission.score,
    )
    session.add(regrade)
    submission.status = SubmissionStatus.QUEUED
    submission.sent_at = utcnow()
    submission.regrade_count += 1
    session.flush()
    return regrade


def regrade_item(session: Session, *, item: Item, by: User) -> list[Submission]:
    """Queue every submission of an assignment item to be graded again."""
    submissions = list(
        session.scalars(
            select(Submission).where(Submission.item_id == item.id).order_by(Submission.id)
        )
    )
    for submission in submissions:
        request_regrade(session, submission=submission, by=by)
    return submissions


def stuck_submission_ids(
    session: Session, *, stuck_seconds: float, now: datetime | None = None, limit: int = 500
) -> list[int]:
    """Submissions queued or running past the deadline; marks them as sent again now."""
    now = now or utcnow()
    deadline = now - timedelta(seconds=stuck_seconds)
    ids = list(
        session.scalars(
            select(Submission.id)
            .where(
                or_(
                    (Submission.status == SubmissionStatus.QUEUED)
                    & (Submission.sent_at < deadline),
                    (Submission.status == SubmissionStatus.RUNNING)
                    & (Submission.started_at < deadline)
                    & (Submission.sent_at < deadline),
                )
            )
            .order_by(Submission.submitted_at)
            .limit(limit)
        )
    )
    if ids:
        session.execute(update(Submission).where(Submission.id.in_(ids)).values(sent_at=now))
        session.flush()
    return ids


def request_ids(session: Session, *, submission_ids: list[int]) -> dict[int, str | None]:
    """The upload request id of each of ``submission_ids``."""
    if not submission_ids:
        return {}
    rows = session.execute(
        select(Submission.id, Submission.request_id).where(Submission.id.in_(submission_ids))
    )
    return {row.id: row.request_id for row in rows}


def requeue_interrupted(session: Session) -> int:
    """After a restore no worker holds any claim: submissions queued or being graded go
    back to the queue, as if sent long ago, so that the next sweep sends them at once."""
    long_ago = utcnow() - timedelta(days=1)
    result = session.execute(
        update(Submission)
        .where(Submission.status.in_([SubmissionStatus.QUEUED, SubmissionStatus.RUNNING]))
        .values(status=SubmissionStatus.QUEUED, sent_at=long_ago)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return int(getattr(result, "rowcount", 0) or 0)
