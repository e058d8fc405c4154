"""``flask certificates ...``: signing keys and certificates missing for past completions."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from lms.certificates import documents, services
from lms.db import db

certificates_group = AppGroup("certificates", help="Certificates and their signing keys.")


@certificates_group.command("rotate-key")
def rotate_key() -> None:
    """Add a new Ed25519 signing key; it signs from now on, older keys stay published."""
    key = documents.keystore().rotate()
    click.echo(f"new signing key: {key.kid}")


@certificates_group.command("keys")
def list_keys() -> None:
    """List the key ids published in the JWKS, oldest first (the last one signs)."""
    for key in documents.keystore().all():
        click.echo(key.kid)


@certificates_group.command("issue-missing")
def issue_missing() -> None:
    """Issue certificates for completions that have none (not annulled, account present)."""
    session = db.session()
    missing = services.completions_without_certificate(session)
    for completion in missing:
        services.issue(session, completion=completion)
    session.commit()
    click.echo(f"issued {len(missing)} certificate(s)")
