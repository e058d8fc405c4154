"""The workers: ``celery -A lms.worker worker -B`` grades (``-B``: the sweep's timer);
``celery -A lms.worker worker -Q runs -P threads`` runs the workspace's cells.

Settings are the Flask app's (``LMS_*`` variables): the broker, the sweep's period and
deadline, the grader's limits.
"""

from __future__ import annotations

from lms import create_app
from lms.assignments import tasks
from lms.stats import tasks as stats_tasks
from lms.workspace import tasks as workspace_tasks

flask_app = create_app()
app = tasks.make_celery(flask_app, current=True)
app.set_default()
stats_tasks.schedule(app)

__all__ = ["app", "flask_app", "stats_tasks", "tasks", "workspace_tasks"]
