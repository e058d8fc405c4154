"""A live Oqu server on a committed database of its own, and a real Chromium driving it.

The server sends grading tasks to a broker and queue of its own (Redis when
``LMS_TEST_BROKER_URL`` is set, else the filesystem broker); ``grading_worker`` starts a real
Celery worker on the same database and queue, as tests/assignments does.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from lms import create_app
from lms.accounts.models import Person, User
from lms.db import db
from tests.assignments.conftest import Worker, broker_url, start_worker, worker_env
from tests.conftest import PASSWORD, migrated_database, password_hash, test_settings

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def live_database(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[str]:
    with migrated_database(tmp_path_factory.mktemp("e2e"), f"e2e_{worker_id}") as url:
        yield url


@pytest.fixture(scope="module")
def live_app(live_database: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    instance = tmp_path_factory.mktemp("e2e-instance")
    app = create_app(
        test_settings(
            live_database,
            instance,
            WTF_CSRF_ENABLED=True,
            TESTING=False,
            BROKER_URL=broker_url(instance / "broker"),
            GRADING_QUEUE=f"grading-e2e-{uuid.uuid4().hex[:8]}",
        )
    )
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["courses", "import", str(ROOT / "courses")])
    assert result.exit_code == 0, result.output
    return app


@pytest.fixture(scope="module")
def grading_worker(
    live_app: Any, live_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Worker]:
    """A real Celery worker grading what the live server sends (sandbox as in
    tests/assignments: off unless ``LMS_TEST_GRADER_SANDBOX=on``)."""
    folder = tmp_path_factory.mktemp("e2e-worker")
    env = worker_env(
        live_database,
        str(live_app.config["BROKER_URL"]),
        folder,
        LMS_GRADING_QUEUE=str(live_app.config["GRADING_QUEUE"]),
    )
    worker = start_worker(env, folder, f"e2e-{uuid.uuid4().hex[:6]}")
    yield worker
    worker.kill()  # nothing is in flight by now; a warm shutdown would only cost seconds


@pytest.fixture(scope="module")
def make_account(live_app: Any) -> Callable[..., str]:
    """An account committed to the live database, its roles granted through the real CLI
    (``flask users grant``); returns the e-mail (the password is ``tests.conftest.PASSWORD``)."""

    def make(
        *,
        roles: tuple[str, ...] = (),
        locale: str = "en",
        name: str = "Test User",
        sector: str = "J",
    ) -> str:
        email = f"e2e-{uuid.uuid4().hex[:10]}@example.kz"
        with live_app.app_context():
            session = db.session()
            person = Person()
            session.add(person)
            session.flush()
            session.add(
                User(
                    email=email,
                    full_name=name,
                    region="KZ-75",
                    sector=sector,
                    birth_year=1990,
                    sex="female",
                    locale=locale,
                    consent_version="2026-01",
                    consented_at=datetime.now(UTC),
                    person_key=person.key,
                    password_hash=password_hash(PASSWORD),
                )
            )
            session.commit()
            for role in roles:
                result = live_app.test_cli_runner().invoke(args=["users", "grant", role, email])
                assert result.exit_code == 0, result.output
        return email

    return make


def log_in(page: Any, server: str, email: str, password: str = PASSWORD) -> None:
    """Log in through the real form and wait until the server has accepted it."""
    page.goto(f"{server}/login")
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert "/login" not in page.url, page.inner_text("main")


@pytest.fixture(scope="module")
def live_server(live_app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (os.path.exists(CHROMIUM) and shutil.which("chromium")):
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: install chromium and chromium-driver")
        pytest.skip(
            "no Chromium at /usr/bin/chromium: browser tests skipped "
            "(apt-get install chromium chromium-driver)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="kk-KZ", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
