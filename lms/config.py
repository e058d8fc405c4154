"""Settings: safe defaults, then ``LMS_*`` environment variables, then test overrides."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Config, Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_instance_path() -> Path:
    """Where the database, the secret key and the broker's files live by default."""
    return Path(os.environ.get("LMS_INSTANCE_PATH") or PROJECT_ROOT / "instance").resolve()


def defaults(instance: Path) -> dict[str, Any]:
    """Every setting the platform reads, with a value that is safe on one machine."""
    return {
        "DATABASE_URL": f"sqlite:///{instance / 'oqu.db'}",
        "DATABASE_ECHO": False,
        "BROKER_URL": f"filesystem://{instance / 'broker'}",
        "BROKER_POLL_INTERVAL": 0.02,
        "GRADING_SWEEP_SECONDS": 30,  # how often the worker re-sends stuck submissions
        "GRADING_STUCK_SECONDS": 180,  # queued/running longer than this counts as stuck
        "GRADING_MAX_DELIVERIES": 8,  # crashes of one submission before it is marked failed
        "GRADING_QUEUE": "grading",  # the broker queue of grading tasks
        # The workspace's Runs: their own queue and worker (lms/workspace/tasks.py).
        "RUN_QUEUE": "runs",
        # Runs waiting beyond this: 429 "busy, try again". Small: a Run that waits behind
        # more than a few others would miss its 2 s anyway; better said at once.
        "RUN_QUEUE_MAX": 4,
        "RUN_STALE_SECONDS": 120,  # a Run queued or running longer was lost with its worker
        "RUN_POOL_SIZE": 3,  # pre-started kernels in the runs worker
        # Modules every grading and Run kernel imports before learner code (one setting for
        # both, so a Run's kernel is prepared as the scoring run's).
        "GRADER_PRELOAD": (
            "numpy,pandas,sklearn,sklearn.datasets,sklearn.model_selection,sklearn.linear_model,"
            "sklearn.preprocessing,sklearn.pipeline,sklearn.metrics"
        ),
        "BASE_URL": "http://127.0.0.1:8000",
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host headers
        # are trusted: rate limits then count the visitor's address, not the proxy's.
        "PROXY_HOPS": 0,
        "DEFAULT_LOCALE": "kk",
        "CONSENT_VERSION": "2026-01",
        "IIN_HASH_KEY": "",  # empty: derived from SECRET_KEY; set it before real IINs arrive
        "MAX_UPLOAD_BYTES": 2 * 1024 * 1024,
        "STUDIO_ZIP_MAX_FILES": 2000,  # entries in an uploaded course package zip
        "STUDIO_ZIP_MAX_UNPACKED_BYTES": 200 * 1024 * 1024,  # a zip bomb stops here
        # Rate limits (Flask-Limiter syntax); storage in memory unless Redis is named.
        "RATELIMIT_STORAGE_URI": "memory://",
        # When Redis is named and down, count in this process's memory rather than fail
        # the request: a Redis outage never turns a login into a 500.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_LOGIN": "10 per minute",
        "RATELIMIT_REGISTER": "5 per minute",
        "RATELIMIT_PASSWORD_RESET": "5 per hour",
        "RATELIMIT_PROFILE": "30 per hour",
        "RATELIMIT_CO_INSTRUCTOR": "20 per hour",  # the studio's co-instructor form
        "RATELIMIT_SUBMIT": "20 per minute",
        "RATELIMIT_VERIFY": "60 per minute",
        "RATELIMIT_API": "120 per minute",
        "RATELIMIT_RUN": "60 per minute",  # per learner
        "RATELIMIT_DRAFT": "240 per minute",  # autosaves per learner
        "RATELIMIT_OPEN_DATA": "60 per minute",  # the public open-data files, per address
        "OPEN_DATA_LICENSE": "CC-BY-4.0",  # SPDX id of the published statistics' licence
        "CREDENTIAL_KEYS_DIR": "",  # empty: <instance>/credential_keys (Ed25519 PEMs)
        # Operations (docs/operations.md): logs, metrics, backups.
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "json",  # JSON lines; "text" for a developer's terminal
        "ACCESS_LOG": True,  # one log line per request, with its request id
        "METRICS_ENABLED": True,
        "METRICS_TOKEN": "",  # empty: /metrics answers the loopback address only
        "METRICS_DIR": str(instance / "metrics"),  # each server's multiprocess counters
        "WORKER_METRICS_PORT": 0,  # a Celery worker serves its metrics here; 0: not at all
        "WORKER_METRICS_HOST": "127.0.0.1",
        "BACKUP_KEY": "",  # encrypts backup archives; `flask backup new-key` makes one
        # Single sign-on: a JSON list of OpenID providers, each {"name", "issuer",
        # "client_id", "client_secret", "label" (a text, or texts by language), optional
        # "iin_claim"}; the callback to register there is <BASE_URL>/login/oidc/<name>/callback.
        "OIDC_PROVIDERS": "[]",
        # Mail: with no host, messages are written to the log.
        "MAIL_HOST": "",
        "MAIL_PORT": 587,
        "MAIL_USERNAME": "",
        "MAIL_PASSWORD": "",
        "MAIL_USE_TLS": True,
        "MAIL_SENDER": "Oqu <no-reply@oqu.local>",
        # Sessions (lms/accounts/login.py): signed out after this long without a request,
        # and after this long in any case.
        "SESSION_IDLE_MINUTES": 120,
        "SESSION_MAX_DAYS": 14,
        # /healthz tells details (schema revision, errors) to the loopback address, or to
        # whoever sends this token as a bearer token; everyone else reads only ok/not ok.
        "HEALTHZ_TOKEN": "",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
    }


def environment_settings() -> Config:
    """Defaults and ``LMS_*`` variables without an app (for gunicorn's config hooks)."""
    settings = Config(str(PROJECT_ROOT))
    settings.update(defaults(default_instance_path()))
    settings.from_prefixed_env("LMS")
    return settings


def secret_from_file(path: Path) -> str:
    """Read the secret key from ``path``, generating it there (mode 0600) on first use."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def load(app: Flask, overrides: dict[str, Any] | None = None) -> None:
    """Fill ``app.config``: defaults, then ``LMS_*`` variables, then ``overrides``."""
    instance = Path(app.instance_path)
    app.config.update(defaults(instance))
    app.config.from_prefixed_env("LMS")
    if overrides:
        app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_from_file(instance / "secret_key")
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_UPLOAD_BYTES"]) + 64 * 1024
    # The session cookie lives as long as a session may; the server ends it sooner.
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(days=int(app.config["SESSION_MAX_DAYS"]))
    if str(app.config["BASE_URL"]).startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
