"""The ministry API (bearer tokens): guessing tokens is rate-limited; a huge cursor is a 400."""

from __future__ import annotations

import uuid

import pytest

from lms.api import services


@pytest.fixture
def analyst(make_user):
    return make_user(roles=["analyst"])


@pytest.fixture
def token(session, analyst):
    return services.create_token(session, user=analyst).secret


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_guessing_tokens_is_rate_limited(app_settings, request) -> None:
    """A wrong token is limited by the address it comes from, not by a bucket of its own."""
    app_settings.update(RATELIMIT_ENABLED=True, RATELIMIT_API="2 per day")
    client = request.getfixturevalue("client")
    codes = [
        client.get(
            "/api/v1/stats/progress", headers=auth(f"oqu_guess_{uuid.uuid4().hex}")
        ).status_code
        for _ in range(5)
    ]
    assert 429 in codes, codes


def test_huge_xapi_cursor_is_a_400_not_a_crash(app_settings, request, token) -> None:
    app_settings["PROPAGATE_EXCEPTIONS"] = False
    client = request.getfixturevalue("app").test_client()
    response = client.get("/api/v1/stats/xapi?since=" + "9" * 25, headers=auth(token))
    # The 200 header is sent before the query runs: the body then breaks off mid-stream.
    body = response.get_data(as_text=True)
    assert response.status_code == 400, (response.status_code, body[:200])
