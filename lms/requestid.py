"""The request id: one per web request or background task, carried from a learner's upload
to the worker that grades it and back (JSON log lines carry it; see docs/operations.md).

A context variable, so the same code serves gunicorn's threads and Celery's tasks. An id
that arrives from outside (nginx's ``X-Request-Id``, a task header) is kept only when it
looks like one; anything else is replaced, so a log line never carries a visitor's text.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar, Token
from typing import Any

#: The HTTP header read from the proxy and written on every response.
HEADER = "X-Request-Id"
#: The Celery message header that carries the id to the worker.
TASK_HEADER = "oqu_request_id"

_VALID = re.compile(r"[A-Za-z0-9._:-]{8,64}\Z")
_current: ContextVar[str | None] = ContextVar("oqu_request_id", default=None)
_fields: ContextVar[dict[str, Any] | None] = ContextVar("oqu_log_fields", default=None)


def new() -> str:
    """A fresh id (32 hex digits)."""
    return uuid.uuid4().hex


def accept(value: str | None) -> str:
    """``value`` when it is a well-formed id, else a fresh one."""
    if value and _VALID.match(value):
        return value
    return new()


def current() -> str | None:
    """The id of the request or task being served, if any."""
    return _current.get()


def begin(value: str | None) -> tuple[Token[str | None], Token[dict[str, Any] | None]]:
    """Serve a new request or task under ``value`` (checked); ``end`` with what it returns."""
    return _current.set(accept(value)), _fields.set(None)


def end(tokens: tuple[Token[str | None], Token[dict[str, Any] | None]]) -> None:
    """Back to what was served before ``begin`` (nothing, for a server's thread)."""
    try:
        _current.reset(tokens[0])
        _fields.reset(tokens[1])
    except ValueError:  # begun in another context: just forget this one
        _current.set(None)
        _fields.set(None)


def bind(**fields: Any) -> None:
    """Add fields (``submission_id=...``) to every log line of the current request or task."""
    _fields.set({**(_fields.get() or {}), **fields})


def fields() -> dict[str, Any]:
    """The fields bound so far in this request or task."""
    return _fields.get() or {}
