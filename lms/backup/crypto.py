"""The archive's encryption: libsodium's secretstream (XChaCha20-Poly1305) through PyNaCl,
under a key derived from ``LMS_BACKUP_KEY`` with Argon2id.

File layout: the magic ``OQU-BACKUP`` and a format byte, the Argon2id salt and limits, the
secretstream header, then records of (4-byte big-endian length, ciphertext) of at most 1
MiB of plain text each. The last record carries the FINAL tag: a file cut short, a record
changed, dropped or reordered, or a wrong key is refused, never read as a shorter archive.
The first record authenticates the preamble too, so its limits cannot be swapped.
"""

from __future__ import annotations

import io
import os
import struct
from typing import BinaryIO

from nacl import bindings as sodium
from nacl.exceptions import CryptoError
from nacl.pwhash import argon2id

MAGIC = b"OQU-BACKUP\x00\x01"
CHUNK = 1024 * 1024
MIN_KEY_CHARS = 16
# Argon2id at libsodium's "interactive" limits (64 MiB): the key from `backup new-key` is
# already 256 random bits; the cost only slows guessing a weak passphrase.
OPSLIMIT = argon2id.OPSLIMIT_INTERACTIVE
MEMLIMIT = argon2id.MEMLIMIT_INTERACTIVE
_LIMITS = struct.Struct(">IQ")
_LENGTH = struct.Struct(">I")
_TAG_MESSAGE = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
_TAG_FINAL = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
_ABYTES = sodium.crypto_secretstream_xchacha20poly1305_ABYTES
_HEADERBYTES = sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES


class BadKey(ValueError):
    """``LMS_BACKUP_KEY`` is missing or too short."""


class Undecryptable(ValueError):
    """Not an Oqu backup, the wrong key, or a damaged or truncated file."""


def new_key() -> str:
    """A fresh random key for ``LMS_BACKUP_KEY`` (256 bits, URL-safe base64)."""
    import base64

    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def check_key(passphrase: str) -> bytes:
    if len(passphrase or "") < MIN_KEY_CHARS:
        raise BadKey(
            f"LMS_BACKUP_KEY must be set, at least {MIN_KEY_CHARS} characters "
            "(`flask --app wsgi backup new-key` prints a good one)"
        )
    return passphrase.encode()


def _derive(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    return argon2id.kdf(
        sodium.crypto_secretstream_xchacha20poly1305_KEYBYTES,
        check_key(passphrase),
        salt,
        opslimit=opslimit,
        memlimit=memlimit,
    )


class EncryptingWriter(io.RawIOBase):
    """A write-only stream that encrypts what it is given into ``sink``; ``close`` seals it."""

    def __init__(self, sink: BinaryIO, passphrase: str) -> None:
        super().__init__()
        salt = os.urandom(argon2id.SALTBYTES)
        key = _derive(passphrase, salt, OPSLIMIT, MEMLIMIT)
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        header = sodium.crypto_secretstream_xchacha20poly1305_init_push(self._state, key)
        self._preamble: bytes | None = MAGIC + salt + _LIMITS.pack(OPSLIMIT, MEMLIMIT)
        sink.write(self._preamble + header)
        self._sink = sink
        self._buffer = bytearray()
        self.written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self._buffer += data
        while len(self._buffer) > CHUNK:
            self._record(bytes(self._buffer[:CHUNK]), _TAG_MESSAGE)
            del self._buffer[:CHUNK]
        return len(data)

    def _record(self, plain: bytes, tag: int) -> None:
        ad, self._preamble = self._preamble, None
        cipher = sodium.crypto_secretstream_xchacha20poly1305_push(self._state, plain, ad, tag)
        self._sink.write(_LENGTH.pack(len(cipher)) + cipher)
        self.written += len(plain)

    def close(self) -> None:
        # Sealed only while the file is open: an archive abandoned half-way stays unsealed.
        if not self.closed and not self._sink.closed:
            self._record(bytes(self._buffer), _TAG_FINAL)
            self._buffer.clear()
            self._sink.flush()
        super().close()


class DecryptingReader(io.RawIOBase):
    """A read-only stream of the plain text of an archive written by ``EncryptingWriter``."""

    def __init__(self, source: BinaryIO, passphrase: str) -> None:
        super().__init__()
        preamble = source.read(len(MAGIC) + argon2id.SALTBYTES + _LIMITS.size)
        if not preamble.startswith(MAGIC) or len(preamble) < len(MAGIC) + _LIMITS.size:
            raise Undecryptable("not an Oqu backup archive (or a newer format)")
        salt = preamble[len(MAGIC) : len(MAGIC) + argon2id.SALTBYTES]
        opslimit, memlimit = _LIMITS.unpack(preamble[-_LIMITS.size :])
        if opslimit > argon2id.OPSLIMIT_SENSITIVE or memlimit > argon2id.MEMLIMIT_SENSITIVE:
            raise Undecryptable("the archive asks for an unreasonable key derivation")
        key = _derive(passphrase, salt, opslimit, memlimit)
        header = source.read(_HEADERBYTES)
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        try:
            sodium.crypto_secretstream_xchacha20poly1305_init_pull(self._state, header, key)
        except (CryptoError, ValueError) as error:
            raise Undecryptable("the archive's header is damaged") from error
        self._preamble: bytes | None = preamble
        self._source = source
        self._buffer = bytearray()
        self._final = False

    def readable(self) -> bool:
        return True

    def _next(self) -> None:
        raw = self._source.read(_LENGTH.size)
        if len(raw) < _LENGTH.size:
            raise Undecryptable("the archive is truncated (its end is missing)")
        (length,) = _LENGTH.unpack(raw)
        if length > CHUNK + _ABYTES:
            raise Undecryptable("the archive is damaged (a record is too long)")
        cipher = self._source.read(length)
        ad, self._preamble = self._preamble, None
        try:
            plain, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(self._state, cipher, ad)
        except (CryptoError, ValueError, RuntimeError) as error:
            raise Undecryptable(
                "wrong LMS_BACKUP_KEY, or the archive is damaged"
                if ad is not None
                else "the archive is damaged (a record does not authenticate)"
            ) from error
        self._buffer += plain
        if tag == _TAG_FINAL:
            self._final = True
            if self._source.read(1):
                raise Undecryptable("the archive is damaged (data after its end)")

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._buffer and not self._final:
            self._next()
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        del self._buffer[:n]
        return n
