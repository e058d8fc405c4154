"""Synthetic learners at national scale, counted by the bulk path of the counting code.

Each synthetic learner is a new person, so milestones are decided per batch (their
earliest completion, their earliest specialist completion), the batch's counter changes
are aggregated in memory and upserted once, and rows go in through the driver (COPY on
PostgreSQL, executemany elsewhere).
``stats check`` proves this equal to the one-at-a-time path (tests/stats/test_synthetic.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms.accounts.models import Person, User, UserRole
from lms.courses.models import Course, Tier
from lms.days import ALMATY
from lms.db import utcnow
from lms.reference import regions, sector_codes
from lms.stats.counters import Deltas
from lms.stats.models import Completion, Milestone
from lms.stats.services import AGE_BAND_UPPER, AGE_BANDS

START = datetime(2025, 1, 1, tzinfo=UTC)
AGE_WEIGHTS = {
    (14, 17): 8,
    (18, 24): 22,
    (25, 34): 27,
    (35, 44): 20,
    (45, 54): 13,
    (55, 64): 7,
    (65, 80): 3,
}
LANGUAGES = ("kk", "ru", "en")
LANGUAGE_WEIGHTS = (50, 42, 8)
SEXES = ("female", "male", "not_stated")
SEX_WEIGHTS = (49, 48, 3)
COURSES_EACH = (1, 2, 3, 4)
COURSES_EACH_WEIGHTS = (45, 30, 15, 10)
SPECIALIST_SHARE = 0.12


class RealLearnersPresent(Exception):
    """The database holds learner accounts that are not synthetic."""


def real_learner_count(session: Session) -> int:
    """Non-synthetic accounts holding no role beyond learner."""
    with_roles = select(UserRole.user_id)
    return (
        session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.is_synthetic.is_(False), User.id.not_in(with_roles))
        )
        or 0
    )


def courses_for_seeding(session: Session) -> list[Course]:
    """Published courses; else a few synthetic draft courses of both tiers."""
    courses = list(
        session.scalars(select(Course).where(Course.published.is_(True)).order_by(Course.id))
    )
    if {c.tier for c in courses} >= {Tier.PUBLIC, Tier.SPECIALIST}:
        return courses
    existing = {
        c.slug: c for c in session.scalars(select(Course).where(Course.slug.like("synthetic-%")))
    }
    for i, tier in enumerate((Tier.PUBLIC, Tier.PUBLIC, Tier.SPECIALIST, Tier.SPECIALIST)):
        slug = f"synthetic-{tier}-{i}"
        if slug not in existing:
            course = Course(
                slug=slug,
                tier=tier,
                languages=list(LANGUAGES),
                sectors=[],
                title={
                    "en": f"Synthetic {tier} course {i}",
                    "ru": f"Синтетический курс {i}",
                    "kk": f"Синтетикалық курс {i}",
                },
                summary={"en": "Synthetic data for load tests."},
                published=False,
            )
            session.add(course)
            existing[slug] = course
    session.flush()
    return courses + list(existing.values())


def _p(weights: Sequence[float]) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return w / w.sum()


def _timestamps(session: Session, seconds: np.ndarray) -> tuple[list, np.ndarray]:
    """Stored form of UTC timestamps (what UTCDateTime writes) and their Almaty days."""
    moments = np.datetime64(START.replace(tzinfo=None), "us") + seconds.astype("timedelta64[s]")
    local = START.astimezone(ALMATY).replace(tzinfo=None) - START.replace(tzinfo=None)
    offset = np.timedelta64(int(local.total_seconds()), "s")  # no DST in Almaty since 2005
    days = (moments + offset).astype("datetime64[D]")
    text = np.char.replace(np.datetime_as_string(moments, unit="us"), "T", " ")
    return text.tolist(), days


def _raw_insert(session: Session, table: Any, columns: list[str], rows: list[tuple]) -> None:
    """Rows through the driver (COPY on PostgreSQL, else executemany): the ORM's bulk path
    costs more than the database."""
    if not rows:
        return
    extra = [
        c
        for c in table.columns
        if c.name not in columns and not c.nullable and c.default is not None and not c.primary_key
    ]
    defaults: list[Any] = [c.default for c in extra]
    values = [d.arg(None) if d.is_callable else d.arg for d in defaults]
    values = [
        v.astimezone(UTC).replace(tzinfo=None).isoformat(" ") if isinstance(v, datetime) else v
        for v in values
    ]
    names = columns + [c.name for c in extra]
    connection = session.connection()
    quote = connection.dialect.identifier_preparer.quote
    target = f"{quote(table.name)} ({', '.join(quote(n) for n in names)})"
    if values:
        rows = [row + tuple(values) for row in rows]
    cursor = connection.connection.cursor()
    try:
        if connection.dialect.name == "postgresql":
            # COPY: several times the rows a second of psycopg's executemany.
            with cursor.copy(f"COPY {target} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
            cursor.executemany(
                f"INSERT INTO {target} VALUES ({', '.join([mark] * len(names))})", rows
            )
    finally:
        cursor.close()


@dataclass
class Frame:
    """What learners are drawn from: the courses and the population's distributions."""

    course_ids: np.ndarray
    course_tier: np.ndarray
    course_is_spec: np.ndarray
    speaks: np.ndarray  # [course, language]: the course is taught in that language
    first_lang: np.ndarray  # a course's first language (where the drawn one is not taught)
    region_codes: np.ndarray
    region_p: np.ndarray
    sectors: np.ndarray
    sector_p: np.ndarray
    bands: list[tuple[int, int]]
    band_p: np.ndarray


