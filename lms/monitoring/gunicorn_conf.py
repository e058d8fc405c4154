"""gunicorn's settings for Oqu: ``gunicorn -c python:lms.monitoring.gunicorn_conf wsgi:app``.

Before any worker starts, the master gives the server a fresh metrics directory
(``LMS_METRICS_DIR``), so every worker's counters add up at ``/metrics``; a worker that
exits has its gauges dropped. gunicorn's own messages are JSON lines like the app's, and
requests are logged by the app itself (with the request id), not by gunicorn.

gunicorn reads every public name here as a setting: helpers are imported under ``_`` names.
"""

from __future__ import annotations

from pathlib import Path as _Path
from typing import Any as _Any

from lms import config as _config
from lms.monitoring import logs as _logs
from lms.monitoring import multiproc as _multiproc

_settings = _config.environment_settings()

accesslog = None
logconfig_dict = _logs.gunicorn_config(
    str(_settings["LOG_FORMAT"]), str(_settings["LOG_LEVEL"]).upper()
)


def on_starting(server: _Any) -> None:
    if _settings["METRICS_ENABLED"]:
        _multiproc.start(_Path(str(_settings["METRICS_DIR"])), "web")


def when_ready(server: _Any) -> None:
    """Say at start-up, in one line, when the database cannot be reached (the site then
    answers 503 until it can)."""
    from sqlalchemy import create_engine, text

    from lms.db import unreachable

    url = str(_settings["DATABASE_URL"])
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any failure: say which database, and why
        server.log.error(unreachable(error, url))
    finally:
        engine.dispose()


def post_worker_init(worker: _Any) -> None:
    """Before a worker takes its first request: import what the app imports lazily (nbformat
    and its schema validator, 1-2 s, seconds more on a busy machine) so that no learner's
    first workspace or notebook page pays for it."""
    from lms import warmup

    warmup.run()


def child_exit(server: _Any, worker: _Any) -> None:
    if _multiproc.enabled():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
