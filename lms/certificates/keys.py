"""The platform's Ed25519 signing keys: one PEM file per key id, the newest signs.

Keys live outside the repository (the instance folder by default), each file mode 0600.
Every key stays published in the JWKS until its file is removed, so credentials signed
before a rotation keep verifying.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def public_jwk(private: Ed25519PrivateKey, kid: str) -> dict[str, str]:
    """The public half of ``private`` as an OKP JWK (RFC 8037)."""
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64url(raw),
        "kid": kid,
        "use": "sig",
        "alg": "EdDSA",
    }


def thumbprint(private: Ed25519PrivateKey) -> str:
    """The RFC 7638 thumbprint of the public key (required members, sorted, no spaces)."""
    jwk = public_jwk(private, "")
    canonical = json.dumps(
        {"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]}, separators=(",", ":"), sort_keys=True
    )
    return _b64url(hashlib.sha256(canonical.encode()).digest())


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: Ed25519PrivateKey


class KeyStore:
    """The key folder. Key ids sort by creation time, so the last one is the newest."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache: tuple[tuple[str, ...], dict[str, SigningKey]] | None = None

    def _names(self) -> tuple[str, ...]:
        if not self.directory.is_dir():
            return ()
        return tuple(sorted(p.name for p in self.directory.glob("*.pem")))

    def _load(self) -> dict[str, SigningKey]:
        names = self._names()
        if self._cache is not None and self._cache[0] == names:
            return self._cache[1]
        keys: dict[str, SigningKey] = {}
        for name in names:
            data = (self.directory / name).read_bytes()
            private = serialization.load_pem_private_key(data, password=None)
            if isinstance(private, Ed25519PrivateKey):
                keys[name.removesuffix(".pem")] = SigningKey(name.removesuffix(".pem"), private)
        self._cache = (names, keys)
        return keys

    def all(self) -> list[SigningKey]:
        """Every key, oldest first."""
        keys = self._load()
        return [keys[kid] for kid in sorted(keys)]

    def get(self, kid: str) -> SigningKey | None:
        return self._load().get(kid)

    def newest(self) -> SigningKey:
        """The key that signs new credentials, generated on first use."""
        keys = self.all()
        if keys:
            return keys[-1]
        with self._lock():
            keys = self.all()  # another process may have made one while we waited
            return keys[-1] if keys else self._generate()

    def rotate(self) -> SigningKey:
        """Add a new key; from now on it signs. Older keys stay published."""
        with self._lock():
            return self._generate()

    def jwks(self) -> dict[str, Any]:
        """The public keys, as published at ``/.well-known/jwks.json``."""
        self.newest()
        return {"keys": [public_jwk(k.private, k.kid) for k in self.all()]}

    def _lock(self) -> Any:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        return _FileLock(self.directory / ".lock")

    def _generate(self) -> SigningKey:
        private = Ed25519PrivateKey.generate()
        # Time first so that names sort by age; the thumbprint makes ids unique.
        kid = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{thumbprint(private)[:16]}"
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(self.directory / f"{kid}.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        self._cache = None
        return SigningKey(kid, private)


class _FileLock:
    """An exclusive lock between processes (gunicorn workers, the CLI)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = -1

    def __enter__(self) -> _FileLock:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *_exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
