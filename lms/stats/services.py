"""Recording completions and keeping the counts exact. Flushes; never commits."""

from __future__ import annotations

import bisect
from datetime import datetime

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from lms import events
from lms.accounts.models import User
from lms.courses.models import Course, Tier
from lms.days import almaty_day
from lms.db import MAX_ID, utcnow
from lms.stats import counters
from lms.stats.counters import FactAttributes
from lms.stats.models import Completion, Correction, CorrectionKind, Milestone, PersonMerge

AGE_BANDS = ("14-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")
AGE_BAND_UPPER = (17, 24, 34, 44, 54, 64)  # the oldest age in each band but the last


class AlreadyAnnulled(Exception):
    """The completion was annulled before."""


def age_band(birth_year: int, year: int) -> str:
    """The band of the age reached in ``year`` by someone born in ``birth_year``."""
    return AGE_BANDS[bisect.bisect_left(AGE_BAND_UPPER, year - birth_year)]


def person_of(session: Session, person_key: str) -> str:
    """The surviving key of the person a (possibly merged-away) key belongs to."""
    keep = session.scalar(select(PersonMerge.keep_key).where(PersonMerge.drop_key == person_key))
    return keep or person_key


def _earlier(at: datetime, fact_id: int, than_at: datetime | None, than_id: int | None) -> bool:
    return than_at is None or (at, fact_id) < (than_at, than_id or 0)


def record_completion(
    session: Session, *, user: User, course: Course, language: str, at: datetime | None = None
) -> Completion:
    """Write the completion fact, the person's milestones and the counters, as at ``at``."""
    at = at or utcnow()
    day = almaty_day(at)
    fact = Completion(
        user_id=user.id,
        person_key=user.person_key,
        course_id=course.id,
        tier=str(course.tier),
        region=user.region,
        sector=user.sector,
        sex=str(user.sex),
        age_band=age_band(user.birth_year, day.year),
        language=language,
        completed_at=at,
        day=day,
    )
    session.add(fact)
    session.flush()
    attrs = FactAttributes.of(fact)
    deltas = counters.Deltas()
    deltas.add(attrs, completions=1)
    person = person_of(session, user.person_key)
    milestone = session.get(Milestone, person)
    if milestone is None:
        milestone = Milestone(person_key=person)
        session.add(milestone)
    # A back-dated completion (imports, synthetic data) can move an existing milestone.
    if _earlier(at, fact.id, milestone.first_at, milestone.first_completion_id):
        if milestone.first_completion_id is not None:
            _withdraw(session, deltas, milestone.first_completion_id, trained=-1)
        milestone.first_completion_id, milestone.first_day, milestone.first_at = fact.id, day, at
        deltas.add(attrs, trained=1)
    if course.tier == Tier.SPECIALIST and _earlier(
        at, fact.id, milestone.specialist_at, milestone.specialist_completion_id
    ):
        if milestone.specialist_completion_id is not None:
            _withdraw(session, deltas, milestone.specialist_completion_id, specialists=-1)
        milestone.specialist_completion_id = fact.id
        milestone.specialist_day, milestone.specialist_at = day, at
        deltas.add(attrs, specialists=1)
    deltas.flush(session)
    session.flush()
    return fact


def _withdraw(session: Session, deltas: counters.Deltas, completion_id: int, **change: int) -> None:
    fact = session.get(Completion, completion_id)
    assert fact is not None
    deltas.add(FactAttributes.of(fact), **change)


def completion_of(session: Session, *, user_id: int, course_id: int) -> Completion | None:
    """The completion fact of one account in one course, if there is one."""
    return session.scalar(
        select(Completion).where(Completion.user_id == user_id, Completion.course_id == course_id)
    )


def completions_of(session: Session, *, user: User) -> list[Completion]:
    """The completion facts of one account, newest first."""
    return list(
        session.scalars(
            select(Completion)
            .where(Completion.user_id == user.id)
            .order_by(Completion.completed_at.desc())
        )
    )


def find_completions(session: Session, *, query: str) -> list[Completion]:
    """An admin's search: a completion by its number, or an account's by e-mail."""
    query = query.strip()
    if query.isdigit() and int(query) <= MAX_ID:
        return [c for c in [session.get(Completion, int(query))] if c is not None]
    if not query:
        return []
    # The exact spelling too, for accounts stored before e-mails were normalised.
    user = session.scalar(select(User).where(User.email == query.lower())) or session.scalar(
        select(User).where(User.email == query)
    )
    return completions_of(session, user=user) if user else []


def annulled_among(session: Session, *, completions: list[Completion]) -> set[int]:
    """The ids of those completions that were annulled."""
    if not completions:
        return set()
    ids = [c.id for c in completions]
    return set(session.scalars(annulled_ids().where(Correction.completion_id.in_(ids))))


def course_titles(session: Session, *, locale: str) -> dict[str, str]:
    """Every course's title in ``locale`` (its first language where missing), by id."""
    titles = {}
    for course in session.scalars(select(Course)):
        first = next(iter(course.title.values()), course.slug)
        titles[str(course.id)] = course.title.get(locale) or first
    return titles


