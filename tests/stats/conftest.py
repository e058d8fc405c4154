"""Fixtures for statistics tests: courses of both tiers, completions, a direct count."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.accounts.models import User
from lms.courses.models import Course, Tier
from lms.stats import services
from lms.stats.counters import FactAttributes, cube_keys
from lms.stats.models import (
    Completion,
    Correction,
    CorrectionKind,
    CubeCount,
    DailyCount,
    PersonMerge,
)

_n = itertools.count(1)


@pytest.fixture
def make_course(session: Session) -> Callable[..., Course]:
    def make(tier: str = "public", **fields) -> Course:
        n = next(_n)
        course = Course(
            slug=fields.pop("slug", f"course-{n}"),
            tier=Tier(tier),
            languages=["kk", "ru", "en"],
            sectors=[],
            title={"en": f"Course {n}", "ru": f"Курс {n}", "kk": f"Курс {n}"},
            summary={"en": "x"},
            published=True,
            **fields,
        )
        session.add(course)
        session.flush()
        return course

    return make


@pytest.fixture
def complete(session: Session) -> Callable[..., Completion]:
    def do(
        user: User, course: Course, *, language: str = "kk", at: datetime | None = None
    ) -> Completion:
        return services.record_completion(
            session,
            user=user,
            course=course,
            language=language,
            at=at or datetime(2026, 3, 10, 8, 0, tzinfo=UTC),
        )

    return do


def merge_accounts(session: Session, *, keep: User, drop: User) -> None:
    """What accounts does on IIN linking: merge_persons, then move the accounts."""
    drop_key = drop.person_key
    services.merge_persons(session, keep_key=keep.person_key, drop_key=drop_key)
    for user in session.scalars(select(User).where(User.person_key == drop_key)):
        user.person_key = keep.person_key
    session.flush()


def direct_count(session: Session) -> tuple[dict, dict]:
    """Counters computed straight from the facts, in Python (independent of rollups.py)."""
    annulled = set(
        session.scalars(
            select(Correction.completion_id).where(Correction.kind == CorrectionKind.ANNULLED)
        )
    )
    merged = dict(session.execute(select(PersonMerge.drop_key, PersonMerge.keep_key)).all())
    facts = [f for f in session.scalars(select(Completion)) if f.id not in annulled]
    first: dict[str, Completion] = {}
    spec: dict[str, Completion] = {}
    for f in sorted(facts, key=lambda f: (f.completed_at, f.id)):
        person = merged.get(f.person_key, f.person_key)
        first.setdefault(person, f)
        if f.tier == "specialist":
            spec.setdefault(person, f)
    firsts = {f.id for f in first.values()}
    specs = {f.id for f in spec.values()}
    daily: dict = defaultdict(lambda: [0, 0, 0])
    cube: dict = defaultdict(lambda: [0, 0, 0])
    for f in facts:
        a = FactAttributes.of(f)
        add = (1, int(f.id in firsts), int(f.id in specs))
        for cell in (daily[(a.day, a.tier)], *(cube[k] for k in cube_keys(a))):
            for i in range(3):
                cell[i] += add[i]
    return ({k: v for k, v in daily.items() if any(v)}, {k: v for k, v in cube.items() if any(v)})


def stored_counts(session: Session) -> tuple[dict, dict]:
    daily = {
        (r.day, r.tier): [r.completions, r.new_trained, r.new_specialists]
        for r in session.scalars(select(DailyCount))
    }
    cube = {
        (r.cube, r.month, r.tier, r.region, r.k1, r.k2): [
            r.completions,
            r.new_trained,
            r.new_specialists,
        ]
        for r in session.scalars(select(CubeCount))
    }
    for table in (daily, cube):
        assert all(v >= 0 for values in table.values() for v in values), "a cell went negative"
    return ({k: v for k, v in daily.items() if any(v)}, {k: v for k, v in cube.items() if any(v)})


def assert_counts_exact(session: Session) -> None:
    session.flush()
    assert stored_counts(session) == direct_count(session)