@dataclass
class Cursor:
    """Where the next batch starts: ids, the synthetic learner number, the key prefix."""

    user_id: int
    fact_id: int
    number: int
    prefix: int


@dataclass
class Learners:
    """One batch of drawn learners (arrays of ``size``)."""

    keys: list[str]
    ids: np.ndarray
    region: np.ndarray
    sector: np.ndarray
    sex: np.ndarray
    birth_year: np.ndarray
    specialist: np.ndarray


@dataclass
class Facts:
    """One batch's completions (arrays of ``n``): whose, which course, when, how counted."""

    who: np.ndarray
    course: np.ndarray
    stored_at: list
    day: np.ndarray
    lang: np.ndarray
    age_band: np.ndarray
    fids: np.ndarray
    first_pos: np.ndarray  # each learner's first completion
    spec_learner: np.ndarray  # learners with a specialist completion
    spec_pos: np.ndarray  # and its position
    is_first: np.ndarray
    is_spec: np.ndarray


def prepare(session: Session, *, force: bool, commit: Callable[[], None] | None) -> list[Course]:
    """Refuse a database with real learners (unless forced); the courses to draw from."""
    if not force and real_learner_count(session):
        raise RealLearnersPresent()
    courses = courses_for_seeding(session)
    session.flush()
    if session.get_bind().dialect.name == "sqlite":
        # A bigger page cache for this connection keeps index inserts off the disk.
        session.connection().exec_driver_sql("PRAGMA cache_size = -262144")
    if commit:
        commit()
    return courses


def sampling_frame(courses: list[Course]) -> Frame:
    """The courses and the distributions of region, sector and age, as arrays."""
    region_list = regions()
    sectors = np.array(sorted(sector_codes()))
    course_tier = np.array([str(c.tier) for c in courses])
    return Frame(
        course_ids=np.array([c.id for c in courses]),
        course_tier=course_tier,
        course_is_spec=course_tier == str(Tier.SPECIALIST),
        # A language the course is not taught in falls back to the course's first language.
        speaks=np.array([[lang in c.languages for lang in LANGUAGES] for c in courses]),
        first_lang=np.array(
            [LANGUAGES.index(c.languages[0]) if c.languages[0] in LANGUAGES else 0 for c in courses]
        ),
        region_codes=np.array([r.code for r in region_list]),
        region_p=_p([r.population_thousands for r in region_list]),
        sectors=sectors,
        sector_p=_p([30 if s == "none" else 3 for s in sectors]),
        bands=list(AGE_WEIGHTS),
        band_p=_p(list(AGE_WEIGHTS.values())),
    )


