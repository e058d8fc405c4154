"""Grading results and completions, counted once their transaction has committed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from lms import events

_PENDING = "oqu_metrics_after_commit"


def after_commit(session: Session, record: Callable[[], None]) -> None:
    """Call ``record`` when ``session`` commits; forget it if it rolls back."""
    session.info.setdefault(_PENDING, []).append(record)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    for record in session.info.pop(_PENDING, ()):
        record()


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)


@events.submission_graded.connect
def count_result(submission: Any, *, session: Session, **_: Any) -> None:
    """A result stored: its status and, for a first grading, the learner's wait."""
    status = str(submission.status)
    waited = None
    if not submission.regrade_count and submission.graded_at and submission.submitted_at:
        waited = (submission.graded_at - submission.submitted_at).total_seconds()

    def record() -> None:
        from lms.monitoring import metrics

        metrics.GRADING_RESULTS.labels(status).inc()
        if waited is not None:
            metrics.UPLOAD_TO_SCORE.observe(max(0.0, waited))

    after_commit(session, record)


@events.completion_recorded.connect
def count_completion(completion: Any, *, session: Session, **_: Any) -> None:
    tier = str(completion.tier)

    def record() -> None:
        from lms.monitoring import metrics

        metrics.COMPLETIONS.labels(tier).inc()

    after_commit(session, record)
