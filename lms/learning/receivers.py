"""What the learning feature does when other features change (see ``lms.events``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from lms import events
from lms.db import utcnow
from lms.learning.models import Enrollment


@events.completion_annulled.connect
def mark_completion_annulled(completion: Any, *, session: Session, **_: Any) -> None:
    """An annulled completion satisfies no prerequisite any more."""
    session.execute(
        update(Enrollment)
        .where(
            Enrollment.user_id == completion.user_id,
            Enrollment.course_id == completion.course_id,
            Enrollment.completion_annulled_at.is_(None),
        )
        .values(completion_annulled_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