def start_cursor(session: Session, *, seed_value: int) -> Cursor:
    """The next free ids and the next synthetic learner number of this seed."""
    return Cursor(
        user_id=(session.scalar(select(func.max(User.id))) or 0) + 1,
        fact_id=(session.scalar(select(func.max(Completion.id))) or 0) + 1,
        number=session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.email.like(f"synthetic-{seed_value}-%"))
        )
        or 0,
        prefix=int.from_bytes(os.urandom(2), "big") << 24,  # + learners stays under 16**10
    )


def draw_learners(
    rng: np.random.Generator, frame: Frame, *, size: int, first: int, cursor: Cursor, now: datetime
) -> Learners:
    """``size`` learners: region, sector, sex, year of birth, whether a specialist."""
    # Random keys, but rising (a counter prefix) so that index inserts append.
    keys = [f"{cursor.prefix + first + i:010x}{os.urandom(11).hex()}" for i in range(size)]
    region = rng.choice(frame.region_codes, size, p=frame.region_p)
    sector = rng.choice(frame.sectors, size, p=frame.sector_p)
    sex = np.array(SEXES)[rng.choice(3, size, p=_p(SEX_WEIGHTS))]
    band = rng.choice(len(frame.bands), size, p=frame.band_p)
    lows = np.array([lo for lo, _ in frame.bands])[band]
    highs = np.array([hi for _, hi in frame.bands])[band]
    birth_year = now.year - rng.integers(lows, highs + 1)
    return Learners(
        keys=keys,
        ids=np.arange(cursor.user_id, cursor.user_id + size),
        region=region,
        sector=sector,
        sex=sex,
        birth_year=birth_year,
        specialist=np.zeros(size, bool),
    )


def draw_courses(
    rng: np.random.Generator, frame: Frame, learners: Learners
) -> tuple[np.ndarray, np.ndarray]:
    """Which courses each learner completes: (learner position, course position) pairs."""
    size, n_courses = len(learners.keys), len(frame.course_ids)
    # Courses of each learner: the first k of a random permutation of the catalogue.
    k = np.minimum(
        np.array(COURSES_EACH)[rng.choice(4, size, p=_p(COURSES_EACH_WEIGHTS))], n_courses
    )
    # About one learner in eight is an industry specialist (the targets' 500K of 5M);
    # only they take specialist courses, and they take one first.
    specialist = rng.random(size) < SPECIALIST_SHARE
    if not (~frame.course_is_spec).any():
        specialist[:] = True
    learners.specialist = specialist
    rank = rng.random((size, n_courses))
    rank[~specialist[:, None] & frame.course_is_spec[None, :]] += 2.0
    rank[specialist[:, None] & frame.course_is_spec[None, :]] -= 1.0
    k = np.where(specialist, k, np.minimum(k, int((~frame.course_is_spec).sum())))
    order = rank.argsort(axis=1)
    taken = np.arange(n_courses)[None, :] < k[:, None]
    return np.repeat(np.arange(size), k), order[taken]


def draw_facts(
    session: Session,
    rng: np.random.Generator,
    frame: Frame,
    learners: Learners,
    *,
    who: np.ndarray,
    course: np.ndarray,
    span: int,
    fact_id: int,
) -> Facts:
    """When and in which language each completion happened, its age band and milestones."""
    n = len(course)
    stored_at, day = _timestamps(session, rng.integers(0, span, n))
    lang = rng.choice(3, n, p=_p(LANGUAGE_WEIGHTS))
    lang = np.where(frame.speaks[course, lang], lang, frame.first_lang[course])
    years = day.astype("datetime64[Y]").astype(int) + 1970
    age_band = np.array(AGE_BANDS)[
        np.searchsorted(AGE_BAND_UPPER, years - learners.birth_year[who])
    ]
    fids = np.arange(fact_id, fact_id + n)
    first_pos, spec_learner, spec_pos, is_first, is_spec = milestones_of(
        who, frame.course_is_spec[course], stored_at, fids
    )
    return Facts(
        who, course, stored_at, day, lang, age_band, fids,
        first_pos, spec_learner, spec_pos, is_first, is_spec,
    )  # fmt: skip


