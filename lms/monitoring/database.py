"""The database pool's connections (open, checked out), counted from the pool's events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


def _change(state: str, amount: int) -> None:
    from lms.monitoring import metrics

    metrics.DB_CONNECTIONS.labels(state).inc(amount)


def _connected(*_: Any) -> None:
    _change("open", 1)


def _closed(*_: Any) -> None:
    _change("open", -1)


def _checked_out(*_: Any) -> None:
    _change("checked_out", 1)


def _checked_in(*_: Any) -> None:
    _change("checked_out", -1)


def watch(engine: Engine) -> None:
    """Count ``engine``'s pool (once per engine)."""
    if event.contains(engine, "checkout", _checked_out):
        return
    event.listen(engine, "connect", _connected)
    event.listen(engine, "close", _closed)
    event.listen(engine, "close_detached", _closed)
    event.listen(engine, "checkout", _checked_out)
    event.listen(engine, "checkin", _checked_in)
