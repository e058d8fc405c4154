"""A database that refuses connections: one clear line, never a traceback, and a 503."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from lms import create_app
from tests.monitoring.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def _nowhere() -> str:
    return f"postgresql+psycopg://oqu:hunter2@127.0.0.1:{free_port()}/oqu"


def test_db_upgrade_says_in_one_line_which_database_refused(tmp_path):
    url = _nowhere()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update(LMS_DATABASE_URL=url, LMS_INSTANCE_PATH=str(tmp_path), LMS_LOG_FORMAT="text")
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1
    assert "Connection refused" in errors[0] and url.rsplit("@", 1)[1] in errors[0]
    assert "hunter2" not in done.stderr + done.stdout


def test_pages_answer_503_and_log_one_line_while_the_database_is_down(tmp_path, caplog):
    app = create_app({"TESTING": True, "DATABASE_URL": _nowhere(), "SECRET_KEY": "x"})
    client = app.test_client()
    caplog.set_level(logging.ERROR)
    page = client.get("/courses", headers={"Accept-Language": "en"})
    assert page.status_code == 503
    assert "Something went wrong on our side" in page.get_data(as_text=True)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is None
    assert "Connection refused" in errors[0].getMessage()
    assert "hunter2" not in errors[0].getMessage()
    assert client.get("/healthz").status_code == 503


def test_a_signed_in_learner_also_gets_the_503_page_and_is_told_when_to_retry(tmp_path, caplog):
    """The user loader is the first to reach the database; the error page must not try
    again (that second failure was a 500 while PostgreSQL restarted under load)."""
    app = create_app({"TESTING": True, "DATABASE_URL": _nowhere(), "SECRET_KEY": "x"})
    client = app.test_client()
    from lms.accounts.login import TOKEN_KEY

    with client.session_transaction() as cookie:
        cookie.update(_user_id="1", _fresh=True, **{TOKEN_KEY: "a-session-token"})
    caplog.set_level(logging.ERROR)
    page = client.get("/dashboard", headers={"Accept-Language": "en", "User-Agent": "phone"})
    assert page.status_code == 503
    assert "Something went wrong on our side" in page.get_data(as_text=True)
    assert page.headers["Retry-After"] == "30"
