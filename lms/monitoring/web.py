"""Per request: the request id, the request metrics and one JSON access-log line.

Kept small on purpose (bench/ops/run measures what it costs the lesson page): a clock
read, three metric updates and one log record per request.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Flask, g, request
from sqlalchemy.exc import TimeoutError as PoolTimeout

from lms import requestid

access_log = logging.getLogger("oqu.access")
# The label of a request that matched no route (a 404 for an unknown address).
UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def init_app(app: Flask) -> None:
    measure = bool(app.config["METRICS_ENABLED"])
    log_requests = bool(app.config["ACCESS_LOG"])

    @app.before_request
    def begin_request() -> None:
        g.oqu_began = time.perf_counter()
        g.oqu_request = requestid.begin(request.headers.get(requestid.HEADER))
        if measure:
            from lms.monitoring import metrics

            metrics.HTTP_IN_PROGRESS.inc()
            g.oqu_counted = True

    @app.after_request
    def finish_request(response: Any) -> Any:
        rid = requestid.current()
        if rid:
            response.headers[requestid.HEADER] = rid
        began = g.get("oqu_began")
        if began is None:
            return response
        seconds = time.perf_counter() - began
        rule = request.url_rule
        endpoint = rule.endpoint if rule is not None else UNMATCHED
        method = request.method if request.method in METHODS else "OTHER"
        if measure:
            from lms.monitoring import metrics

            metrics.HTTP_REQUESTS.labels(endpoint, method, str(response.status_code)).inc()
            metrics.HTTP_DURATION.labels(endpoint).observe(seconds)
        if log_requests:
            access_log.info(
                "%s %s %s",
                method,
                request.path,
                response.status_code,
                extra={
                    "method": method,
                    "path": request.path,
                    "endpoint": endpoint,
                    "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 2),
                    "remote_addr": request.remote_addr,
                },
            )
        return response

    @app.teardown_request
    def end_request(error: BaseException | None) -> None:
        if g.pop("oqu_counted", False):
            from lms.monitoring import metrics

            metrics.HTTP_IN_PROGRESS.dec()
            if isinstance(error, PoolTimeout):
                metrics.DB_POOL_TIMEOUTS.inc()
        tokens = g.pop("oqu_request", None)
        if tokens is not None:
            requestid.end(tokens)
