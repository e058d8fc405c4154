"""Feature package: learning (course page, enrolment, lessons, quizzes, dashboard)."""

from flask import Flask

from lms.learning import receivers  # noqa: F401 - subscribes to lms.events on import


def init_app(app: Flask) -> None:
    """Register the learning blueprint (the item pages join it on import)."""
    from lms.learning import items, views  # noqa: F401  (items adds its routes to views.bp)

    app.register_blueprint(views.bp)
