"""A worker SIGKILLed in the middle of a grade: the submission is still graded, exactly once."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms.assignments.models import SubmissionStatus
from lms.db import db
from lms.learning.models import ItemProgress
from tests.assignments.conftest import (
    finished,
    live_stack,
    login_as,
    people_of,
    read_submission,
    solved,
    start_worker,
    upload,
    wait_until,
)

pytestmark = [pytest.mark.worker, pytest.mark.xdist_group("worker")]

SLOW_CORRECT = "import time\ntime.sleep(4)\n\ndef add(a, b):\n    return a + b"


def test_sigkilled_worker_leaves_a_submission_that_is_graded_exactly_once(tmp_path, worker_id):
    with live_stack(tmp_path, worker_id, LMS_GRADING_STUCK_SECONDS="2") as stack:
        app = stack["app"]
        people = people_of(app)
        first = start_worker(stack["env"], tmp_path, "doomed")
        second = None
        try:
            client = login_as(app, people["learner"][1])
            response = upload(client, people["course"], people["item"], solved(SLOW_CORRECT))
            submission_id = int(response.headers["Location"].rsplit("/", 1)[1])
            wait_until(
                lambda: read_submission(app, submission_id).status == SubmissionStatus.RUNNING,
                seconds=60,
                worker=first,
                what="the first worker to start grading",
            )
            time.sleep(1.0)  # inside the learner's four-second cell
            first.kill()
            assert read_submission(app, submission_id).status == SubmissionStatus.RUNNING

            second = start_worker(stack["env"], tmp_path, "rescuer")
            done = wait_until(
                lambda: finished(app, submission_id),
                seconds=90,
                worker=second,
                what="the sweep and the second worker to grade it",
            )
            assert done.status == SubmissionStatus.GRADED and done.passed
            assert done.attempts == 2  # the killed run, and the one that stored the result
            time.sleep(2.5)  # further sweeps and any redelivery change nothing
            again = read_submission(app, submission_id)
            assert (again.attempts, again.graded_at) == (done.attempts, done.graded_at)
            with Session(db.engine(app)) as session:
                progress = session.scalars(
                    select(ItemProgress).where(ItemProgress.item_id == people["item"].id)
                ).all()
                completions = _completions(session, people["learner"][0])
            try:
                import lms.learning.services  # noqa: F401
            except ImportError:
                pytest.skip("lms.learning.services is not there yet: completion not checked")
            assert len(progress) == 1 and progress[0].passed
            assert completions == 1
        finally:
            first.kill()
            if second is not None:
                second.stop()


def _completions(session: Session, user_id: int) -> int:
    from lms.stats.models import Completion

    return session.scalar(
        select(func.count()).select_from(Completion).where(Completion.user_id == user_id)
    )
