"""Recording completions and keeping the counts exact. Flushes; never commits."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.accounts.models import User
from lms.courses.models import Course, Tier
from lms.db import utcnow
from lms.stats.models import Completion, Milestone

ALMATY = ZoneInfo("Asia/Almaty")
AGE_BANDS = ("14-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")


def almaty_day(moment: datetime) -> date:
    """The calendar day in Asia/Almaty of a UTC timestamp."""
    return moment.astimezone(ALMATY).date()


def age_band(birth_year: int, year: int) -> str:
    """The band of the age reached in ``year`` by someone born in ``birth_year``."""
    age = year - birth_year
    for band, upper in (("14-17", 17), ("18-24", 24), ("25-34", 34), ("35-44", 44),
                        ("45-54", 54), ("55-64", 64)):
        if age <= upper:
            return band
    return "65+"


def record_completion(session: Session, *, user: User, course: Course, language: str,
                      at: datetime | None = None) -> Completion:
    """Write the completion fact and the person's milestones, as they are at ``at``."""
    at = at or utcnow()
    day = almaty_day(at)
    fact = Completion(
        user_id=user.id, person_key=user.person_key, course_id=course.id,
        tier=str(course.tier), region=user.region, sector=user.sector, sex=str(user.sex),
        age_band=age_band(user.birth_year, day.year), language=language,
        completed_at=at, day=day)
    session.add(fact)
    session.flush()
    milestone = session.get(Milestone, user.person_key)
    if milestone is None:
        milestone = Milestone(person_key=user.person_key)
        session.add(milestone)
    if milestone.first_day is None:
        milestone.first_day, milestone.first_completion_id = day, fact.id
    if course.tier == Tier.SPECIALIST and milestone.specialist_day is None:
        milestone.specialist_day, milestone.specialist_completion_id = day, fact.id
    session.flush()
    return fact


def completions_of(session: Session, *, user: User) -> list[Completion]:
    """The completion facts of one account, newest first."""
    return list(session.scalars(
        select(Completion).where(Completion.user_id == user.id)
        .order_by(Completion.completed_at.desc())))


def merge_persons(session: Session, *, keep_key: str, drop_key: str) -> None:
    """Record that person ``drop_key`` is person ``keep_key`` (same IIN found on both).

    Called by accounts before moving the accounts of ``drop_key`` to ``keep_key``. The
    completions of ``drop_key`` stay as they are; the milestones are merged so that the
    person counts once, from the earlier date.
    """
    drop = session.get(Milestone, drop_key)
    if drop is None:
        return
    keep = session.get(Milestone, keep_key)
    if keep is None:
        keep = Milestone(person_key=keep_key)
        session.add(keep)
    if drop.first_day is not None and (keep.first_day is None or drop.first_day < keep.first_day):
        keep.first_day, keep.first_completion_id = drop.first_day, drop.first_completion_id
    if drop.specialist_day is not None and (
            keep.specialist_day is None or drop.specialist_day < keep.specialist_day):
        keep.specialist_day = drop.specialist_day
        keep.specialist_completion_id = drop.specialist_completion_id
    session.delete(drop)
    session.flush()
