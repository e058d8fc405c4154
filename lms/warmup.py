"""Work a server process does once before it takes requests or tasks.

The app imports nbformat (and compiles its JSON schema) only where a notebook is read, so
that commands and tests start fast; a long-running web worker does it at start instead.
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)


def run() -> float:
    """Import and exercise the lazily loaded notebook machinery; return the seconds taken."""
    started = time.perf_counter()
    import nbformat

    nbformat.validate(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]))
    took = time.perf_counter() - started
    log.info("warmed up", extra={"seconds": round(took, 3)})
    return took
