"""The grading worker: ``celery -A lms.worker worker -B`` (``-B``: the sweep's timer).

Settings are the Flask app's (``LMS_*`` variables): the broker, the sweep's period and
deadline, the grader's limits.
"""

from __future__ import annotations

from lms import create_app
from lms.assignments import tasks

flask_app = create_app()
app = tasks.make_celery(flask_app, current=True)
app.set_default()

__all__ = ["app", "flask_app", "tasks"]
