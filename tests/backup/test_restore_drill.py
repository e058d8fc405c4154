"""The restore drill: a site with learners, completions, certificates and a submission being
graded; back up; lose everything; restore into an empty instance; the site is as it was."""

from __future__ import annotations

import jwt
import pytest
from sqlalchemy import select

from lms.assignments import grading
from lms.assignments.models import SubmissionStatus
from lms.backup import database
from lms.certificates.models import Certificate
from lms.courses.models import Course, Item
from lms.db import db
from tests.assignments.conftest import (
    CORRECT,
    finished,
    login_as,
    people_of,
    read_submission,
    solved,
    start_worker,
    upload,
    wait_until,
    worker_env,
)
from tests.backup.conftest import learner_who_completed

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.xdist_group("worker")]


def test_backup_wipe_restore_gives_the_same_site_back(site, tmp_path):
    app = site.app()
    people = people_of(app)
    with app.app_context():
        session = db.session()
        course = session.scalars(select(Course).where(Course.slug == people["slug"])).one()
        item = session.get(Item, people["item"].id)
        learners = [learner_who_completed(app, course, item, n) for n in range(5)]
        certificates = session.scalars(select(Certificate)).all()
    assert len(certificates) == 5

    # An old certificate: its public record and the signed credential its holder downloaded.
    holder = learners[0]
    code = next(c.code for c in certificates if c.completion.user_id == holder.id)
    anyone = app.test_client()
    record_before = anyone.get(f"/verify/{code}.json").get_json()
    assert record_before["status"] == "valid"
    credential_before = login_as(app, holder.email).get(f"/certificates/{code}.jwt")
    assert credential_before.status_code == 200
    token = credential_before.get_data(as_text=True)

    # A submission a worker had claimed and was grading when the disk was lost.
    learner = login_as(app, people["learner"][1])
    response = upload(learner, people["course"], people["item"], solved(CORRECT))
    submission_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        assert grading.claim(
            db.session(), submission_id=submission_id, stuck_seconds=180, task_id="lost-worker"
        )
    assert read_submission(app, submission_id).status == SubmissionStatus.RUNNING
    counts_before, _ = database.counts_of(site.url)
    secret_before = app.config["SECRET_KEY"]

    archive = tmp_path / "site.oqu"
    runner = app.test_cli_runner()
    made = runner.invoke(args=["backup", "create", "-o", str(archive)])
    assert made.exit_code == 0, made.output
    checked = runner.invoke(args=["backup", "verify", str(archive)])
    assert checked.exit_code == 0 and ": ok," in checked.output, checked.output

    site.wipe(app)
    empty = site.app()  # a new instance: a new random secret key, no database tables
    assert empty.config["SECRET_KEY"] != secret_before
    restored = empty.test_cli_runner().invoke(args=["backup", "restore", str(archive)])
    assert restored.exit_code == 0, restored.output
    assert "1 submission(s) back in the grading queue" in restored.output

    app = site.app()
    assert app.config["SECRET_KEY"] == secret_before
    counts_after, _ = database.counts_of(site.url)
    assert counts_after == counts_before
    assert counts_after["completion"] == 5 and counts_after["certificate"] == 5
    stats = app.test_cli_runner().invoke(args=["stats", "check"])
    assert stats.exit_code == 0, stats.output

    client = app.test_client()
    assert client.get(f"/verify/{code}.json").get_json() == record_before
    page = client.get(f"/verify/{code}")
    assert page.status_code == 200
    # The old credential's signature checks against the restored site's published keys...
    jwks = client.get("/.well-known/jwks.json").get_json()
    kid = jwt.get_unverified_header(token)["kid"]
    public = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid))
    assert jwt.decode(token, public.key, algorithms=["EdDSA"])["id"].endswith(f"/verify/{code}")
    # ...and the holder downloads the very same bytes again (same key, same pseudonym).
    again = login_as(app, holder.email).get(f"/certificates/{code}.jwt").get_data(as_text=True)
    assert again == token

    # The interrupted submission is graded once a worker runs on the restored site.
    env = worker_env(site.url, site.broker, site.instance, LMS_GRADING_QUEUE=site.queue)
    env.pop("LMS_SECRET_KEY")  # the worker reads the restored key file, like the web
    worker = start_worker(env, site.folder, "after-restore")
    try:
        done = wait_until(
            lambda: finished(app, submission_id), seconds=120, worker=worker, what="the grade"
        )
    finally:
        worker.stop()
    assert done.status == SubmissionStatus.GRADED and done.passed
    assert done.attempts == 2  # the lost worker's claim, then this one
    assert database.counts_of(site.url)[0]["completion"] == 6
    assert app.test_cli_runner().invoke(args=["stats", "check"]).exit_code == 0
    db.engine(app).dispose()