def milestones_of(
    who: np.ndarray, is_specialist_course: np.ndarray, stored_at: list, fids: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A learner's earliest completion (ties: lowest id), and earliest specialist one."""
    n = len(who)
    at_order = np.lexsort((fids, np.array(stored_at), who))
    first_pos = at_order[np.unique(who[at_order], return_index=True)[1]]
    spec_pos_all = at_order[is_specialist_course[at_order]]
    spec_learner, spec_idx = np.unique(who[spec_pos_all], return_index=True)
    spec_pos = spec_pos_all[spec_idx]
    is_first = np.zeros(n, bool)
    is_first[first_pos] = True
    is_spec = np.zeros(n, bool)
    is_spec[spec_pos] = True
    return first_pos, spec_learner, spec_pos, is_first, is_spec


USER_COLUMNS = [
    "id",
    "email",
    "password_hash",
    "full_name",
    "region",
    "sector",
    "birth_year",
    "sex",
    "locale",
    "consent_version",
    "consented_at",
    "person_key",
    "is_synthetic",
    "is_active_account",
    "created_at",
    "password_changed_at",
]
FACT_COLUMNS = [
    "id",
    "user_id",
    "person_key",
    "course_id",
    "tier",
    "region",
    "sector",
    "sex",
    "age_band",
    "language",
    "completed_at",
    "day",
]
MILESTONE_COLUMNS = [
    "person_key",
    "first_completion_id",
    "first_day",
    "first_at",
    "specialist_completion_id",
    "specialist_day",
    "specialist_at",
]


def insert_learners(
    session: Session, learners: Learners, *, seed_value: int, number: int, stamp: str
) -> None:
    """Their person rows and accounts (which cannot log in: no password)."""
    keys = learners.keys
    _raw_insert(session, Person.__table__, ["key", "created_at"], [(k, stamp) for k in keys])
    region_l, sector_l, sex_l = (
        learners.region.tolist(),
        learners.sector.tolist(),
        learners.sex.tolist(),
    )
    by_year = learners.birth_year.tolist()
    rows = [
        (
            int(learners.ids[i]),
            f"synthetic-{seed_value}-{number + i}@synthetic.invalid",
            "",
            f"Synthetic learner {number + i}",
            region_l[i],
            sector_l[i],
            by_year[i],
            sex_l[i],
            "kk",
            "synthetic",
            stamp,
            keys[i],
            True,
            True,
            stamp,
            stamp,
        )
        for i in range(len(keys))
    ]
    _raw_insert(session, User.__table__, USER_COLUMNS, rows)


def insert_facts(session: Session, frame: Frame, learners: Learners, facts: Facts) -> None:
    """The completion facts and the learners' milestones."""
    keys = learners.keys
    region_l, sector_l, sex_l = (
        learners.region.tolist(),
        learners.sector.tolist(),
        learners.sex.tolist(),
    )
    who_l, course_l, lang_l = facts.who.tolist(), facts.course.tolist(), facts.lang.tolist()
    band_l, fid_l = facts.age_band.tolist(), facts.fids.tolist()
    day_text = np.datetime_as_string(facts.day).tolist()
    rows = [
        (
            fid_l[j],
            int(learners.ids[who_l[j]]),
            keys[who_l[j]],
            int(frame.course_ids[course_l[j]]),
            str(frame.course_tier[course_l[j]]),
            region_l[who_l[j]],
            sector_l[who_l[j]],
            sex_l[who_l[j]],
            band_l[j],
            LANGUAGES[lang_l[j]],
            facts.stored_at[j],
            day_text[j],
        )
        for j in range(len(who_l))
    ]
    _raw_insert(session, Completion.__table__, FACT_COLUMNS, rows)
    spec_of = dict(zip(facts.spec_learner.tolist(), facts.spec_pos.tolist(), strict=True))
    milestones = []
    for learner, pos in zip(
        facts.who[facts.first_pos].tolist(), facts.first_pos.tolist(), strict=True
    ):
        sp = spec_of.get(learner)
        milestones.append(
            (
                keys[learner],
                fid_l[pos],
                day_text[pos],
                facts.stored_at[pos],
                fid_l[sp] if sp is not None else None,
                day_text[sp] if sp is not None else None,
                facts.stored_at[sp] if sp is not None else None,
            )
        )
    _raw_insert(session, Milestone.__table__, MILESTONE_COLUMNS, milestones)


def count_facts(session: Session, frame: Frame, learners: Learners, facts: Facts) -> None:
    """The batch's counter changes, aggregated and upserted once."""
    who, course = facts.who, facts.course
    _count(
        session,
        {
            "day": np.array(np.datetime_as_string(facts.day).tolist()),
            "tier": frame.course_tier[course],
            "region": learners.region[who],
            "sector": learners.sector[who],
            "sex": learners.sex[who],
            "age_band": facts.age_band,
            "course": frame.course_ids[course].astype(str),
            "language": np.array(LANGUAGES)[facts.lang],
        },
        facts.is_first,
        facts.is_spec,
    )


def advance_sequences(session: Session) -> None:
    """Explicit ids do not move PostgreSQL's sequences: move them past the batch."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in ("user", "completion"):
        session.connection().exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
            f'(SELECT MAX(id) FROM "{table}"))'
        )


def seed(
    session: Session,
    *,
    learners: int,
    seed_value: int,
    force: bool = False,
    batch: int = 50000,
    commit: Callable[[], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Create ``learners`` synthetic learners with completions; returns completions made."""
    frame = sampling_frame(prepare(session, force=force, commit=commit))
    rng = np.random.default_rng(seed_value)
    now = utcnow()
    span = int((now - START).total_seconds())
    stamp = now.astimezone(UTC).replace(tzinfo=None).isoformat(" ", timespec="microseconds")
    cursor = start_cursor(session, seed_value=seed_value)
    made = done = 0
    while done < learners:
        size = min(batch, learners - done)
        drawn = draw_learners(rng, frame, size=size, first=done, cursor=cursor, now=now)
        who, course = draw_courses(rng, frame, drawn)
        facts = draw_facts(
            session, rng, frame, drawn, who=who, course=course, span=span, fact_id=cursor.fact_id
        )
        insert_learners(
            session, drawn, seed_value=seed_value, number=cursor.number + done, stamp=stamp
        )
        insert_facts(session, frame, drawn, facts)
        count_facts(session, frame, drawn, facts)
        advance_sequences(session)
        if commit:
            commit()
        made += len(course)
        done += size
        cursor.user_id += size
        cursor.fact_id += len(course)
        if progress:
            progress(size)
    return made


def _count(
    session: Session, columns: dict[str, np.ndarray], is_first: np.ndarray, is_spec: np.ndarray
) -> None:
    """Aggregate a batch's counter changes in memory (group by per table), upsert once."""
    import pandas as pd

    frame = pd.DataFrame(columns)
    frame["month"] = frame["day"].str[:7]
    frame["completions"] = 1
    frame["new_trained"] = is_first.astype(int)
    frame["new_specialists"] = is_spec.astype(int)
    frame["blank"] = ""
    measures = ["completions", "new_trained", "new_specialists"]
    deltas = Deltas()
    daily = frame.groupby(["day", "tier"], sort=False)[measures].sum()
    for (day, tier), values in zip(daily.index, daily.to_numpy().tolist(), strict=True):
        deltas.daily[(datetime.fromisoformat(day).date(), tier)] = values
    for cube, k1, k2 in (
        ("region", "blank", "blank"),
        ("sector", "sector", "blank"),
        ("sex_age", "sex", "age_band"),
        ("course", "course", "language"),
    ):
        grouped = frame.groupby(["month", "tier", "region", k1, k2], sort=False)[measures].sum()
        for key, values in zip(grouped.index, grouped.to_numpy().tolist(), strict=True):
            deltas.cube[(cube, *key)] = values
    deltas.flush(session)
