"""Feature package: api (bearer-token API for the ministry's systems, tokens admin)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the API and token-admin blueprints and the ``tokens`` commands."""
    from lms.api import admin, cli, views

    app.register_blueprint(views.bp)
    app.register_blueprint(admin.bp)
    app.cli.add_command(cli.tokens_cli)
