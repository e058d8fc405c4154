"""Feature package: courses (catalogue, packages, the ``courses`` commands)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the catalogue blueprint and the ``flask courses`` commands."""
    from lms.courses import cli, views

    app.register_blueprint(views.bp)
    cli.init_app(app)
