"""Completion facts, per-person milestones, corrections and the counters read by dashboards.

See docs/architecture.md, "How the counts are defined".
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, utcnow


class CorrectionKind(enum.StrEnum):
    ANNULLED = "annulled"  # an admin annulled a fraudulent completion
    MERGED = "merged"  # two accounts were found to be one person (same IIN)


class Completion(Base):
    """An immutable fact: one account completed one course, with its attributes then."""

    __tablename__ = "completion"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    person_key: Mapped[str] = mapped_column(String(32), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    tier: Mapped[str] = mapped_column(String(16))
    region: Mapped[str] = mapped_column(String(8))
    sector: Mapped[str] = mapped_column(String(8))
    sex: Mapped[str] = mapped_column(String(16))
    age_band: Mapped[str] = mapped_column(String(8))
    language: Mapped[str] = mapped_column(String(2))
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)
    day: Mapped[date] = mapped_column(index=True)


class Milestone(Base):
    """A person's first completion of any course, and of a specialist course.

    ``person_key`` is the surviving key of the person (after merges). The ``*_at`` columns
    let a back-dated completion be compared without reading the earlier fact.
    """

    __tablename__ = "milestone"

    person_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    first_completion_id: Mapped[int | None] = mapped_column(ForeignKey("completion.id"))
    first_day: Mapped[date | None] = mapped_column(index=True)
    first_at: Mapped[datetime | None]
    specialist_completion_id: Mapped[int | None] = mapped_column(ForeignKey("completion.id"))
    specialist_day: Mapped[date | None] = mapped_column(index=True)
    specialist_at: Mapped[datetime | None]


class Correction(Base):
    """A recorded change to what a completion counts for; facts themselves never change."""

    __tablename__ = "correction"

    id: Mapped[int] = mapped_column(primary_key=True)
    completion_id: Mapped[int] = mapped_column(ForeignKey("completion.id"), index=True)
    kind: Mapped[CorrectionKind] = mapped_column(String(16), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PersonMerge(Base):
    """Person ``drop_key`` turned out to be person ``keep_key`` (one IIN on both).

    Always one hop: a later merge of ``keep_key`` re-points these rows, so a completion's
    person is ``keep_key`` of the row for its ``person_key``, or its ``person_key``.
    """

    __tablename__ = "person_merge"

    drop_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    keep_key: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DailyCount(Base):
    """Counter: completions and new milestones per Almaty day and tier."""

    __tablename__ = "stat_daily"
    __table_args__ = (
        CheckConstraint(
            "completions >= 0 AND new_trained >= 0 AND new_specialists >= 0", name="not_negative"
        ),
    )

    day: Mapped[date] = mapped_column(primary_key=True)
    tier: Mapped[str] = mapped_column(String(16), primary_key=True)
    completions: Mapped[int] = mapped_column(Integer, default=0)
    new_trained: Mapped[int] = mapped_column(Integer, default=0)
    new_specialists: Mapped[int] = mapped_column(Integer, default=0)


class CubeCount(Base):
    """Counter: one cell of a monthly cube (month, tier, region and one or two more keys).

    ``cube`` is ``region`` (no further keys), ``sector`` (k1 = sector), ``sex_age``
    (k1 = sex, k2 = age band) or ``course`` (k1 = course id, k2 = language of study).
    """

    __tablename__ = "stat_cube"
    __table_args__ = (
        CheckConstraint(
            "completions >= 0 AND new_trained >= 0 AND new_specialists >= 0", name="not_negative"
        ),
    )

    cube: Mapped[str] = mapped_column(String(8), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    tier: Mapped[str] = mapped_column(String(16), primary_key=True)
    region: Mapped[str] = mapped_column(String(8), primary_key=True)
    k1: Mapped[str] = mapped_column(String(16), primary_key=True)
    k2: Mapped[str] = mapped_column(String(8), primary_key=True)
    completions: Mapped[int] = mapped_column(Integer, default=0)
    new_trained: Mapped[int] = mapped_column(Integer, default=0)
    new_specialists: Mapped[int] = mapped_column(Integer, default=0)


class OpenDataSnapshot(Base):
    """One published version of a public table (a quarter, a dimension), stored once.

    Never rebuilt: when the counts change (an annulled completion, merged persons), the
    next publication adds version ``n + 1`` with ``changes`` saying what differs. Every
    web node serves the same bytes from this row.
    """

    __tablename__ = "open_data_snapshot"
    __table_args__ = (UniqueConstraint("dimension", "period", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), index=True)
    period: Mapped[str] = mapped_column(String(8), index=True)
    version: Mapped[int] = mapped_column(Integer)
    extracted_at: Mapped[datetime] = mapped_column(default=utcnow)
    license: Mapped[str] = mapped_column(String(32))
    changes: Mapped[str] = mapped_column(Text, default="")
    sha256: Mapped[str] = mapped_column(String(64))
    csv_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    # Loaded only when a file is sent (the page and the catalogue list many versions).
    package: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
