"""Logs as JSON lines on standard error, each with the request id (lms/requestid.py).

``LMS_LOG_FORMAT=text`` gives readable lines for a developer's terminal instead. The same
set-up serves the web app, the Celery workers and gunicorn's own messages.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from lms import requestid

# Standard LogRecord attributes renamed in the JSON line.
RENAMED = {"levelname": "level", "name": "logger"}
_MARK = "_oqu_handler"


class RequestContext(logging.Filter):
    """Adds ``request_id`` and the fields bound with ``requestid.bind`` to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = requestid.current()
        for key, value in requestid.fields().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def formatter(fmt: str) -> logging.Formatter:
    """The JSON formatter (``fmt="json"``) or a plain one for people (``"text"``)."""
    if fmt == "text":
        return logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        rename_fields=RENAMED,
        timestamp="time",  # ISO 8601, UTC
        json_ensure_ascii=False,
    )


def handler(fmt: str) -> logging.Handler:
    out = logging.StreamHandler(sys.stderr)
    out.setFormatter(formatter(fmt))
    out.addFilter(RequestContext())
    setattr(out, _MARK, True)
    return out


def configure(*, level: str | int = "INFO", fmt: str = "json") -> None:
    """Send the root logger's records to standard error in ``fmt``; safe to call again."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, _MARK, False):
            root.removeHandler(existing)
    root.addHandler(handler(fmt))
    root.setLevel(level)
    # Seven lines about its own plugins each time alembic loads: noise around a real message.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def gunicorn_config(fmt: str, level: str = "INFO") -> dict[str, Any]:
    """gunicorn's ``logconfig_dict``: its own messages in the same format as the app's."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": RequestContext}},
        "formatters": {"oqu": {"()": formatter, "fmt": fmt}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "oqu",
                "filters": ["context"],
            }
        },
        # gunicorn merges this into its defaults, whose root logger names a handler of
        # theirs: the root is the app's (``configure``), so nothing here.
        "root": {"level": level, "handlers": []},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": ["stderr"], "propagate": False},
            "gunicorn.access": {"level": "WARNING", "handlers": ["stderr"], "propagate": False},
        },
    }
