"""Courses: the catalogue and lookups. Flushes; never commits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.courses.models import Course


def published_courses(session: Session) -> list[Course]:
    """Every published course, by slug."""
    return list(session.scalars(select(Course).where(Course.published.is_(True))
                                .order_by(Course.slug)))