def annulled_ids() -> Select[int]:
    """A subquery of the ids of annulled completions."""
    return select(Correction.completion_id).where(Correction.kind == CorrectionKind.ANNULLED)


def is_annulled(session: Session, *, completion: Completion) -> bool:
    """Whether an admin annulled this completion."""
    return bool(
        session.scalar(
            select(
                exists().where(
                    Correction.completion_id == completion.id,
                    Correction.kind == CorrectionKind.ANNULLED,
                )
            )
        )
    )


def merge_persons(session: Session, *, keep_key: str, drop_key: str) -> None:
    """Record that person ``drop_key`` is person ``keep_key`` (same IIN found on both).

    Called by accounts before moving the accounts of ``drop_key`` to ``keep_key``. The
    completions of ``drop_key`` stay as they are; the later of the two first completions
    (and of the two first specialist completions) is withdrawn from its counter cells
    with a correction, so the person counts once, from the earlier date.
    """
    if keep_key == drop_key:
        return
    session.flush()
    for row in session.scalars(select(PersonMerge).where(PersonMerge.keep_key == drop_key)):
        row.keep_key = keep_key
    session.add(PersonMerge(drop_key=drop_key, keep_key=keep_key))
    drop = session.get(Milestone, drop_key)
    if drop is None:
        session.flush()
        return
    keep = session.get(Milestone, keep_key)
    if keep is None:
        keep = Milestone(person_key=keep_key)
        session.add(keep)
    deltas = counters.Deltas()
    reason = "same person (IIN) as another account"
    for kind, measure in (("first", "trained"), ("specialist", "specialists")):
        d_id, d_at = getattr(drop, f"{kind}_completion_id"), getattr(drop, f"{kind}_at")
        k_id, k_at = getattr(keep, f"{kind}_completion_id"), getattr(keep, f"{kind}_at")
        if d_id is None:
            continue
        if k_id is not None:
            later = d_id if (d_at, d_id) > (k_at, k_id) else k_id
            _withdraw(session, deltas, later, **{measure: -1})
            session.add(Correction(completion_id=later, kind=CorrectionKind.MERGED, reason=reason))
            if later == k_id:
                _copy(keep, drop, kind)
        else:
            _copy(keep, drop, kind)
    session.delete(drop)
    deltas.flush(session)
    session.flush()


def _copy(target: Milestone, source: Milestone, kind: str) -> None:
    for suffix in ("completion_id", "day", "at"):
        setattr(target, f"{kind}_{suffix}", getattr(source, f"{kind}_{suffix}"))


def annul_completion(
    session: Session, *, completion: Completion, reason: str, by_user: User | None
) -> Correction:
    """Annul a completion: correction recorded, counters decremented, milestones moved.

    Subscribers of ``events.completion_annulled`` react (the certificate is revoked).
    """
    if is_annulled(session, completion=completion):
        raise AlreadyAnnulled(completion.id)
    correction = Correction(
        completion_id=completion.id,
        kind=CorrectionKind.ANNULLED,
        reason=reason[:500],
        by_user_id=by_user.id if by_user else None,
    )
    session.add(correction)
    session.flush()
    deltas = counters.Deltas()
    deltas.add(FactAttributes.of(completion), completions=-1)
    person = person_of(session, completion.person_key)
    milestone = session.get(Milestone, person)
    if milestone is not None:
        for kind, measure, tier in (
            ("first", "trained", None),
            ("specialist", "specialists", str(Tier.SPECIALIST)),
        ):
            if getattr(milestone, f"{kind}_completion_id") != completion.id:
                continue
            deltas.add(FactAttributes.of(completion), **{measure: -1})
            successor = _first_live(session, person, tier=tier)
            _point(milestone, kind, successor)
            if successor is not None:
                deltas.add(FactAttributes.of(successor), **{measure: 1})
    deltas.flush(session)
    events.completion_annulled.send(completion, session=session, reason=reason)
    session.flush()
    return correction


def _point(milestone: Milestone, kind: str, fact: Completion | None) -> None:
    setattr(milestone, f"{kind}_completion_id", fact.id if fact else None)
    setattr(milestone, f"{kind}_day", fact.day if fact else None)
    setattr(milestone, f"{kind}_at", fact.completed_at if fact else None)


def _first_live(session: Session, person: str, *, tier: str | None) -> Completion | None:
    """The earliest completion of a person that is not annulled."""
    keys = select(PersonMerge.drop_key).where(PersonMerge.keep_key == person)
    query = (
        select(Completion)
        .where((Completion.person_key == person) | Completion.person_key.in_(keys))
        .where(Completion.id.not_in(annulled_ids()))
        .order_by(Completion.completed_at, Completion.id)
        .limit(1)
    )
    if tier is not None:
        query = query.where(Completion.tier == tier)
    return session.scalar(query)
