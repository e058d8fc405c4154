"""Feature package: accounts (registration, sign-in, profile, roles)."""

from flask import Flask
from flask_babel import lazy_gettext

from lms.accounts import receivers  # noqa: F401 - subscribes to lms.events on import


def init_app(app: Flask) -> None:
    """Register the accounts blueprint and the ``users`` command group."""
    from lms.accounts import cli, oidc_views, views
    from lms.extensions import login_manager

    app.register_blueprint(views.bp)
    oidc_views.init_app(app)  # single sign-on (OpenID Connect), with LMS_OIDC_PROVIDERS
    login_manager.user_loader(views.load_user)
    app.cli.add_command(cli.users_group)
    login_manager.login_message = lazy_gettext("Please log in to see this page.")
    login_manager.login_message_category = "info"
