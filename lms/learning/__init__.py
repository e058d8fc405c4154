"""Feature package: learning (course page, enrolment, lessons, quizzes, dashboard)."""

from flask import Flask

from lms.learning import receivers  # noqa: F401 - subscribes to lms.events on import


def init_app(app: Flask) -> None:
    """Register the learning blueprint (each views module adds its routes on import)."""
    from lms.learning import views
    from lms.learning.views import course, items, quizzes  # noqa: F401

    app.register_blueprint(views.bp)
