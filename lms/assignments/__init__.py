"""Feature package: notebook assignments (uploads, grading jobs, feedback, regrades)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the assignments blueprint (learner and instructor pages)."""
    from lms.assignments import instructor  # noqa: F401 - adds the instructor's routes
    from lms.assignments.views import bp

    app.register_blueprint(bp)
