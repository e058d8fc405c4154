"""Issue 11 item 7: HSTS, no-store, SQLite's secure_delete, what /healthz tells whom, and
no 500 from an oversized upload anywhere."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import text
from werkzeug.routing.converters import NumberConverter

from lms import create_app
from lms.db import db
from tests.conftest import test_settings

OUTSIDE = {"REMOTE_ADDR": "203.0.113.5"}


def test_hsts_only_under_https(app_settings, request) -> None:
    app_settings["BASE_URL"] = "https://oqu.example.kz"
    app = request.getfixturevalue("app")
    response = app.test_client().get("/", base_url="https://oqu.example.kz")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert int(response.headers["Strict-Transport-Security"].split("=")[1]) >= 180 * 86400


def test_no_hsts_over_plain_http(client) -> None:
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_sqlite_overwrites_deleted_rows(app) -> None:
    if db.engine(app).dialect.name != "sqlite":
        pytest.skip("a SQLite setting")
    with db.engine(app).connect() as conn:
        assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1


def test_healthz_tells_the_public_only_ok(client) -> None:
    public = client.get("/healthz", environ_base=OUTSIDE)
    assert public.status_code == 200 and public.get_json() == {"status": "ok"}
    local = client.get("/healthz")  # the test client comes from 127.0.0.1
    assert local.get_json()["database"]["detail"] == "ok" and "broker" in local.get_json()


def test_healthz_details_with_the_token(app_settings, request) -> None:
    app_settings["HEALTHZ_TOKEN"] = "s3cret-token-for-probes"
    client = request.getfixturevalue("app").test_client()
    wrong = client.get(
        "/healthz", environ_base=OUTSIDE, headers={"Authorization": "Bearer nope"}
    ).get_json()
    assert wrong == {"status": "ok"}
    right = client.get(
        "/healthz",
        environ_base=OUTSIDE,
        headers={"Authorization": "Bearer s3cret-token-for-probes"},
    ).get_json()
    assert right["database"]["ok"] is True


@pytest.mark.parametrize(("forwarded", "details"), [("203.0.113.5", False), ("127.0.0.1", True)])
def test_healthz_behind_a_proxy_judges_the_visitors_address(
    app_settings, request, forwarded, details
) -> None:
    app_settings["PROXY_HOPS"] = 1
    client = request.getfixturevalue("app").test_client()
    body = client.get("/healthz", headers={"X-Forwarded-For": forwarded}).get_json()
    assert ("database" in body) is details


def test_a_failing_healthz_names_no_exception_to_the_public(tmp_path, instance_dir) -> None:
    missing = tmp_path / "no-such-dir" / "db.sqlite"
    app = create_app(test_settings(f"sqlite:///{missing}", instance_dir))
    response = app.test_client().get("/healthz", environ_base=OUTSIDE)
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable"}


def _too_large(app) -> dict[str, object]:
    size = int(app.config["MAX_CONTENT_LENGTH"]) + 1024 * 1024
    return {"notebook": (io.BytesIO(b"x" * size), "big.ipynb"), "file": "x"}


def test_an_oversized_upload_to_an_unknown_assignment_is_413(app, client, make_user, login):
    login(make_user())
    response = client.post(
        "/courses/no-such-course/assignments/no-such-item",
        data=_too_large(app),
        content_type="multipart/form-data",
    )
    assert response.status_code == 413


def test_no_url_answers_an_oversized_upload_with_a_500(app, client, make_user, login) -> None:
    login(make_user(roles=["admin", "instructor", "analyst"]))
    seen = 0
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or ()) or rule.endpoint == "accounts.logout":
            continue
        values = {
            name: 999_999 if isinstance(rule._converters[name], NumberConverter) else "nope"
            for name in rule.arguments
        }
        path = app.url_map.bind("localhost").build(rule.endpoint, values, method="POST")
        response = client.post(path, data=_too_large(app), content_type="multipart/form-data")
        assert response.status_code != 500, path
        seen += 1
    assert seen > 20


def test_a_redis_outage_never_turns_a_login_into_a_500(app_settings, request, make_user) -> None:
    # Nothing listens on port 1: the limiter falls back to counting in this process.
    app_settings.update(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0",
        RATELIMIT_LOGIN="2 per day",
    )
    client = request.getfixturevalue("app").test_client()
    user = make_user()
    statuses = [
        client.post("/login", data={"email": user.email, "password": "wrong one!"}).status_code
        for _ in range(3)
    ]
    assert statuses == [400, 400, 429], "the in-memory fallback still limits"
