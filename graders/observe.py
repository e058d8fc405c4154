"""What the kernel pools report to whoever watches them (the platform's metrics).

The grading engine imports nothing of its watchers: a watcher registers a callback with
``watch`` and receives ``(event, values)``. Events: ``kernels`` (``ready``, ``starting``,
``in_use``: how many kernels this process holds now, each a change since the last report),
``started`` (``seconds`` one kernel took to start), ``start_failed`` (``error``),
``acquired`` (``seconds`` a run waited for its kernel) and ``unavailable`` (no sandbox).
A watcher that raises is ignored: watching never breaks grading.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Watcher = Callable[[str, dict[str, Any]], None]
_watchers: list[Watcher] = []
_lock = threading.Lock()


def watch(callback: Watcher) -> None:
    """Call ``callback(event, values)`` for every report from now on (once per callback)."""
    with _lock:
        if callback not in _watchers:
            _watchers.append(callback)


def report(event: str, **values: Any) -> None:
    for callback in list(_watchers):
        try:
            callback(event, values)
        except Exception:  # noqa: BLE001 - a broken watcher must not stop a grade
            log.exception("a kernel pool watcher failed on %s", event)


def kernels(*, ready: int = 0, starting: int = 0, in_use: int = 0) -> None:
    """Report a change in this process's kernels (differences, not totals)."""
    if ready or starting or in_use:
        report("kernels", ready=ready, starting=starting, in_use=in_use)
