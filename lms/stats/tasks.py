"""The daily open-data publication, run by Celery beat in the worker (never in a request)."""

from __future__ import annotations

from typing import Any

from celery import Celery, shared_task
from celery.schedules import crontab

PUBLISH_TASK = "oqu.stats.publish_open_data"


@shared_task(name=PUBLISH_TASK, bind=True)
def publish_open_data(self: Any) -> int:
    """Publish new or changed snapshots of completed quarters; returns how many."""
    from lms.db import db
    from lms.stats import figures, opendata

    app = self.app.flask_app
    with app.app_context():
        session = db.session()
        made = opendata.publish(
            session, today=figures.today(), license_id=app.config["OPEN_DATA_LICENSE"]
        )
        session.commit()
        return len(made)


def schedule(celery: Celery) -> None:
    """Add the daily publication to the worker's beat schedule (02:30 Almaty)."""
    celery.conf.beat_schedule = {
        **(celery.conf.beat_schedule or {}),
        "oqu-publish-open-data": {
            "task": PUBLISH_TASK,
            "schedule": crontab(hour=21, minute=30),  # UTC: 02:30 the next day in Almaty
        },
    }
