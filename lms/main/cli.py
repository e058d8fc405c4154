"""``flask db ...`` and ``flask i18n ...``: deploy steps."""

from __future__ import annotations

import click
from flask import Flask, current_app


def init_app(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(i18n_group)


@click.group("db", help="Database schema (Alembic migrations).")
def db_group() -> None:
    pass


@db_group.command("upgrade", help="Apply every migration not yet applied.")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    from sqlalchemy.exc import OperationalError

    from lms import migrate
    from lms.db import unreachable

    url = current_app.config["DATABASE_URL"]
    try:
        migrate.upgrade(url, revision)
    except OperationalError as error:
        # One line, not a traceback: the README's "On PostgreSQL" says what to create.
        raise click.ClickException(unreachable(error, url)) from None
    click.echo(f"database at {revision}")


@click.group("i18n", help="Translation catalogues.")
def i18n_group() -> None:
    pass


@i18n_group.command("compile", help="Compile the .po catalogues of every feature.")
def i18n_compile() -> None:
    from lms.i18n import compile_catalogues

    click.echo(f"{compile_catalogues()} catalogues compiled")
