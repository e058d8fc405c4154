"""``flask users ...``: the first admin, and roles granted or revoked from the shell."""

from __future__ import annotations

import sys

import click
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask.cli import AppGroup

from lms.accounts import services
from lms.accounts.models import Role, User
from lms.db import db

users_group = AppGroup("users", help="Accounts and roles.")


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@users_group.command("create-admin", help="Create an account holding the admin role.")
@click.option("--email", required=True, help="The admin's e-mail address.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input instead of asking for it.",
)
@click.option("--name", default="Administrator", show_default=True, help="Full name.")
def create_admin(email: str, password_stdin: bool, name: str) -> None:
    session = db.session()
    if services.find_by_email(session, email=email) is not None:
        _fail(f"an account with the e-mail {services.normalise_email(email)} already exists")
    try:
        validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        _fail(f"that is not an e-mail address: {exc}")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < services.MIN_PASSWORD_LENGTH:
        _fail(f"the password needs at least {services.MIN_PASSWORD_LENGTH} characters")
    try:
        user = services.create_admin(
            session,
            email=email,
            password=password,
            full_name=name,
            consent_version=current_app.config["CONSENT_VERSION"],
            locale=current_app.config["DEFAULT_LOCALE"],
        )
    except services.EmailTaken:
        _fail(f"an account with the e-mail {services.normalise_email(email)} already exists")
    except services.CommonPassword:
        _fail("the password is too easy to guess (a common password or a simple pattern)")
    except services.InvalidProfile as exc:
        _fail(f"not accepted: {exc}")
    session.commit()
    click.echo(f"admin {user.email} created")


def _account_and_role(role_name: str, email: str) -> tuple[User, Role]:
    try:
        role = services.parse_role(role_name)
    except services.UnknownRole:
        _fail(
            f"unknown role {role_name!r}; roles: instructor, analyst, admin (learner is everyone's)"
        )
    user = services.find_by_email(db.session(), email=email)
    if user is None:
        _fail(f"no account with the e-mail {services.normalise_email(email)}")
    return user, role  # type: ignore[return-value]


@users_group.command("grant", help="Give ROLE (instructor, analyst, admin) to the account EMAIL.")
@click.argument("role")
@click.argument("email")
def grant(role: str, email: str) -> None:
    user, parsed = _account_and_role(role, email)
    if services.grant_role(db.session(), user=user, role=parsed):
        db.session().commit()
        click.echo(f"{user.email} now has the role {parsed}")
    else:
        click.echo(f"{user.email} already has the role {parsed}")


@users_group.command("revoke", help="Take ROLE away from the account EMAIL.")
@click.argument("role")
@click.argument("email")
def revoke(role: str, email: str) -> None:
    user, parsed = _account_and_role(role, email)
    if services.revoke_role(db.session(), user=user, role=parsed):
        db.session().commit()
        click.echo(f"{user.email} no longer has the role {parsed}")
    else:
        click.echo(f"{user.email} did not have the role {parsed}")
