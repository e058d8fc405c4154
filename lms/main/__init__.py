"""The home page, health check and error pages."""

from flask import Flask

from lms.main import views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    views.register_error_pages(app)

    @app.context_processor
    def inject_endpoints() -> dict[str, object]:
        # Lets the base layout link only to features that are installed.
        return {"url_rules": app.view_functions}

    from lms.main import cli

    cli.init_app(app)
