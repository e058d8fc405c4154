"""Figures for dashboards, the API and exports, read only from the counter tables."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms.days import almaty_day
from lms.db import utcnow
from lms.stats import dimensions
from lms.stats.counters import MEASURES
from lms.stats.models import Completion, Correction, CubeCount, DailyCount

TARGET_TRAINED = 5_000_000
TARGET_SPECIALISTS = 500_000
PACE_DAYS = 90
DIMENSIONS = dimensions.NAMES


class BadPeriod(ValueError):
    """A period that is not YYYY, YYYY-Qn or YYYY-MM."""


@dataclass(frozen=True)
class Period:
    """A fixed period: a month, a quarter or a year."""

    text: str
    kind: str
    months: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Period:
        text = (text or "").strip()
        if m := re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", text):
            return cls(text, "month", (text,))
        if m := re.fullmatch(r"(\d{4})-Q([1-4])", text):
            year, q = m.group(1), int(m.group(2))
            return cls(text, "quarter", tuple(f"{year}-{3 * (q - 1) + i:02d}" for i in (1, 2, 3)))
        if m := re.fullmatch(r"(\d{4})", text):
            return cls(text, "year", tuple(f"{text}-{i:02d}" for i in range(1, 13)))
        raise BadPeriod(text)


@dataclass
class Progress:
    trained: int
    specialists: int
    as_of: str
    pace_trained: float  # new trained persons a day over the last 90 days
    pace_specialists: float
    eta_trained: date | None  # None: not reached at the current pace
    eta_specialists: date | None


def today() -> date:
    return almaty_day(utcnow())


def _eta(reached: int, target: int, pace: float, day: date) -> date | None:
    if reached >= target:
        return day
    if pace <= 0:
        return None
    days = -(-(target - reached) // pace)
    try:
        return day + timedelta(days=int(days))
    except OverflowError:
        return None


def progress(session: Session) -> Progress:
    """National totals toward the targets, pace over 90 days and projected dates."""
    day = today()
    totals = session.execute(
        select(
            func.coalesce(func.sum(DailyCount.new_trained), 0),
            func.coalesce(func.sum(DailyCount.new_specialists), 0),
        ).where(DailyCount.day <= day)
    ).one()
    recent = session.execute(
        select(
            func.coalesce(func.sum(DailyCount.new_trained), 0),
            func.coalesce(func.sum(DailyCount.new_specialists), 0),
        ).where(DailyCount.day > day - timedelta(days=PACE_DAYS), DailyCount.day <= day)
    ).one()
    pace_t, pace_s = recent[0] / PACE_DAYS, recent[1] / PACE_DAYS
    return Progress(
        int(totals[0]),
        int(totals[1]),
        utcnow().isoformat(timespec="seconds"),
        pace_t,
        pace_s,
        _eta(int(totals[0]), TARGET_TRAINED, pace_t, day),
        _eta(int(totals[1]), TARGET_SPECIALISTS, pace_s, day),
    )


def cumulative_by_month(
    session: Session, *, tier: str | None = None, region: str | None = None
) -> list[tuple[str, int, int]]:
    """(month, trained so far, specialists so far) for every month with counts.

    Nationally from the daily totals; for one region from the monthly region cube (the
    daily totals hold no region; a person counts in the region of the completion that
    made them new)."""
    rows: list[tuple[str, int, int]]
    if region:
        query = (
            select(
                CubeCount.month,
                func.sum(CubeCount.new_trained),
                func.sum(CubeCount.new_specialists),
            )
            .where(CubeCount.cube == "region", CubeCount.region == region)
            .group_by(CubeCount.month)
        )
        if tier:
            query = query.where(CubeCount.tier == tier)
        rows = [(month, int(t or 0), int(s or 0)) for month, t, s in session.execute(query)]
    else:
        daily = select(DailyCount.day, DailyCount.new_trained, DailyCount.new_specialists)
        if tier:
            daily = daily.where(DailyCount.tier == tier)
        rows = [(day.isoformat()[:7], t, s) for day, t, s in session.execute(daily)]
    monthly: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for month, trained, specialists in rows:
        cell = monthly[month]
        cell[0] += trained
        cell[1] += specialists
    out, t, s = [], 0, 0
    for month in sorted(monthly):
        t += monthly[month][0]
        s += monthly[month][1]
        out.append((month, t, s))
    return out


def breakdown(
    session: Session,
    *,
    dimension: str,
    period: Period | None = None,
    region: str | None = None,
    tier: str | None = None,
    by_tier: bool = False,
) -> dict[tuple[str, ...], dict[str, int]]:
    """Measures per value of ``dimension`` (and per tier when ``by_tier``), from the cubes."""
    entry = dimensions.get(dimension)
    value = entry.column
    keys = [value, dimensions.tier_column()] if by_tier else [value]
    query = (
        select(*keys, *(func.sum(getattr(CubeCount, m)) for m in MEASURES))
        .where(CubeCount.cube == entry.cube)
        .group_by(*keys)
    )
    if period is not None:
        query = query.where(CubeCount.month.in_(period.months))
    if region:
        query = query.where(dimensions.region_column() == region)
    if tier:
        query = query.where(dimensions.tier_column() == tier)
    out: dict[tuple[str, ...], dict[str, int]] = {}
    for row in session.execute(query):
        n = len(keys)
        out[tuple(row[:n])] = {m: int(v or 0) for m, v in zip(MEASURES, row[n:], strict=True)}
    return out


def dimension_values(session: Session, dimension: str) -> list[str]:
    """Every value a dimension can take, in display order (zeros are shown as zeros)."""
    return dimensions.get(dimension).values(session)


def data_version(session: Session) -> tuple[int, int]:
    """Changes whenever a counter may have changed (new fact or correction)."""
    return (
        session.scalar(select(func.max(Completion.id))) or 0,
        session.scalar(select(func.max(Correction.id))) or 0,
    )
