"""Feature package: learning."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this feature's blueprints and commands (none yet)."""
