"""What a backup refuses: a damaged, cut or tampered archive, the wrong key, a non-empty
instance, a secret set otherwise in the environment. Each refusal changes nothing."""

from __future__ import annotations

import os
import stat

import pytest

from lms.backup import database
from tests.assignments.conftest import people_of
from tests.backup.conftest import KEY


@pytest.fixture
def made(site):
    """A small site and its archive."""
    app = site.app()
    people_of(app)
    archive = site.folder / "site.oqu"
    result = app.test_cli_runner().invoke(args=["backup", "create", "-o", str(archive)])
    assert result.exit_code == 0, result.output
    return app, archive


def _record_offsets(data: bytes) -> list[int]:
    """Where each encrypted record starts (after magic, salt, limits and stream header)."""
    offset, starts = 12 + 16 + 12 + 24, []
    while offset < len(data):
        starts.append(offset)
        offset += 4 + int.from_bytes(data[offset : offset + 4], "big")
    assert offset == len(data)
    return starts


def _restore(site, archive, **settings):
    return site.app(**settings).test_cli_runner().invoke(args=["backup", "restore", str(archive)])


def test_archive_is_private_and_holds_nothing_readable(site, made):
    app, archive = made
    assert stat.S_IMODE(os.stat(archive).st_mode) == 0o600
    data = archive.read_bytes()
    assert data.startswith(b"OQU-BACKUP")
    for plain in (b"SQLite format", b"learner-", b"example.kz", app.config["SECRET_KEY"].encode()):
        assert plain not in data


def test_restore_refuses_an_instance_that_is_not_empty(site, made):
    app, archive = made
    before, _ = database.counts_of(site.url)
    result = _restore(site, archive)
    assert result.exit_code != 0 and "already has" in result.output
    assert database.counts_of(site.url)[0] == before


@pytest.mark.parametrize(
    "damage",
    ["flip a byte", "cut the end", "drop the last record", "wrong key", "not an archive"],
)
def test_damaged_archive_or_wrong_key_is_refused_and_nothing_is_restored(site, made, damage):
    app, archive = made
    data = archive.read_bytes()
    settings = {}
    if damage == "flip a byte":
        middle = len(data) // 2
        data = data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1 :]
    elif damage == "cut the end":
        data = data[: len(data) - 100]
    elif damage == "drop the last record":
        data = data[: _record_offsets(data)[-1]]  # the FINAL record: a clean cut before it
    elif damage == "wrong key":
        settings["BACKUP_KEY"] = "another-key-0123456789abcdef"
    else:
        data = b"PK\x03\x04 this is a zip" + data[:50]
    archive.write_bytes(data)
    verified = (
        site.app(**settings).test_cli_runner().invoke(args=["backup", "verify", str(archive)])
    )
    assert verified.exit_code == 1 and "NOT usable" in verified.output
    site.wipe(app)
    result = _restore(site, archive, **settings)
    assert result.exit_code != 0
    assert database.tables_in(site.url) == []
    assert not (site.instance / "credential_keys").exists()


def test_a_missing_or_short_key_is_a_clear_error(site, made):
    app, archive = made
    for key in ("", "short"):
        result = (
            site.app(BACKUP_KEY=key)
            .test_cli_runner()
            .invoke(args=["backup", "create", "-o", str(site.folder / "other.oqu")])
        )
        assert result.exit_code != 0 and "LMS_BACKUP_KEY must be set" in result.output
        assert not (site.folder / "other.oqu").exists()


def test_an_existing_output_is_never_overwritten(site, made):
    app, archive = made
    before = archive.read_bytes()
    result = app.test_cli_runner().invoke(args=["backup", "create", "-o", str(archive)])
    assert result.exit_code != 0 and "exists already" in result.output
    assert archive.read_bytes() == before


def test_a_secret_set_otherwise_in_the_environment_is_refused(site, made, monkeypatch):
    app, archive = made
    site.wipe(app)
    monkeypatch.setenv("LMS_SECRET_KEY", "another-secret-entirely")
    result = _restore(site, archive, SECRET_KEY="another-secret-entirely")
    assert result.exit_code != 0 and "LMS_SECRET_KEY is set here" in result.output
    assert database.tables_in(site.url) == []


def test_settings_only_the_environment_carried_are_handed_over_privately(site, monkeypatch):
    monkeypatch.setenv("LMS_IIN_HASH_KEY", "iin-key-of-the-old-site")
    app = site.app(IIN_HASH_KEY="iin-key-of-the-old-site")
    people_of(app)
    archive = site.folder / "site.oqu"
    assert (
        app.test_cli_runner().invoke(args=["backup", "create", "-o", str(archive)]).exit_code == 0
    )
    site.wipe(app)
    monkeypatch.delenv("LMS_IIN_HASH_KEY")
    result = _restore(site, archive)
    assert result.exit_code == 0, result.output
    handed = site.instance / "restored-settings.env"
    assert "restored-settings.env" in result.output
    assert handed.read_text() == "LMS_IIN_HASH_KEY=iin-key-of-the-old-site\n"
    assert stat.S_IMODE(os.stat(handed).st_mode) == 0o600
    assert KEY not in handed.read_text()
