"""A real worker and web app: the operator's view of one graded upload, and its trail."""

from __future__ import annotations

import io
import json

import pytest

from lms.assignments.models import SubmissionStatus
from tests.assignments.conftest import (
    CORRECT,
    finished,
    live_stack,
    login_as,
    people_of,
    read_submission,
    solved,
    start_worker,
    wait_until,
)
from tests.monitoring.conftest import free_port, scrape, value

pytestmark = [pytest.mark.worker, pytest.mark.xdist_group("worker")]

UPLOAD_ID = "upload-7f3a9c21e4"


def test_worker_serves_job_metrics_and_the_upload_request_id_reaches_its_logs(tmp_path, worker_id):
    port = free_port()
    with live_stack(tmp_path, worker_id, LMS_WORKER_METRICS_PORT=str(port)) as stack:
        app = stack["app"]
        people = people_of(app)
        client = login_as(app, people["learner"][1])
        response = client.post(
            f"/courses/{people['course'].slug}/assignments/{people['item'].key}",
            data={"notebook": (io.BytesIO(solved(CORRECT)), "adding.ipynb")},
            content_type="multipart/form-data",
            headers={"X-Request-Id": UPLOAD_ID},
        )
        assert response.status_code == 303 and response.headers["X-Request-Id"] == UPLOAD_ID
        submission_id = int(response.headers["Location"].rsplit("/", 1)[1])
        assert read_submission(app, submission_id).request_id == UPLOAD_ID

        # Before any worker: the web's /metrics shows the job waiting, in the rows and the broker.
        queue = app.config["GRADING_QUEUE"]
        waiting = client.get("/metrics").get_data(as_text=True)
        assert value(waiting, "oqu_jobs", kind="grading", state="queued") == 1
        assert value(waiting, "oqu_broker_queue_messages", queue=queue) == 1

        worker = start_worker(stack["env"], tmp_path, "metrics")
        try:
            done = wait_until(
                lambda: finished(app, submission_id), seconds=90, worker=worker, what="the score"
            )
            assert done.status == SubmissionStatus.GRADED and done.passed
            text = wait_until(
                lambda: (
                    (s := scrape(f"http://127.0.0.1:{port}/metrics"))[0] == 200
                    and value(s[1], "oqu_grading_results_total", status="graded") == 1
                    and s[1]
                ),
                seconds=30,
                worker=worker,
                what="the worker's metrics",
            )
            assert value(text, "oqu_tasks_total", task="assignments.grade", result="stored") == 1
            assert value(text, "oqu_grading_upload_to_score_seconds_count") == 1
            waited = value(text, "oqu_grading_upload_to_score_seconds_sum")
            assert 0 < waited < 90
            assert value(text, "oqu_kernel_acquire_wait_seconds_count") >= 1
            assert value(text, "oqu_task_queue_wait_seconds_count", task="assignments.grade") == 1
            assert value(text, "oqu_completions_recorded_total", tier="public") == 1
            assert value(text, "oqu_tasks_running", task="assignments.grade") == 0

            after = client.get("/metrics").get_data(as_text=True)
            assert value(after, "oqu_jobs", kind="grading", state="queued") == 0
            # The sweeps that beat sent while the only pool process graded drain quickly.
            wait_until(
                lambda: (
                    value(
                        client.get("/metrics").get_data(as_text=True),
                        "oqu_broker_queue_messages",
                        queue=queue,
                    )
                    == 0
                ),
                seconds=30,
                worker=worker,
                what="the queue to drain",
            )

            # The trail: the worker's JSON lines about this submission carry the upload's id.
            lines = [
                json.loads(line)
                for line in worker.log.read_text().splitlines()
                if line.startswith("{")
            ]
            mine = [r for r in lines if r.get("submission_id") == submission_id]
            assert mine and all(r["request_id"] == UPLOAD_ID for r in mine)
            assert any("stored graded" in r["message"] for r in mine)
            # ...and the learner's poll that shows the score names it too.
            poll = client.get(f"/submissions/{submission_id}/status")
            assert poll.status_code == 200 and poll.headers["X-Request-Id"] != UPLOAD_ID
        finally:
            worker.stop()
        # Once the worker is gone, nothing answers on its port.
        assert scrape(f"http://127.0.0.1:{port}/metrics")[0] == 0
