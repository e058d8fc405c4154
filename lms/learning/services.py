"""Enrolment, progress on items and course completion (quiz attempts: ``quizzes``). Flushes;
never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from lms import events
from lms.accounts.models import User
from lms.courses.models import Course, Item, ItemKind, Module, Tier
from lms.courses.services import may_preview
from lms.db import utcnow
from lms.learning.models import Enrollment, ItemProgress


class CourseNotFound(Exception):
    """No course has this slug, or it is a draft the user may not see."""


class ItemNotFound(Exception):
    """The course has no active item with this key."""


class CourseNotOpen(Exception):
    """The course is a draft: nobody can enrol yet."""


class LanguageNotOffered(Exception):
    """The course is not taught in the language asked for."""


class PrerequisitesNotMet(Exception):
    """Courses the learner has to complete first."""

    def __init__(self, missing: list[Course]) -> None:
        super().__init__(", ".join(c.slug for c in missing))
        self.missing = missing


class NotEnrolled(Exception):
    """The learner is not enrolled in the item's course."""


class WrongItemKind(Exception):
    """The item is not of the kind this action is for."""


@dataclass(frozen=True)
class CourseProgress:
    """How far one enrolment is: required items passed, the next item, completion."""

    enrollment: Enrollment
    course: Course
    required_total: int
    required_passed: int
    next_item: Item | None
    progress: dict[int, ItemProgress]

    @property
    def completed_at(self) -> datetime | None:
        return self.enrollment.completed_at


# Courses and who may see them


def visible_course(session: Session, *, slug: str, user: Any) -> Course:
    """The course ``slug`` if ``user`` may see it (drafts only for those who may preview)."""
    # The course, its modules and their items in one round trip.
    course = (
        session.scalars(
            select(Course)
            .where(Course.slug == slug)
            .options(joinedload(Course.modules).joinedload(Module.items))
        )
        .unique()
        .one_or_none()
    )
    if course is None or (
        not course.published and not may_preview(session, user=user, course=course)
    ):
        raise CourseNotFound(slug)
    return course


def active_items(course: Course) -> list[Item]:
    """The course's active items in the order learners meet them (module, then item)."""
    return [item for module in course.modules for item in module.items if item.active]


def openly_readable(course: Course, item: Item) -> bool:
    """Whether anyone may read ``item`` without an account or an enrolment: the lessons of a
    published public-tier course. Prerequisites gate enrolment (progress, quizzes,
    completion), not reading."""
    return course.published and course.tier == Tier.PUBLIC and item.kind == ItemKind.LESSON


def find_item(course: Course, *, key: str) -> Item:
    """The active item ``key`` of ``course``."""
    for item in active_items(course):
        if item.key == key:
            return item
    raise ItemNotFound(key)


# Enrolment


def find_enrollment(session: Session, *, user: Any, course: Course) -> Enrollment | None:
    """The enrolment of ``user`` in ``course``, if any."""
    if not getattr(user, "is_authenticated", False):
        return None
    return session.scalar(
        select(Enrollment).where(Enrollment.user_id == user.id, Enrollment.course_id == course.id)
    )


def find_enrollment_with_progress(
    session: Session,
    *,
    user: Any,
    course: Course,
    item: Item,
) -> tuple[Enrollment | None, ItemProgress | None]:
    """The enrolment of ``user`` in ``course`` and its progress row on ``item``, in one query."""
    if not getattr(user, "is_authenticated", False):
        return None, None
    found = session.execute(
        select(Enrollment, ItemProgress)
        .outerjoin(
            ItemProgress,
            (ItemProgress.enrollment_id == Enrollment.id) & (ItemProgress.item_id == item.id),
        )
        .where(Enrollment.user_id == user.id, Enrollment.course_id == course.id)
    ).one_or_none()
    return (None, None) if found is None else (found[0], found[1])


def has_completed(session: Session, *, user: User, course: Course) -> bool:
    """Whether ``user`` completed ``course``: an annulled (fraudulent) completion does not
    count, so it satisfies no prerequisite."""
    return bool(
        session.scalar(
            select(
                exists().where(
                    Enrollment.user_id == user.id,
                    Enrollment.course_id == course.id,
                    Enrollment.completed_at.is_not(None),
                    Enrollment.completion_annulled_at.is_(None),
                )
            )
        )
    )


def missing_prerequisites(session: Session, *, user: User, course: Course) -> list[Course]:
    """The prerequisite courses ``user`` has not completed yet."""
    return [
        required
        for required in course.prerequisites
        if not has_completed(session, user=user, course=required)
    ]


def enrol(session: Session, *, user: User, course: Course, language: str) -> Enrollment:
    """Enrol ``user`` in ``course`` in ``language``; a second call returns the same enrolment."""
    existing = find_enrollment(session, user=user, course=course)
    if existing is not None:
        return existing
    if not course.published:
        raise CourseNotOpen(course.slug)
    if language not in (course.languages or []):
        raise LanguageNotOffered(language)
    missing = missing_prerequisites(session, user=user, course=course)
    if missing:
        raise PrerequisitesNotMet(missing)
    enrollment = Enrollment(user_id=user.id, course_id=course.id, language=language)
    try:
        with session.begin_nested():
            session.add(enrollment)
    except IntegrityError:
        # A double click raced us to it: the other request's enrolment is the one.
        found = find_enrollment(session, user=user, course=course)
        if found is None:
            raise
        return found
    return enrollment


def default_language(course: Course, ui_language: str) -> str:
    """The course language offered first: the UI language if the course has it."""
    languages = course.languages or []
    if ui_language in languages:
        return ui_language
    return languages[0] if languages else ui_language


