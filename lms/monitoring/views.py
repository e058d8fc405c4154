"""``GET /metrics``: Prometheus' text format, for the machine itself or the metrics token."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, request

from lms.monitoring import access, multiproc

bp = Blueprint("monitoring", __name__)


@bp.get("/metrics")
def metrics() -> Any:
    """Every process of this server's metrics, with jobs and queues read now."""
    if not access.allowed(
        address=request.remote_addr,
        authorization=request.headers.get("Authorization"),
        token=str(current_app.config.get("METRICS_TOKEN") or ""),
    ):
        abort(404)  # not public: to anyone else it does not exist
    from lms.monitoring import collectors, exporter

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    directory = Path(os.environ[multiproc.ENV]) if multiproc.enabled() else None
    body, content_type = exporter.render(
        directory, extra=[collectors.JobStates(app), collectors.QueueDepths(app)]
    )
    response = Response(body, content_type=content_type)
    response.headers["Cache-Control"] = "no-store"
    return response
