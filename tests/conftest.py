"""Shared fixtures: a migrated database, each test inside a rolled-back savepoint.

``LMS_TEST_DATABASE_URL`` runs the suite on PostgreSQL (each xdist worker gets a database
of its own, created here); otherwise each worker uses a SQLite file in a temporary folder.
Tests that need another process to see their data (a real worker, a live server for the
browser) ask ``fresh_database`` for a committed database of their own.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from lms import create_app, migrate
from lms import models as _all_models  # noqa: F401 - every feature and its event subscribers
from lms.accounts import services as accounts_services
from lms.accounts.models import Person, Role, User, UserRole
from lms.db import db, make_engine

PASSWORD = "correct horse battery staple"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


def _postgres_database(base_url: str, name: str) -> str:
    """Create (or re-create) database ``name`` on the server of ``base_url``."""
    url = make_url(base_url)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(base_url: str, name: str) -> None:
    admin = create_engine(make_url(base_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[str]:
    base = os.environ.get("LMS_TEST_DATABASE_URL")
    if base:
        name = f"oqu_test_{worker_id}_{os.getpid()}"
        url = _postgres_database(base, name)
        yield url
        _drop_postgres_database(base, name)
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    s = Session(connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield s
    s.close()


@pytest.fixture(scope="session")
def instance_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("instance")


def test_settings(database_url: str, instance_dir: Path, **more: Any) -> dict[str, Any]:
    settings = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "BROKER_URL": f"filesystem://{instance_dir / 'broker'}",
        "INSTANCE_DIR": str(instance_dir),
        "GRADER_SANDBOX": "off",
    }
    settings.update(more)
    return settings


@pytest.fixture
def app_settings(database_url: str, instance_dir: Path) -> dict[str, Any]:
    """Overrides for ``create_app``; a test may change them before asking for ``app``."""
    return test_settings(database_url, instance_dir)


@pytest.fixture
def app(app_settings: dict[str, Any], session: Session) -> Iterator[Flask]:
    application = create_app(app_settings)
    db.use_session(application, session)
    # The test keeps one app context open, which Flask reuses for every request; a real
    # server starts each request with an empty ``g`` (Flask-Login and Flask-Babel cache there).
    application.before_request_funcs.setdefault(None, []).insert(0, _empty_g)
    with application.app_context():
        yield application


def _empty_g() -> None:
    from flask import g

    for name in list(vars(g)):
        delattr(g, name)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


_hash_cache: dict[str, str] = {}
_counter = itertools.count(1)


# A cheap password hash for the suite's own run only (scrypt costs 0.1 s a check);
# tests/accounts/test_password_hash.py proves the platform itself uses scrypt.
# LMS_TEST_SCRYPT=1 keeps the production hash, uncached: the suite as it was, to measure
# what the cheap one saves (CONTRIBUTING.md, "Habits").
REAL_HASH = os.environ.get("LMS_TEST_SCRYPT") == "1"
TEST_HASH_METHOD = accounts_services.HASH_METHOD if REAL_HASH else "pbkdf2:sha256:1"
accounts_services.HASH_METHOD = TEST_HASH_METHOD


def password_hash(password: str) -> str:
    if REAL_HASH:
        return generate_password_hash(password, TEST_HASH_METHOD)
    if password not in _hash_cache:
        _hash_cache[password] = generate_password_hash(password, TEST_HASH_METHOD)
    return _hash_cache[password]


@pytest.fixture
def make_user(session: Session) -> Callable[..., User]:
    """Create an account: ``make_user(roles=["instructor"], region="KZ-75", ...)``."""

    def make(
        *, roles: tuple[str, ...] | list[str] = (), password: str = PASSWORD, **fields: Any
    ) -> User:
        n = next(_counter)
        person = Person(iin_hash=fields.pop("iin_hash", None))
        session.add(person)
        session.flush()
        values: dict[str, Any] = {
            "email": f"user{n}-{uuid.uuid4().hex[:6]}@example.kz",
            "full_name": f"Test User {n}",
            "region": "KZ-75",
            "sector": "J",
            "birth_year": 1990,
            "sex": "female",
            "locale": "en",
            "consent_version": "2026-01",
            "consented_at": datetime.now(UTC),
            "password_hash": password_hash(password),
        }
        values.update(fields)
        user = User(person_key=person.key, **values)
        session.add(user)
        session.flush()
        for role in roles:
            session.add(UserRole(user_id=user.id, role=Role(role)))
        session.flush()
        session.refresh(user)
        return user

    return make


@pytest.fixture
def login(client: FlaskClient) -> Callable[..., FlaskClient]:
    """Log ``user`` in through the real login form; returns the client."""

    def do(user: User, password: str = PASSWORD) -> FlaskClient:
        response = client.post("/login", data={"email": user.email, "password": password})
        assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
        return client

    return do


@contextmanager
def migrated_database(folder: Path, label: str) -> Iterator[str]:
    """A migrated database of its own (PostgreSQL when configured, else SQLite in ``folder``),
    committed for real, removed afterwards."""
    base = os.environ.get("LMS_TEST_DATABASE_URL")
    if base:
        name = f"oqu_{label}_{uuid.uuid4().hex[:8]}"
        url = _postgres_database(base, name)
        migrate.upgrade(url)
        yield url
        _drop_postgres_database(base, name)
    else:
        url = f"sqlite:///{folder / 'live.db'}"
        migrate.upgrade(url)
        yield url


@pytest.fixture
def fresh_database(tmp_path: Path, worker_id: str) -> Iterator[str]:
    """A migrated database of its own, committed for real, removed afterwards."""
    with migrated_database(tmp_path, f"live_{worker_id}") as url:
        yield url


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the checkout; tests that need it skip where it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared is absent")
    return SHARED
