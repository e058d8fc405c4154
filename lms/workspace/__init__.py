"""Feature package: the workspace (solve a notebook in the browser: drafts, Run, Submit)."""

from flask import Flask

from lms.workspace import receivers  # noqa: F401 - subscribes to lms.events on import


def init_app(app: Flask) -> None:
    """Register the workspace blueprint (the page and its JSON endpoints)."""
    from lms.workspace.views import bp

    app.register_blueprint(bp)
