"""A site to back up: a committed database (SQLite, or PostgreSQL with
LMS_TEST_DATABASE_URL) beside an instance folder holding the secret key and signing keys."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from lms import create_app, migrate
from lms.accounts.models import Person, User
from lms.db import db
from lms.learning.services import record_item_result
from tests import conftest as base
from tests.assignments.conftest import broker_url, enrol

KEY = "drill-backup-key-0123456789abcdef"


@dataclass
class Site:
    url: str
    instance: Path
    broker: str
    queue: str
    folder: Path

    def app(self, **more: Any) -> Flask:
        """An app on this site, reading its secret key from the instance (as in production)."""
        more = {"BROKER_URL": self.broker, "GRADING_QUEUE": self.queue, "BACKUP_KEY": KEY, **more}
        settings = base.test_settings(self.url, self.instance, **more)
        settings.pop("SECRET_KEY")
        return create_app(settings)

    def wipe(self, *apps: Flask) -> None:
        """Lose everything: the instance folder and the database."""
        for app in apps:
            db.engine(app).dispose()
        shutil.rmtree(self.instance)
        server = os.environ.get("LMS_TEST_DATABASE_URL")
        if server:
            base._postgres_database(server, str(make_url(self.url).database))
        else:
            path = Path(str(make_url(self.url).database))
            for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                name.unlink(missing_ok=True)


@pytest.fixture
def site(tmp_path: Path, worker_id: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    server = os.environ.get("LMS_TEST_DATABASE_URL")
    name = f"oqu_backup_{worker_id}_{uuid.uuid4().hex[:8]}"
    (tmp_path / "db").mkdir()
    url = (
        base._postgres_database(server, name)
        if server
        else f"sqlite:///{tmp_path / 'db' / 'site.db'}"
    )
    migrate.upgrade(url)
    instance = tmp_path / "instance"
    instance.mkdir()
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(instance))
    for variable in ("LMS_SECRET_KEY", "LMS_IIN_HASH_KEY", "LMS_XAPI_KEY", "LMS_BACKUP_KEY"):
        monkeypatch.delenv(variable, raising=False)
    try:
        yield Site(url, instance, broker_url(tmp_path / "broker"), f"grading-{name}", tmp_path)
    finally:
        if server:
            base._drop_postgres_database(server, name)


def learner_who_completed(app: Flask, course: Any, item: Any, n: int) -> User:
    """A learner who passed the course's one required item: a completion and a certificate."""
    session = db.session()
    person = Person()
    session.add(person)
    session.flush()
    user = User(
        email=f"drill-{n}-{uuid.uuid4().hex[:6]}@example.kz",
        full_name=f"Drill Learner {n}",
        region="KZ-75",
        sector="J",
        birth_year=1990 + n,
        sex="female" if n % 2 else "male",
        locale="kk",
        consent_version="2026-01",
        consented_at=datetime.now(UTC),
        person_key=person.key,
        password_hash=base.password_hash(base.PASSWORD),
    )
    session.add(user)
    session.flush()
    enrollment = enrol(session, user, course)
    record_item_result(
        session,
        enrollment=enrollment,
        item=item,
        score=Decimal(3),
        max_score=Decimal(3),
        passed=True,
    )
    session.commit()
    return user
