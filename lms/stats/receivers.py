"""What the statistics feature does when other features change (see ``lms.events``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lms import events
from lms.stats import services


@events.course_completed.connect
def record_completion(enrollment: Any, *, session: Session, **_: Any) -> None:
    """A course completed: its fact and counters, once per account and course."""
    earlier = services.completion_of(
        session, user_id=enrollment.user_id, course_id=enrollment.course_id
    )
    if earlier is not None:
        # Completed once already (before a re-enrolment): never a second fact.
        enrollment.completed_at = earlier.completed_at
        return
    fact = services.record_completion(
        session,
        user=enrollment.user,
        course=enrollment.course,
        language=enrollment.language,
        at=enrollment.completed_at,
    )
    events.completion_recorded.send(fact, session=session)


@events.persons_merged.connect
def merge_persons(keep_key: str, *, session: Session, drop_key: str, **_: Any) -> None:
    """Two accounts proved to be one person: count that person once."""
    services.merge_persons(session, keep_key=keep_key, drop_key=drop_key)