def require_enrollment(session: Session, *, user: User, course: Course) -> Enrollment:
    """The learner's enrolment in ``course``, or NotEnrolled."""
    enrollment = find_enrollment(session, user=user, course=course)
    if enrollment is None:
        raise NotEnrolled(course.slug)
    return enrollment


# Progress and completion


def progress_by_item(session: Session, *, enrollment: Enrollment) -> dict[int, ItemProgress]:
    """The enrolment's progress rows by item id."""
    rows = session.scalars(select(ItemProgress).where(ItemProgress.enrollment_id == enrollment.id))
    return {row.item_id: row for row in rows}


def course_progress(session: Session, *, enrollment: Enrollment) -> CourseProgress:
    """Required items passed out of all required active items, and what to do next."""
    progress = progress_by_item(session, enrollment=enrollment)
    items = active_items(enrollment.course)
    return _summarise(enrollment, items, progress)


def _summarise(
    enrollment: Enrollment, items: list[Item], progress: dict[int, ItemProgress]
) -> CourseProgress:
    def passed(item: Item) -> bool:
        row = progress.get(item.id)
        return row is not None and row.passed

    required = [item for item in items if item.required]
    pending = [item for item in items if not passed(item)]
    next_item = next((i for i in pending if i.required), pending[0] if pending else None)
    return CourseProgress(
        enrollment=enrollment,
        course=enrollment.course,
        required_total=len(required),
        required_passed=sum(1 for item in required if passed(item)),
        next_item=next_item,
        progress=progress,
    )


def my_courses(session: Session, *, user: User) -> list[CourseProgress]:
    """Every enrolment of ``user`` with its progress, most recently active first."""
    # Courses, modules and items in three queries instead of three per enrolment.
    enrollments = list(
        session.scalars(
            select(Enrollment)
            .where(Enrollment.user_id == user.id)
            .order_by(Enrollment.last_active_at.desc(), Enrollment.id.desc())
            .options(
                selectinload(Enrollment.course)
                .selectinload(Course.modules)
                .selectinload(Module.items)
            )
        )
    )
    if not enrollments:
        return []
    rows = session.scalars(
        select(ItemProgress).where(ItemProgress.enrollment_id.in_([e.id for e in enrollments]))
    )
    by_enrollment: dict[int, dict[int, ItemProgress]] = {}
    for row in rows:
        by_enrollment.setdefault(row.enrollment_id, {})[row.item_id] = row
    return [_summarise(e, active_items(e.course), by_enrollment.get(e.id, {})) for e in enrollments]


def record_item_result(
    session: Session,
    *,
    enrollment: Enrollment,
    item: Item,
    score: Decimal | float | int | None,
    max_score: Decimal | float | int | None,
    passed: bool,
    at: datetime | None = None,
    new_attempt: bool = True,
) -> ItemProgress:
    """Record one result on ``item``: best score, attempts, passed (never undone), completion.

    ``new_attempt`` is False for a result that replaces an earlier one (an instructor's
    regrade): the learner's attempts stay as they were.
    """
    at = at or utcnow()
    # Serialise results of one enrolment (web and grader) so completion is decided once.
    session.refresh(enrollment, with_for_update=True)
    row = session.scalar(
        select(ItemProgress).where(
            ItemProgress.enrollment_id == enrollment.id, ItemProgress.item_id == item.id
        )
    )
    if row is None:
        row = ItemProgress(
            enrollment_id=enrollment.id, item_id=item.id, started_at=at, attempts=0, passed=False
        )
        session.add(row)
    score_d = None if score is None else Decimal(str(score))
    max_d = None if max_score is None else Decimal(str(max_score))
    if score_d is not None and _better(score_d, max_d, row.best_score, row.max_score):
        row.best_score, row.max_score = score_d, max_d
    if new_attempt or not row.attempts:
        row.attempts = (row.attempts or 0) + 1
    if passed and not row.passed:
        row.passed, row.passed_at = True, at
    if enrollment.last_active_at is None or enrollment.last_active_at < at:
        enrollment.last_active_at = at
    session.flush()
    check_completion(session, enrollment=enrollment, at=at)
    return row


def _better(
    score: Decimal, max_score: Decimal | None, best: Decimal | None, best_max: Decimal | None
) -> bool:
    """Whether ``score`` beats the best so far, as a fraction when the maxima differ."""
    if best is None:
        return True
    if max_score and best_max and max_score != best_max:
        return score / max_score > best / best_max
    return score > best


def check_completion(
    session: Session, *, enrollment: Enrollment, at: datetime | None = None
) -> bool:
    """Complete the course when every required active item is passed (True when it just was).

    Subscribers of ``events.course_completed`` react in the same transaction: statistics
    write the completion fact (once per account and course), certificates follow it.
    """
    if enrollment.completed_at is not None:
        return False
    required = set(
        session.scalars(
            select(Item.id).where(
                Item.course_id == enrollment.course_id,
                Item.active.is_(True),
                Item.required.is_(True),
            )
        )
    )
    if not required:
        return False  # a course with nothing required is never complete by itself
    passed = set(
        session.scalars(
            select(ItemProgress.item_id).where(
                ItemProgress.enrollment_id == enrollment.id, ItemProgress.passed.is_(True)
            )
        )
    )
    if not required <= passed:
        return False
    enrollment.completed_at = at or utcnow()
    session.flush()
    events.course_completed.send(enrollment, session=session)
    session.flush()
    return True


def mark_lesson_done(session: Session, *, enrollment: Enrollment, item: Item) -> ItemProgress:
    """Record that the learner read a lesson."""
    if item.kind != ItemKind.LESSON:
        raise WrongItemKind(item.key)
    return record_item_result(
        session, enrollment=enrollment, item=item, score=None, max_score=None, passed=True
    )
