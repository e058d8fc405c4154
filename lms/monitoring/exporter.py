"""The metrics of one server (gunicorn's workers, or a Celery worker's pool), read from its
multiprocess directory; and the worker's own small HTTP server that answers scrapes."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from lms.monitoring import access, multiproc

log = logging.getLogger(__name__)


def render(directory: Path | None, extra: Iterable[Any] = ()) -> tuple[bytes, str]:
    """The text exposition: every process's metrics (or this process's) plus ``extra``
    collectors that read their values at scrape time."""
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        REGISTRY,
        CollectorRegistry,
        generate_latest,
    )
    from prometheus_client import multiprocess as mp

    from lms.monitoring import metrics  # noqa: F401 - every metric exists, even at 0

    if directory is None:
        registry = REGISTRY
        text = generate_latest(registry)
        scrape = CollectorRegistry(auto_describe=True)
    else:
        multiproc.forget_dead_processes(directory)
        scrape = CollectorRegistry()
        mp.MultiProcessCollector(scrape, path=str(directory))
        text = b""
    for collector in extra:
        scrape.register(collector)
    return text + generate_latest(scrape), CONTENT_TYPE_LATEST


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass


def wsgi_app(directory: Path, token: str) -> Callable[..., Any]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if not access.allowed(
            address=environ.get("REMOTE_ADDR"),
            authorization=environ.get("HTTP_AUTHORIZATION"),
            token=token,
        ):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        if environ.get("PATH_INFO", "/") not in ("/", "/metrics"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        body, content_type = render(directory)
        start_response("200 OK", [("Content-Type", content_type)])
        return [body]

    return app


def serve(*, host: str, port: int, directory: Path, token: str) -> None:
    """Answer ``GET /metrics`` on ``host:port`` from a daemon thread of this process."""
    from prometheus_client.exposition import ThreadingWSGIServer

    try:
        server = make_server(
            host, port, wsgi_app(directory, token), ThreadingWSGIServer, handler_class=_Quiet
        )
    except OSError as error:
        log.error("worker metrics not served on %s:%s: %s", host, port, error)
        return
    threading.Thread(target=server.serve_forever, name="oqu-metrics", daemon=True).start()
    log.info("worker metrics on http://%s:%s/metrics", host, port)
