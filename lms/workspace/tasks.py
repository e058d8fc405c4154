"""The runs queue: the web sends one task per Run; the runs worker executes it.

The runs worker is a Celery worker of its own on the ``runs`` queue (``make run`` starts it
beside the grading worker: ``celery -A lms.worker worker -Q runs -P threads``), so a burst
of Runs never delays a Submit's score and the other way round; more such workers, on this
machine or others, add capacity. A Run's row decides what a delivery does: a Run cancelled
or already taken is skipped. Runs are not redelivered after a crash (a Run is cheap to
press again; the page says it was lost).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import shared_task
from celery.signals import worker_ready
from flask import Flask

from lms.assignments.tasks import celery_for

log = logging.getLogger(__name__)

RUN_TASK = "oqu.workspace.run"


def send_run(app: Flask, run_id: int) -> bool:
    """Send a committed Run to the runs queue; False (logged) when the broker fails."""
    try:
        celery_for(app).send_task(RUN_TASK, args=[run_id], queue=str(app.config["RUN_QUEUE"]))
    except Exception:  # noqa: BLE001 - the page reports the Run as lost and offers to retry
        log.exception("could not send run %s to the broker", run_id)
        return False
    return True


_provider: Any = None
_provider_lock = threading.Lock()


def runs_settings(app: Flask) -> Any:
    """The grader's settings (same limits, sandbox, pre-imports), with the runs pool's size."""
    from graders.settings import GraderSettings

    settings = GraderSettings.from_config(app.config)
    return settings.with_(pool_size=int(app.config["RUN_POOL_SIZE"]))


def runs_provider(app: Flask) -> Any:
    """This runs worker's pool of kernels, created on first use."""
    global _provider
    with _provider_lock:
        if _provider is None:
            from graders.kernels import provider_for

            _provider = provider_for(runs_settings(app))
        return _provider


@worker_ready.connect
def _warm(sender: Any = None, **_: Any) -> None:
    """A runs worker fills its pool as soon as it starts (the grading worker does not)."""
    from celery import current_app

    app = getattr(current_app, "flask_app", None)
    consumer = getattr(sender, "task_consumer", None)
    queues = {q.name for q in getattr(consumer, "queues", None) or []}
    if app is None or str(app.config["RUN_QUEUE"]) not in queues:
        return

    def warm() -> None:
        try:
            runs_provider(app)
        except Exception as error:  # noqa: BLE001 - each Run reports it again
            log.error("no kernel provider in the runs worker: %s", error)

    threading.Thread(target=warm, name="oqu-warm-run-kernels", daemon=True).start()


@shared_task(name=RUN_TASK, bind=True)
def execute_run(self: Any, run_id: int) -> str:
    """Execute one Run (or nothing, if it was cancelled or taken meanwhile)."""
    import nbformat  # here: importing it costs seconds

    from graders.workspace import run_cells
    from lms.workspace import runs
    from lms.workspace.models import RunStatus
    from lms.workspace.outputs import render_cells

    app: Flask = self.app.flask_app
    sessions = app.extensions["oqu.db"]["factory"]
    with app.app_context():
        with sessions() as session:
            if not runs.claim(session, run_id=run_id):
                session.rollback()
                return "skipped"
            found = runs.material(session, run_id=run_id)
            session.commit()

        def keep_going() -> bool:
            with sessions() as session:
                return not runs.cancel_requested(session, run_id=run_id)

        settings = runs_settings(app)
        try:
            result = run_cells(
                nbformat.reads(found["master"], as_version=4),
                found["draft"],
                upto=found["cell_id"],
                settings=settings,
                kernel_provider=runs_provider(app),
                files=found["files"],
                keep_going=keep_going,
            )
        except Exception as error:  # noqa: BLE001 - no sandbox, a broken notebook: say so
            log.error("run %s failed: %s", run_id, error)
            with sessions() as session:
                runs.finish(
                    session,
                    run_id=run_id,
                    status=RunStatus.FAILED,
                    outputs={},
                    reason_code="kernel-unavailable",
                    timings={},
                    flags=[],
                )
                session.commit()
            return "failed"
        status = {
            "cancelled": RunStatus.CANCELLED,
            "failed": RunStatus.FAILED,
        }.get(result.status, RunStatus.DONE)
        with sessions() as session:
            runs.finish(
                session,
                run_id=run_id,
                status=status,
                outputs=render_cells(result.cells, cell_timeout=settings.cell_timeout),
                reason_code=result.reason_code,
                timings={k: round(v, 4) for k, v in result.timings.items()},
                flags=result.flags,
            )
            session.commit()
    log.info("run %s: %s %s", run_id, status, result.reason_code)
    return str(status)
