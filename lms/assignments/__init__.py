"""Feature package: notebook assignments (uploads, grading jobs, feedback, regrades)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the assignments blueprint (learner and instructor pages)."""
    from lms.assignments.views import bp, instructor  # noqa: F401 - the instructor's routes

    app.register_blueprint(bp)
