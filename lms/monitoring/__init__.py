"""Feature package: what an operator watches. Metrics at ``/metrics`` (and on the workers'
``LMS_WORKER_METRICS_PORT``), JSON log lines with a request id (docs/operations.md).

Nothing here imports prometheus_client when the app is built: a server chooses its
multiprocess directory first (lms/monitoring/multiproc.py).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Logging, the request hooks (before every other feature's), /metrics, pool counts."""
    from lms.db import db
    from lms.monitoring import database, jobs, logs, receivers, views, web  # noqa: F401

    logs.configure(level=str(app.config["LOG_LEVEL"]), fmt=str(app.config["LOG_FORMAT"]))
    web.init_app(app)
    app.register_blueprint(views.bp)
    if app.config["METRICS_ENABLED"]:
        database.watch(db.engine(app))
