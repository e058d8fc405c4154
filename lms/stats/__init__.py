"""Feature package: stats (counting toward 5M / 500K, dashboard, exports)."""

from flask import Flask

from lms.stats import receivers  # noqa: F401 - subscribes to lms.events on import


def init_app(app: Flask) -> None:
    """Register the dashboard blueprint and the ``stats`` commands."""
    from lms.stats import cli, open_views, views

    app.register_blueprint(views.bp)
    app.register_blueprint(open_views.bp)
    app.cli.add_command(cli.stats_cli)
