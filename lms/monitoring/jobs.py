"""The Celery side: the request id travels in each task's headers; tasks, kernels and
sandbox failures are counted; the worker serves its metrics on ``LMS_WORKER_METRICS_PORT``.

Connected when lms.monitoring is imported (``create_app``); the worker signals fire only in
a Celery worker. Task results are counted by name, so the runs worker's tasks are counted
like the grading worker's without either knowing about metrics.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from celery import signals

from lms import requestid
from lms.monitoring import multiproc

log = logging.getLogger(__name__)

SENT_AT_HEADER = "oqu_sent_at"
# A task's return value becomes a label only when it is one of these short words.
_RESULT_WORDS = frozenset(
    ["stored", "skipped", "requeued", "gave_up", "done", "failed", "cancelled", "graded", "lost"]
)
_started: dict[str, tuple[float, Any]] = {}
_started_lock = threading.Lock()


def task_label(name: str | None) -> str:
    """``oqu.assignments.grade`` -> ``assignments.grade``."""
    return (name or "unknown").removeprefix("oqu.")


@signals.before_task_publish.connect
def _stamp(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """Every task sent carries the current request id and the time it was sent."""
    if headers is None:
        return
    current = requestid.current()
    if current and not headers.get(requestid.TASK_HEADER):
        headers[requestid.TASK_HEADER] = current
    headers.setdefault(SENT_AT_HEADER, time.time())


def _header(task: Any, name: str) -> Any:
    request = getattr(task, "request", None)
    value = getattr(request, name, None)
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(name)
    return value


@signals.task_prerun.connect
def _task_started(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    from lms.monitoring import metrics

    label = task_label(getattr(task, "name", None))
    tokens = requestid.begin(_header(task, requestid.TASK_HEADER))
    requestid.bind(task=label)
    sent_at = _header(task, SENT_AT_HEADER)
    if isinstance(sent_at, int | float):
        metrics.TASK_QUEUE_WAIT.labels(label).observe(max(0.0, time.time() - sent_at))
    metrics.TASKS_RUNNING.labels(label).inc()
    with _started_lock:
        _started[task_id or ""] = (time.perf_counter(), tokens)


@signals.task_postrun.connect
def _task_finished(
    task_id: str | None = None, task: Any = None, retval: Any = None, state: str = "", **_: Any
) -> None:
    from lms.monitoring import metrics

    label = task_label(getattr(task, "name", None))
    with _started_lock:
        began, tokens = _started.pop(task_id or "", (None, None))
    if state == "SUCCESS":
        result = str(retval) if str(retval) in _RESULT_WORDS else "success"
    else:
        result = (state or "unknown").lower()
    metrics.TASKS.labels(label, result).inc()
    metrics.TASKS_RUNNING.labels(label).dec()
    if began is not None:
        metrics.TASK_DURATION.labels(label).observe(time.perf_counter() - began)
    if tokens is not None:
        requestid.end(tokens)


def _on_kernels(event: str, values: dict[str, Any]) -> None:
    from lms.monitoring import metrics

    if event == "kernels":
        for state, change in values.items():
            if change:
                metrics.KERNELS.labels(state).inc(change)
    elif event == "started":
        metrics.KERNEL_START.observe(values["seconds"])
    elif event == "acquired":
        metrics.KERNEL_WAIT.observe(values["seconds"])
    elif event == "start_failed":
        metrics.SANDBOX_FAILURES.labels("start").inc()
    elif event == "unavailable":
        metrics.SANDBOX_FAILURES.labels("unavailable").inc()


def watch_kernel_pools() -> None:
    """Count the kernels of this process's pools (graders reports, lms counts)."""
    from graders import observe

    observe.watch(_on_kernels)


@signals.setup_logging.connect
def _worker_logging(loglevel: Any = None, **_: Any) -> None:
    """The worker logs JSON lines like the web (Celery's own set-up is skipped)."""
    from celery import current_app

    from lms.monitoring import logs

    flask_app = getattr(current_app, "flask_app", None)
    fmt = str(flask_app.config["LOG_FORMAT"]) if flask_app is not None else "json"
    logs.configure(level=loglevel or "INFO", fmt=fmt)


@signals.worker_init.connect
def _worker_started(**_: Any) -> None:
    """Before the pool forks: a metrics directory of this worker's own, and its server."""
    from celery import current_app

    flask_app = getattr(current_app, "flask_app", None)
    if flask_app is None or not flask_app.config["METRICS_ENABLED"]:
        return
    directory = multiproc.start(metrics_base(flask_app.config), "worker")
    watch_kernel_pools()
    port = int(flask_app.config.get("WORKER_METRICS_PORT") or 0)
    if port:
        from lms.monitoring import exporter

        exporter.serve(
            host=str(flask_app.config["WORKER_METRICS_HOST"]),
            port=port,
            directory=directory,
            token=str(flask_app.config.get("METRICS_TOKEN") or ""),
        )


@signals.worker_process_shutdown.connect
def _pool_process_gone(pid: int | None = None, **_: Any) -> None:
    if multiproc.enabled():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid())


def metrics_base(config: Any) -> Path:
    """Where this machine's servers keep their metrics directories."""
    return Path(str(config["METRICS_DIR"]))
