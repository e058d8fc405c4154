"""``flask backup create|verify|restore|new-key`` (docs/operations.md: schedule, retention)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from lms.backup import archive, crypto, database, instance, restore

backup_cli = AppGroup("backup", help="Encrypted backups of the instance, and restores.")


def _say(message: str) -> None:
    click.echo(f"== {message}", err=True)


def _instance() -> instance.Instance:
    return instance.Instance.of(current_app.config, Path(current_app.instance_path), os.environ)


def _key() -> str:
    key = str(current_app.config.get("BACKUP_KEY") or "")
    try:
        crypto.check_key(key)
    except crypto.BadKey as error:
        raise click.ClickException(str(error)) from None
    return key


FAILURES = (
    archive.BadArchive,
    database.DatabaseProblem,
    restore.NotEmpty,
    restore.SecretsDiffer,
    FileExistsError,
)


@backup_cli.command("create")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def create(output: Path) -> None:
    """Write one encrypted archive: database, secret key, signing keys."""
    try:
        summary = instance.create(_instance(), output, passphrase=_key(), progress=_say)
    except FAILURES as error:
        raise click.ClickException(str(error)) from None
    rows = sum(summary.manifest["counts"].values())
    click.echo(f"wrote {output}: {summary.size:,} bytes, {rows:,} rows, {summary.seconds:.1f} s")


@backup_cli.command("verify")
@click.argument("archive_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify(archive_file: Path) -> None:
    """Decrypt and check an archive without restoring it; exit 1 if anything is wrong."""
    try:
        summary = instance.verify(archive_file, passphrase=_key(), progress=_say)
    except FAILURES as error:
        click.echo(f"{archive_file}: NOT usable: {error}", err=True)
        sys.exit(1)
    manifest = summary.manifest
    click.echo(
        f"{archive_file}: ok, made {manifest['created_at']}, schema {manifest['schema_revision']}, "
        f"{sum(manifest['counts'].values()):,} rows, {len(manifest['credential_keys'])} signing "
        f"key(s), checked in {summary.seconds:.1f} s"
    )


@backup_cli.command("restore")
@click.argument("archive_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(archive_file: Path) -> None:
    """Bring an empty instance back from an archive (refuses a non-empty one)."""
    from lms.migrate import head_revision

    try:
        done = restore.restore(_instance(), archive_file, passphrase=_key(), progress=_say)
    except FAILURES as error:
        raise click.ClickException(str(error)) from None
    manifest = done.manifest
    click.echo(
        f"restored {sum(done.counts.values()):,} rows from {manifest['created_at']} in "
        f"{done.seconds:.1f} s; {done.requeued} submission(s) back in the grading queue"
    )
    if manifest["schema_revision"] != head_revision():
        click.echo(
            f"the archive's schema is {manifest['schema_revision']}, this code's "
            f"{head_revision()}: run `flask --app wsgi db upgrade` before starting",
            err=True,
        )
    if done.settings_file is not None:
        click.echo(
            f"secrets that this environment must carry are in {done.settings_file} (mode "
            "0600): add them to the service's environment file, then delete that file",
            err=True,
        )


@backup_cli.command("new-key")
def new_key() -> None:
    """Print a fresh random key for LMS_BACKUP_KEY (keep it apart from the archives)."""
    click.echo(crypto.new_key())
