"""Feature package: certificates (PDF, public verification, signed credentials)."""

from flask import Flask

from lms.certificates import receivers  # noqa: F401 - subscribes to lms.events on import


def init_app(app: Flask) -> None:
    """Register the certificates blueprint and the ``certificates`` CLI group."""
    from lms.certificates import cli, views

    app.register_blueprint(views.bp)
    app.cli.add_command(cli.certificates_group)
