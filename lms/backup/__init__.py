"""Feature package: encrypted backups that restore (``flask backup ...``)."""

from flask import Flask


def init_app(app: Flask) -> None:
    from lms.backup.cli import backup_cli

    app.cli.add_command(backup_cli)
