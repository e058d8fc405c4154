"""gunicorn's settings for Oqu: ``gunicorn -c python:lms.monitoring.gunicorn_conf wsgi:app``.

Before any worker starts, the master gives the server a fresh metrics directory
(``LMS_METRICS_DIR``), so every worker's counters add up at ``/metrics``; a worker that
exits has its gauges dropped. gunicorn's own messages are JSON lines like the app's, and
requests are logged by the app itself (with the request id), not by gunicorn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lms import config
from lms.monitoring import logs, multiproc

_settings = config.environment_settings()

accesslog = None
logconfig_dict = logs.gunicorn_config(
    str(_settings["LOG_FORMAT"]), str(_settings["LOG_LEVEL"]).upper()
)


def on_starting(server: Any) -> None:
    if _settings["METRICS_ENABLED"]:
        multiproc.start(Path(str(_settings["METRICS_DIR"])), "web")


def child_exit(server: Any, worker: Any) -> None:
    if multiproc.enabled():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
