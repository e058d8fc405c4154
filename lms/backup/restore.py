"""``backup restore``: bring an empty instance back from an archive.

Refuses, changing nothing, when the instance is not empty (its database has tables, or it
holds signing keys), when the archive is damaged or its key is wrong, when its database is
of another kind than the instance's, or when a secret set in this environment differs from
the archive's. Then: the database, the signing keys, the secret key; submissions that were
queued or being graded go back to the queue (no worker holds them any more), and the rows
are counted against the archive's manifest.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from lms.backup import archive, database
from lms.backup.instance import Instance, Progress, check_unpacked


class NotEmpty(RuntimeError):
    """The instance holds data already: a restore never overwrites it."""


class SecretsDiffer(RuntimeError):
    """A secret set in this environment is not the archive's."""


@dataclass(frozen=True)
class Restored:
    manifest: dict[str, Any]
    counts: dict[str, int]
    requeued: int
    seconds: float
    settings_file: Path | None  # secrets to put into the environment, if any


def check_empty(instance: Instance) -> None:
    tables = database.tables_in(instance.database_url)
    if tables:
        raise NotEmpty(
            f"the database already has {len(tables)} tables: restore only into an empty "
            "database (PostgreSQL: drop and create it; SQLite: remove the file)"
        )
    if instance.keys_dir.is_dir() and any(instance.keys_dir.glob("*.pem")):
        raise NotEmpty(f"{instance.keys_dir} already holds signing keys")


def _secrets_to_write(instance: Instance, saved: dict[str, str]) -> dict[str, str]:
    """The archive's secrets this instance lacks; refuses one the environment sets otherwise."""
    for name, value in saved.items():
        if name in instance.from_environment and instance.secrets.get(name) != value:
            raise SecretsDiffer(
                f"LMS_{name} is set here to another value than the archive's: unset it (the "
                "restore then writes the archive's) or set the archive's value"
            )
    return {n: v for n, v in saved.items() if instance.secrets.get(n) != v}


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.restoring")
    staged.unlink(missing_ok=True)
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(staged, path)


def restore(instance: Instance, path: Path, *, passphrase: str, progress: Progress) -> Restored:
    """Restore the archive at ``path`` into ``instance`` (see the module's docstring)."""
    began = time.perf_counter()
    check_empty(instance)
    instance.instance_path.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".oqu-restore-", dir=instance.instance_path) as work:
        folder = Path(work)
        progress("decrypting and checking every member")
        manifest = archive.unpack(path, passphrase, folder)
        kind = database.dialect(instance.database_url)
        if manifest["database"]["dialect"] != kind:
            raise database.DatabaseProblem(
                f"the archive holds a {manifest['database']['dialect']} database; this "
                f"instance uses {kind}"
            )
        check_unpacked(manifest, folder)
        saved = json.loads((folder / "secrets.json").read_text())
        to_write = _secrets_to_write(instance, dict(saved["values"]))
        progress("restoring the database")
        dump = folder / manifest["database"]["member"]
        if kind == "sqlite":
            database.place_sqlite(dump, instance.database_url)
        else:
            database.postgres_restore(instance.database_url, dump)
        progress("restoring the signing keys and the secret key")
        keys = sorted((folder / "credential_keys").glob("*.pem"))
        for key in keys:
            _write_private(instance.keys_dir / key.name, key.read_text())
        settings_file = None
        if "SECRET_KEY" in to_write:
            _write_private(instance.secret_key_file, to_write.pop("SECRET_KEY") + "\n")
        if to_write:
            # Settings that only the environment carries: handed to the operator, 0600.
            settings_file = instance.instance_path / "restored-settings.env"
            _write_private(
                settings_file, "".join(f"LMS_{k}={v}\n" for k, v in sorted(to_write.items()))
            )
    requeued = _requeue(instance.database_url)
    counts, _ = database.counts_of(instance.database_url)
    if counts != manifest["counts"]:
        difference = sorted(
            n for n in set(counts) | set(manifest["counts"])
            if counts.get(n) != manifest["counts"].get(n)
        )  # fmt: skip
        raise database.DatabaseProblem(f"restored rows differ from the archive's: {difference}")
    return Restored(manifest, counts, requeued, time.perf_counter() - began, settings_file)


def _requeue(url: str) -> int:
    from lms.assignments import services as assignments

    engine = create_engine(url)
    try:
        with Session(engine) as session:
            requeued = assignments.requeue_interrupted(session)
            session.commit()
            return requeued
    finally:
        engine.dispose()
