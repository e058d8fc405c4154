"""Fixtures of the certificates tests: a course, a completed course with its certificate."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from lms.accounts.models import User
from lms.certificates import services
from lms.certificates.models import Certificate
from lms.courses.models import Course, Tier
from lms.stats import services as stats

BASE_URL = "https://oqu.example.kz"


def b64(data: bytes) -> str:
    """Base64url without padding, as JWTs write their parts."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


KAZAKH_LETTERS = "әғқңөұүһі"
COMPLETED_AT = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)  # 14 March 2026 in Almaty too


@pytest.fixture
def app_settings(app_settings: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    app_settings["BASE_URL"] = BASE_URL
    app_settings["CREDENTIAL_KEYS_DIR"] = str(tmp_path / "credential_keys")
    return app_settings


@pytest.fixture
def make_course(session: Session) -> Callable[..., Course]:
    def make(**fields: Any) -> Course:
        values: dict[str, Any] = {
            "slug": f"ai-basics-{uuid.uuid4().hex[:8]}",
            "tier": Tier.PUBLIC,
            "languages": ["kk", "ru", "en"],
            "sectors": [],
            "title": {
                "kk": "Жасанды интеллект негіздері: әғқңөұүһі ӘҒҚҢӨҰҮҺІ",
                "ru": "Основы искусственного интеллекта",
                "en": "Foundations of artificial intelligence",
            },
            "summary": {"en": "An introduction."},
            "published": True,
        }
        values.update(fields)
        course = Course(**values)
        session.add(course)
        session.flush()
        return course

    return make


@pytest.fixture
def complete(session: Session, make_course: Callable[..., Course]) -> Callable[..., Certificate]:
    """Record that ``user`` completed a course (new unless given) and issue its certificate."""

    def do(
        user: User,
        *,
        course: Course | None = None,
        language: str = "kk",
        at: datetime = COMPLETED_AT,
    ) -> Certificate:
        course = course or make_course()
        fact = stats.record_completion(session, user=user, course=course, language=language, at=at)
        return services.issue(session, completion=fact)

    return do
