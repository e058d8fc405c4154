"""Celery: the app configured from Flask settings, the grading task and the sweep.

The web side only sends tasks by name (``send_grading``); the worker (``lms.worker``)
registers the tasks below. One task per submission id; the database row decides what a
delivery does, so redeliveries and the sweep's re-sends are harmless.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from celery import Celery, shared_task
from celery.signals import worker_process_init
from flask import Flask
from sqlalchemy.exc import OperationalError

from lms import requestid
from lms.assignments import broker

log = logging.getLogger(__name__)

GRADE_TASK = "oqu.assignments.grade"
SWEEP_TASK = "oqu.assignments.sweep"


def celery_settings(config: Any) -> dict[str, Any]:
    """Celery's settings from the Flask config (broker, reliability, the sweep's schedule)."""
    url = str(config["BROKER_URL"])
    settings: dict[str, Any] = {
        "broker_url": url,
        "broker_connection_retry_on_startup": True,
        # Acknowledge only after the result is committed; a lost worker's task comes back
        # where the broker can do that (Redis, RabbitMQ); the sweep covers the rest.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_ignore_result": True,
        "result_backend": None,
        "task_default_queue": str(config.get("GRADING_QUEUE") or "grading"),
        "worker_hijack_root_logger": False,
        "beat_schedule": {
            "oqu-sweep-stuck-submissions": {
                "task": SWEEP_TASK,
                "schedule": float(config["GRADING_SWEEP_SECONDS"]),
            },
        },
    }
    if url.startswith("filesystem://"):
        folder = Path(url.removeprefix("filesystem://"))
        queue, processed, control = folder / "out", folder / "processed", folder / "control"
        for path in (queue, processed, control):
            path.mkdir(parents=True, exist_ok=True)
        settings["broker_url"] = f"{broker.SCHEME}://"
        settings["broker_transport_options"] = {
            "data_folder_in": str(queue),
            "data_folder_out": str(queue),
            "processed_folder": str(processed),
            "control_folder": str(control),  # else kombu writes ./control in the cwd
            "store_processed": False,
            # The default polls once a second, which alone would blow the latency budget.
            "polling_interval": float(config["BROKER_POLL_INTERVAL"]),
        }
        # Remote control needs a fanout exchange this transport does not share between hosts.
        settings["worker_enable_remote_control"] = False
    elif url.startswith(("redis://", "rediss://")):
        settings["broker_transport_options"] = {"visibility_timeout": 3600}
    return settings


def make_celery(app: Flask, *, current: bool = False) -> Celery:
    """A Celery app for ``app``'s settings; the worker's is ``current`` and holds the app."""
    celery = Celery("oqu", set_as_current=current)
    celery.conf.update(celery_settings(app.config))
    celery.flask_app = app  # type: ignore[attr-defined]
    return celery


def celery_for(app: Flask) -> Celery:
    """The web app's own Celery client (created once), used only to send tasks."""
    celery = app.extensions.get("oqu.celery")
    if celery is None:
        celery = app.extensions["oqu.celery"] = make_celery(app)
    return celery


def send_grading(app: Flask, submission_id: int) -> bool:
    """Send the grading task for a committed submission; False (logged) when the broker fails."""
    try:
        celery_for(app).send_task(GRADE_TASK, args=[submission_id])
    except Exception:  # noqa: BLE001 - the row is committed: the sweep will send it again
        log.exception("could not send submission %s to the broker; the sweep will", submission_id)
        return False
    return True


# One kernel provider (the warm pool) per worker process, created after the fork.
_provider: Any = None
_provider_lock = threading.Lock()


def kernel_provider(app: Flask) -> Any:
    """This worker process's kernel provider, created on first use."""
    global _provider
    with _provider_lock:
        if _provider is None:
            from graders.kernels import provider_for
            from graders.settings import GraderSettings

            _provider = provider_for(GraderSettings.from_config(app.config))
        return _provider


@worker_process_init.connect
def _after_fork(**_: Any) -> None:
    """Fresh database connections and a warm kernel pool in each pool process."""
    from celery import current_app

    app = getattr(current_app, "flask_app", None)
    if app is None:
        return
    from lms.db import db

    db.engine(app).dispose(close=False)

    def warm() -> None:
        try:
            kernel_provider(app)
        except Exception as error:  # noqa: BLE001 - each task reports it again, loudly
            log.error("no kernel provider in this worker process: %s", error)

    # In a thread: Celery kills a pool process whose start-up takes more than a few seconds.
    threading.Thread(target=warm, name="oqu-warm-kernels", daemon=True).start()


def _flask_app(task: Any) -> Flask:
    return task.app.flask_app


@shared_task(name=GRADE_TASK, bind=True, acks_late=True)
def grade_submission(self: Any, submission_id: int) -> str:
    """Grade one submission (or do nothing if it is already graded)."""
    from graders.autograde import grade
    from graders.errors import InvalidNotebook, NoSandbox
    from graders.settings import GraderSettings
    from lms.assignments import grading
    from lms.learning.services import record_item_result

    app = _flask_app(self)
    requestid.bind(submission_id=submission_id)
    with app.app_context():
        factory = app.extensions["oqu.db"]["factory"]
        outcome = grading.run(
            factory,
            submission_id=submission_id,
            settings=GraderSettings.from_config(app.config),
            provider=lambda: kernel_provider(app),
            grade=grade,
            stuck_seconds=float(app.config["GRADING_STUCK_SECONDS"]),
            max_deliveries=int(app.config["GRADING_MAX_DELIVERIES"]),
            task_id=self.request.id,
            record=record_item_result,
            infrastructure_errors=(NoSandbox,),
            learner_errors=(InvalidNotebook,),
        )
    log.info("submission %s: %s %s", submission_id, outcome.action, outcome.status or "")
    return outcome.action


@shared_task(name=SWEEP_TASK, bind=True)
def sweep_submissions(self: Any) -> int:
    """Re-send submissions stuck in queued or running past ``GRADING_STUCK_SECONDS``."""
    from lms.assignments import services

    app = _flask_app(self)
    try:
        with app.app_context(), app.extensions["oqu.db"]["factory"]() as session:
            ids = services.stuck_submission_ids(
                session, stuck_seconds=float(app.config["GRADING_STUCK_SECONDS"])
            )
            origins = services.request_ids(session, submission_ids=ids)
            session.commit()
    except OperationalError as error:  # SQLite busy: the next sweep tries again
        log.warning("sweep skipped: %s", error)
        return 0
    for submission_id in ids:
        # Re-sent under the upload's request id: the logs keep one trail per submission.
        origin = origins.get(submission_id)
        headers = {requestid.TASK_HEADER: origin} if origin else None
        self.app.send_task(GRADE_TASK, args=[submission_id], headers=headers)
    if ids:
        log.warning("sweep re-sent %d stuck submission(s): %s", len(ids), ids[:20])
    return len(ids)
