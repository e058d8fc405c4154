"""Feature package: studio (instructors write, publish, watch and grade their courses)."""

from typing import Any

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the studio blueprint at /studio."""
    from lms.studio.views import (  # noqa: F401 - each module adds its routes
        assignments,
        bp,
        courses,
        grading,
        lessons,
        outline,
        packages,
        progress,
        quizzes,
    )

    app.register_blueprint(bp)

    @app.template_global("studio_manual_grades")
    def studio_manual_grades(submission: Any) -> dict[str, Any]:
        """Instructors' grades of a submission's cells, for the learner's submission page."""
        from lms.db import db
        from lms.studio.grading import manual_grades_for

        return manual_grades_for(db.session(), submission)
