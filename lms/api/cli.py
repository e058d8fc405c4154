"""``flask tokens create|revoke --email EMAIL``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from lms.accounts.models import User
from lms.api import services
from lms.db import db

tokens_cli = AppGroup("tokens", help="API tokens of analyst and admin accounts.")


def _account(email: str) -> User:
    user = services.find_account(db.session(), email=email)
    if user is None:
        raise click.ClickException(f"no account with e-mail {email}")
    return user


@tokens_cli.command("create")
@click.option("--email", required=True)
def create(email: str) -> None:
    """Create a token and print it (only it, once) on standard output."""
    session = db.session()
    user = _account(email)
    try:
        created = services.create_token(session, user=user)
    except services.NotAllowed:
        raise click.ClickException(f"{email} is not an analyst or admin account") from None
    session.commit()
    click.echo(created.secret)


@tokens_cli.command("revoke")
@click.option("--email", required=True)
def revoke(email: str) -> None:
    """Revoke every token of an account."""
    session = db.session()
    user = _account(email)
    n = services.revoke_tokens_of(session, user=user)
    session.commit()
    click.echo(f"revoked {n} token(s) of {email}", err=True)
