"""What an instance is made of, for a backup: its database, the secret key (the IIN hash
key and the credential pseudonyms derive from it), the credential signing keys. Course
files, assignment data files and learners' drafts are rows of the database.

``create`` writes one archive; ``verify`` reads one back without touching the instance.
No Flask here: the CLI (lms/backup/cli.py) passes the settings.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from lms.backup import archive, database

Progress = Callable[[str], None]
# Settings whose values are kept with the database: lose them and hashed IINs, credential
# pseudonyms and xAPI actors no longer match the people they were made for.
SECRET_SETTINGS = ("SECRET_KEY", "IIN_HASH_KEY", "XAPI_KEY")
DATABASE_MEMBERS = {"sqlite": "database/oqu.sqlite3", "postgresql": "database/oqu.pgdump"}


@dataclass(frozen=True)
class Instance:
    """Where one instance keeps what a backup holds."""

    database_url: str
    instance_path: Path
    keys_dir: Path
    secrets: dict[str, str]  # the secret settings that have a value
    from_environment: frozenset[str] = field(default_factory=frozenset)

    @property
    def secret_key_file(self) -> Path:
        return self.instance_path / "secret_key"

    @classmethod
    def of(
        cls, config: Mapping[str, Any], instance_path: Path, environ: Mapping[str, str]
    ) -> Instance:
        """The instance of a Flask config (``environ`` tells which secrets came from it)."""
        keys = config.get("CREDENTIAL_KEYS_DIR") or instance_path / "credential_keys"
        secrets = {k: str(config[k]) for k in SECRET_SETTINGS if config.get(k)}
        return cls(
            database_url=str(config["DATABASE_URL"]),
            instance_path=instance_path,
            keys_dir=Path(keys),
            secrets=secrets,
            from_environment=frozenset(k for k in secrets if environ.get(f"LMS_{k}")),
        )


@dataclass(frozen=True)
class Summary:
    manifest: dict[str, Any]
    seconds: float
    size: int


def _software() -> str:
    try:
        return f"oqu {metadata.version('oqu')}"
    except metadata.PackageNotFoundError:
        return "oqu"


def create(instance: Instance, output: Path, *, passphrase: str, progress: Progress) -> Summary:
    """Write the archive of ``instance`` to ``output`` (which must not exist)."""
    began = time.perf_counter()
    kind = database.dialect(instance.database_url)
    member = DATABASE_MEMBERS[kind]
    if output.exists():
        raise FileExistsError(f"{output} exists already: choose a new name")
    with tempfile.TemporaryDirectory(prefix=".oqu-backup-", dir=output.parent) as work:
        copy = Path(work) / "database"
        progress(f"database ({kind}): copying")
        if kind == "sqlite":
            counts, revision = database.sqlite_copy(instance.database_url, copy)
        else:
            counts, revision = database.postgres_dump(instance.database_url, copy)
        progress(f"database: {copy.stat().st_size:,} bytes, {sum(counts.values()):,} rows")
        keys = sorted(instance.keys_dir.glob("*.pem")) if instance.keys_dir.is_dir() else []
        with archive.writing(output, passphrase) as writer:
            progress("archive: compressing and encrypting")
            writer.add_file(member, copy)
            secrets = {
                "values": instance.secrets,
                "from_environment": sorted(instance.from_environment),
            }
            writer.add_bytes("secrets.json", json.dumps(secrets).encode())
            for key in keys:
                writer.add_file(f"credential_keys/{key.name}", key)
            manifest = {
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "software": _software(),
                "schema_revision": revision,
                "database": {"dialect": kind, "member": member},
                "counts": counts,
                "secrets": sorted(instance.secrets),
                "credential_keys": [k.stem for k in keys],
            }
            archive.finish(writer, manifest)
    return Summary(manifest, time.perf_counter() - began, output.stat().st_size)


def check_unpacked(manifest: dict[str, Any], folder: Path) -> dict[str, int]:
    """The unpacked database is whole and holds the rows the manifest counted."""
    info = manifest["database"]
    path = folder / info["member"]
    if info["dialect"] == "sqlite":
        counts, _ = database.sqlite_facts(path)
        if counts != manifest["counts"]:
            raise archive.BadArchive("the database's rows differ from the manifest's counts")
        return counts
    database.postgres_check(path)
    return dict(manifest["counts"])


def verify(path: Path, *, passphrase: str, progress: Progress) -> Summary:
    """Read the whole archive, check every member and the database; change nothing."""
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="oqu-verify-") as work:
        progress("decrypting and checking every member")
        manifest = archive.unpack(path, passphrase, Path(work))
        progress("checking the database")
        check_unpacked(manifest, Path(work))
    return Summary(manifest, time.perf_counter() - began, path.stat().st_size)
