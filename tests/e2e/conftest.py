"""A live Oqu server on a committed database of its own, and a real Chromium driving it."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from lms import create_app
from tests.conftest import migrated_database, test_settings

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def live_database(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[str]:
    with migrated_database(tmp_path_factory.mktemp("e2e"), f"e2e_{worker_id}") as url:
        yield url


@pytest.fixture(scope="module")
def live_app(live_database: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    instance = tmp_path_factory.mktemp("e2e-instance")
    app = create_app(test_settings(live_database, instance, WTF_CSRF_ENABLED=True,
                                   TESTING=False))
    with app.app_context():
        result = app.test_cli_runner().invoke(
            args=["courses", "import", str(ROOT / "courses")])
    assert result.exit_code == 0, result.output
    return app


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
        pytest.skip("no Chromium at /usr/bin/chromium: browser tests skipped "
                    "(apt-get install chromium chromium-driver)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--no-first-run", "--disable-sync"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="kk-KZ", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
