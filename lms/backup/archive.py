"""One archive file: a gzip'd tar, encrypted (lms/backup/crypto.py), whose last member is
``manifest.json`` with the SHA-256 of every other member. Reading checks every member
against it; only the member names below are accepted, as plain files (no links, no paths
outside the working folder)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import tarfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from lms.backup.crypto import DecryptingReader, EncryptingWriter, Undecryptable

FORMAT = 1
MANIFEST = "manifest.json"
ALLOWED = re.compile(
    r"(manifest\.json|secrets\.json|database/oqu\.(sqlite3|pgdump)"
    r"|credential_keys/[A-Za-z0-9._-]{1,120}\.pem)\Z"
)


class BadArchive(ValueError):
    """The archive cannot be trusted: the message says why."""


@dataclass
class Writer:
    """Adds members to an open archive, hashing each."""

    tar: tarfile.TarFile
    members: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add_bytes(self, name: str, data: bytes) -> None:
        self._add(name, io.BytesIO(data), len(data))

    def add_file(self, name: str, path: Path) -> None:
        with open(path, "rb") as handle:
            self._add(name, handle, path.stat().st_size)

    def _add(self, name: str, handle: BinaryIO, size: int) -> None:
        if not ALLOWED.match(name) or name in self.members:
            raise ValueError(f"not an archive member: {name}")
        digest = hashlib.sha256()
        hashing = _Hashing(handle, digest)
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, int(time.time()), 0o600
        self.tar.addfile(info, hashing)  # type: ignore[arg-type]
        self.members[name] = {"sha256": digest.hexdigest(), "bytes": size}


class _Hashing:
    def __init__(self, handle: BinaryIO, digest: Any) -> None:
        self.handle, self.digest = handle, digest

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


@contextmanager
def writing(path: Path, passphrase: str) -> Iterator[Writer]:
    """Write an archive at ``path`` (made 0600); the caller adds members, then the manifest
    with ``finish``. Nothing is left at ``path`` when this fails."""
    staged = path.with_name(f".{path.name}.partial")
    try:
        with open(staged, "xb") as sink:
            staged.chmod(0o600)
            encrypted = EncryptingWriter(sink, passphrase)
            with (
                gzip.GzipFile(fileobj=encrypted, mode="wb", compresslevel=1, mtime=0) as zipped,
                tarfile.open(fileobj=zipped, mode="w|", format=tarfile.PAX_FORMAT) as tar,
            ):
                yield Writer(tar)
            encrypted.close()
        staged.replace(path)
    finally:
        staged.unlink(missing_ok=True)


def finish(writer: Writer, manifest: dict[str, Any]) -> None:
    """The manifest last: it names every member before it and its hash."""
    body = {**manifest, "format": FORMAT, "members": writer.members}
    writer.add_bytes(MANIFEST, json.dumps(body, indent=2, sort_keys=True).encode())


def unpack(path: Path, passphrase: str, folder: Path) -> dict[str, Any]:
    """Decrypt ``path`` into ``folder``; the manifest, once every member checks against it."""
    seen: dict[str, dict[str, Any]] = {}
    manifest: dict[str, Any] | None = None
    try:
        with open(path, "rb") as source:
            plain = io.BufferedReader(DecryptingReader(source, passphrase), 1024 * 1024)
            with (
                gzip.GzipFile(fileobj=plain, mode="rb") as unzipped,
                tarfile.open(fileobj=unzipped, mode="r|") as tar,
            ):
                for member in tar:
                    name = member.name
                    if not member.isfile() or not ALLOWED.match(name) or name in seen:
                        raise BadArchive(f"unexpected entry in the archive: {name!r}")
                    if manifest is not None:
                        raise BadArchive("entries after the manifest")
                    stream = tar.extractfile(member)
                    assert stream is not None
                    if name == MANIFEST:
                        manifest = json.loads(stream.read())
                        continue
                    target = folder / name
                    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                    digest = hashlib.sha256()
                    with open(target, "xb") as out:
                        target.chmod(0o600)
                        while chunk := stream.read(1024 * 1024):
                            digest.update(chunk)
                            out.write(chunk)
                    seen[name] = {"sha256": digest.hexdigest(), "bytes": member.size}
    except Undecryptable as error:
        raise BadArchive(str(error)) from error
    except (OSError, EOFError, tarfile.TarError, json.JSONDecodeError) as error:
        raise BadArchive(f"the archive's contents are damaged ({error})") from error
    if manifest is None:
        raise BadArchive("the archive has no manifest")
    if manifest.get("format") != FORMAT:
        raise BadArchive(f"archive format {manifest.get('format')} is not {FORMAT}")
    if manifest.get("members") != seen:
        raise BadArchive("the archive's members do not match its manifest")
    return manifest
