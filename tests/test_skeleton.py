"""The app factory, settings, schema and health check."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from lms import create_app
from lms.models import metadata


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == [], f"models differ from migrations: {diff}"


def test_settings_come_from_lms_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("LMS_BASE_URL", "https://oqu.example.kz")
    monkeypatch.setenv("LMS_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    app = create_app()
    assert app.config["BASE_URL"] == "https://oqu.example.kz"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    key_file = tmp_path / "secret_key"
    assert key_file.exists() and app.config["SECRET_KEY"] == key_file.read_text().strip()
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    # The same key is read back on the next start, not regenerated.
    assert create_app().config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_healthz_names_database_and_broker(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["database"]["ok"] is True
    assert "broker" in body


def test_healthz_is_503_when_database_is_down(tmp_path: Path, instance_dir) -> None:
    from tests.conftest import test_settings

    missing = tmp_path / "no-such-dir" / "db.sqlite"
    app = create_app(test_settings(f"sqlite:///{missing}", instance_dir))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"]["ok"] is False


def test_healthz_is_503_on_a_database_that_was_never_migrated(tmp_path: Path, instance_dir) -> None:
    from tests.conftest import test_settings

    app = create_app(test_settings(f"sqlite:///{tmp_path / 'empty.db'}", instance_dir))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert "db upgrade" in response.get_json()["database"]["detail"]


def test_healthz_is_503_when_the_schema_is_behind_the_code(tmp_path: Path, instance_dir) -> None:
    from lms.migrate import upgrade
    from tests.conftest import test_settings

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0001")
    app = create_app(test_settings(url, instance_dir))
    detail = app.test_client().get("/healthz")
    assert detail.status_code == 503
    assert "schema at 0001" in detail.get_json()["database"]["detail"]
    upgrade(url)
    assert app.test_client().get("/healthz").status_code == 200


def test_security_headers_forbid_inline_script(client) -> None:
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_unknown_page_is_404(client) -> None:
    assert client.get("/no/such/page").status_code == 404
