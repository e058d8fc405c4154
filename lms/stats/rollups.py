"""Recompute the milestones and counters from the facts and corrections (rebuild, check)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import zip_longest
from typing import Any

from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy.orm import Session

from lms.courses.models import Tier
from lms.stats.counters import CUBE_KEY, DAILY_KEY, Deltas, FactAttributes
from lms.stats.models import Completion, CubeCount, DailyCount, Milestone, PersonMerge
from lms.stats.services import annulled_ids

MILESTONE_FIELDS = (
    "person_key",
    "first_completion_id",
    "first_day",
    "first_at",
    "specialist_completion_id",
    "specialist_day",
    "specialist_at",
)


@dataclass
class Expected:
    """Counters as the facts say they should be."""

    deltas: Deltas
    facts: int


def _live_facts(session: Session) -> Any:
    """Non-annulled facts with their person and whether each is a milestone (window SQL)."""
    person = func.coalesce(PersonMerge.keep_key, Completion.person_key).label("person")
    live = (
        select(Completion, person)
        .outerjoin(PersonMerge, PersonMerge.drop_key == Completion.person_key)
        .where(Completion.id.not_in(annulled_ids()))
    ).subquery()
    order = (live.c.completed_at, live.c.id)
    return select(
        live,
        func.row_number().over(partition_by=live.c.person, order_by=order).label("rank_any"),
        func.row_number()
        .over(partition_by=(live.c.person, live.c.tier), order_by=order)
        .label("rank_tier"),
    )


def expected(session: Session) -> Expected:
    """Counter values computed from the facts, gathered in memory (cubes are small)."""
    deltas = Deltas()
    n = 0
    for row in session.execute(_live_facts(session).execution_options(yield_per=20000)):
        n += 1
        attrs = FactAttributes(
            row.day,
            row.tier,
            row.region,
            row.sector,
            row.sex,
            row.age_band,
            row.course_id,
            row.language,
        )
        deltas.add(
            attrs,
            completions=1,
            trained=int(row.rank_any == 1),
            specialists=int(row.tier == Tier.SPECIALIST and row.rank_tier == 1),
        )
    return Expected(deltas, n)


def expected_milestones(session: Session) -> Iterator[tuple[Any, ...]]:
    """A row of ``MILESTONE_FIELDS`` for every person with a live completion, by person."""
    facts = _live_facts(session).subquery()
    first = facts.alias("first")
    spec = facts.alias("spec")
    query = (
        select(
            first.c.person,
            first.c.id,
            first.c.day,
            first.c.completed_at,
            spec.c.id,
            spec.c.day,
            spec.c.completed_at,
        )
        .outerjoin(
            spec,
            and_(
                spec.c.person == first.c.person,
                spec.c.tier == str(Tier.SPECIALIST),
                spec.c.rank_tier == 1,
            ),
        )
        .where(first.c.rank_any == 1)
        .order_by(first.c.person)
    )
    yield from session.execute(query.execution_options(yield_per=20000))


def rebuild(session: Session) -> int:
    """Replace milestones and counters by what the facts say; returns the live fact count."""
    result = expected(session)
    session.execute(delete(DailyCount))
    session.execute(delete(CubeCount))
    result.deltas.flush(session)
    session.execute(delete(Milestone))
    batch: list[dict[str, Any]] = []
    for person, first_id, _, _, spec_id, _, _ in expected_milestones(session):
        batch.append(
            {
                "person_key": person,
                "first_completion_id": first_id,
                "specialist_completion_id": spec_id,
            }
        )
        if len(batch) >= 20000:
            _insert_milestones(session, batch)
            batch = []
    _insert_milestones(session, batch)
    session.flush()
    return result.facts


def _insert_milestones(session: Session, batch: list[dict[str, Any]]) -> None:
    if not batch:
        return
    ids = {b["first_completion_id"] for b in batch} | {
        b["specialist_completion_id"] for b in batch if b["specialist_completion_id"]
    }
    when = {
        row.id: (row.day, row.completed_at)
        for row in session.execute(
            select(Completion.id, Completion.day, Completion.completed_at).where(
                Completion.id.in_(ids)
            )
        )
    }
    for b in batch:
        b["first_day"], b["first_at"] = when[b["first_completion_id"]]
        spec = b["specialist_completion_id"]
        b["specialist_day"], b["specialist_at"] = when[spec] if spec else (None, None)
    session.execute(insert(Milestone), batch)


def _stored(session: Session, model: Any, key: tuple[str, ...]) -> dict[tuple, list[int]]:
    cols = [getattr(model, k) for k in key]
    rows = session.execute(
        select(*cols, model.completions, model.new_trained, model.new_specialists)
    )
    return {tuple(r[: len(key)]): list(r[len(key) :]) for r in rows}


def first_difference(session: Session) -> str | None:
    """Recompute aside and describe the first disagreement with the stored roll-ups."""
    result = expected(session)
    for label, model, key, want in (
        ("stat_daily", DailyCount, DAILY_KEY, result.deltas.daily),
        ("stat_cube", CubeCount, CUBE_KEY, result.deltas.cube),
    ):
        have = _stored(session, model, key)
        for cell in sorted(set(have) | set(want), key=lambda k: tuple(map(str, k))):
            stored = have.get(cell, [0, 0, 0])
            computed = list(want.get(cell, [0, 0, 0]))
            if stored != computed:
                where = ", ".join(f"{k}={v}" for k, v in zip(key, cell, strict=True))
                return (
                    f"{label} ({where}): stored completions/new_trained/new_specialists "
                    f"{stored}, facts give {computed}"
                )
    stored_ms = session.execute(
        select(*(getattr(Milestone, f) for f in MILESTONE_FIELDS))
        .where(Milestone.first_completion_id.is_not(None))
        .order_by(Milestone.person_key)
        .execution_options(yield_per=20000)
    )
    for have_row, want_row in zip_longest(stored_ms, expected_milestones(session)):
        if have_row is None or want_row is None or have_row[0] != want_row[0]:
            have_t = tuple(have_row) if have_row is not None else None
            want_t = tuple(want_row) if want_row is not None else None
            return f"milestone: stored {have_t}, facts give {want_t}"
        for name, have, want in zip(MILESTONE_FIELDS[1:], have_row[1:], want_row[1:], strict=True):
            if _comparable(have) != _comparable(want):
                return (
                    f"milestone (person_key={have_row[0]}): stored {name} {have}, facts give {want}"
                )
    return None


def _comparable(value: Any) -> Any:
    """A timestamp as UTC without tzinfo (SQLite hands some back naive, some aware)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value
