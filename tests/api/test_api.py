"""The ministry API: bearer tokens, 401/403, OpenAPI-valid responses, xAPI statements."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime

import jsonschema
import pytest
from sqlalchemy import select

from lms.accounts.models import UserRole
from lms.api import services
from lms.api.models import ApiToken
from lms.api.openapi import document
from lms.courses.models import Course, Tier
from lms.stats import services as stats

SPEC = document("http://127.0.0.1:8000")


def check(response, path: str, status: int | None = None) -> None:
    """Validate a JSON response against the OpenAPI document's schema for it."""
    status = status or response.status_code
    operation = SPEC["paths"][path]["get"]
    content = operation["responses"][str(status)]["content"]["application/json"]
    schema = {**content["schema"], "components": SPEC["components"]}
    jsonschema.validate(json.loads(response.data), schema)


@pytest.fixture
def analyst(session, make_user):
    return make_user(roles=["analyst"])


@pytest.fixture
def token(session, analyst):
    return services.create_token(session, user=analyst).secret


@pytest.fixture
def facts(session, make_user):
    course = Course(slug="ai-basics", tier=Tier.SPECIALIST, languages=["kk", "ru", "en"],
                    sectors=[], title={"en": "AI basics", "ru": "Основы ИИ", "kk": "ЖИ негіздері"},
                    summary={"en": "x"}, published=True)
    session.add(course)
    session.flush()
    users = [make_user(full_name="Дәурен Ахметов", birth_year=1979) for _ in range(3)]
    return [stats.record_completion(session, user=u, course=course, language="ru",
                                    at=datetime(2026, 2, 1, 9, tzinfo=UTC)) for u in users]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_progress(client, token, facts):
    response = client.get("/api/v1/stats/progress", headers=auth(token))
    assert response.status_code == 200
    check(response, "/stats/progress")
    body = response.json
    assert body["trained"] == {**body["trained"], "target": 5000000, "reached": 3}
    assert body["specialists"]["target"] == 500000 and body["specialists"]["reached"] == 3


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc", "Bearer "])
def test_missing_or_wrong_token_is_401(client, facts, header):
    response = client.get("/api/v1/stats/progress",
                          headers={"Authorization": header} if header else {})
    assert response.status_code == 401 and response.json["error"]
    check(response, "/stats/progress")


def test_revoked_token_is_401(client, session, analyst, token):
    services.revoke_tokens_of(session, user=analyst)
    response = client.get("/api/v1/stats/progress", headers=auth(token))
    assert response.status_code == 401
    check(response, "/stats/progress")


def test_token_of_an_account_no_longer_analyst_is_403(client, session, analyst, token):
    for row in session.scalars(select(UserRole).where(UserRole.user_id == analyst.id)):
        session.delete(row)
    session.flush()
    session.expire(analyst)
    response = client.get("/api/v1/stats/progress", headers=auth(token))
    assert response.status_code == 403
    check(response, "/stats/progress")


def test_session_cookie_is_not_accepted(client, make_user, login):
    login(make_user(roles=["admin"]))
    response = client.get("/api/v1/stats/progress")
    assert response.status_code == 401


def test_tokens_are_stored_only_as_hashes(session, analyst, token):
    row = session.scalar(select(ApiToken).where(ApiToken.user_id == analyst.id))
    assert token not in (row.token_hash, row.prefix) and len(row.token_hash) == 64
    assert row.token_hash == services.token_hash(token) and token.startswith(row.prefix)
    assert len(row.prefix) < len(token) // 4


@pytest.mark.parametrize("dimension", ["region", "tier", "sector", "sex", "age_band", "course",
                                       "language"])
def test_breakdowns(client, token, facts, dimension):
    response = client.get(f"/api/v1/stats/breakdowns/{dimension}?period=2026-02",
                          headers=auth(token))
    assert response.status_code == 200
    check(response, "/stats/breakdowns/{dimension}")
    assert sum(r["completions"] for r in response.json["rows"]) == 3


def test_bad_requests(client, token):
    bad = client.get("/api/v1/stats/breakdowns/region?period=2026-13", headers=auth(token))
    assert bad.status_code == 400
    check(bad, "/stats/breakdowns/{dimension}")
    missing = client.get("/api/v1/stats/breakdowns/shoe-size", headers=auth(token))
    assert missing.status_code == 404
    check(missing, "/stats/breakdowns/{dimension}")


def test_exports(client, token, facts):
    response = client.get("/api/v1/stats/exports/region.json?period=2026-Q1", headers=auth(token))
    assert response.status_code == 200
    check(response, "/stats/exports/{dimension}.{format}")
    csv = client.get("/api/v1/stats/exports/sex.csv?period=2026", headers=auth(token))
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "<10" in csv.get_data(as_text=True)
    xlsx = client.get("/api/v1/stats/exports/sex.xlsx?period=2026", headers=auth(token))
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


XAPI_SCHEMA = {
    "type": "object",
    "required": ["id", "actor", "verb", "object", "timestamp", "version"],
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-"
                                            "[89ab][0-9a-f]{3}-[0-9a-f]{12}$"},
        "version": {"const": "1.0.3"},
        "actor": {"type": "object", "required": ["objectType", "account"],
                  "properties": {"objectType": {"const": "Agent"},
                                 "account": {"type": "object", "required": ["homePage", "name"],
                                             "properties": {"homePage": {"type": "string",
                                                                         "pattern": "^https?://"},
                                                            "name": {"type": "string"}},
                                             "additionalProperties": False}},
                  "not": {"anyOf": [{"required": ["mbox"]}, {"required": ["name"]},
                                    {"required": ["mbox_sha1sum"]}, {"required": ["openid"]}]}},
        "verb": {"type": "object", "required": ["id", "display"], "properties": {
            "id": {"const": "http://adlnet.gov/expapi/verbs/completed"},
            "display": {"type": "object", "minProperties": 1, "additionalProperties": {
                "type": "string"}, "propertyNames": {"pattern": "^[a-z]{2}(-[A-Z]{2})?$"}}}},
        "object": {"type": "object", "required": ["id", "objectType"], "properties": {
            "objectType": {"const": "Activity"}, "id": {"type": "string", "pattern": "^https?://"},
            "definition": {"type": "object", "properties": {"name": {
                "type": "object", "propertyNames": {"pattern": "^[a-z]{2}(-[A-Z]{2})?$"}}}}}},
        "timestamp": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"},
        "context": {"type": "object", "properties": {"extensions": {
            "type": "object", "propertyNames": {"pattern": "^https?://"}}}},
    },
}


def test_xapi_statements_are_valid_and_pseudonymous(client, token, facts):
    response = client.get("/api/v1/stats/xapi", headers=auth(token))
    assert response.status_code == 200
    check(response, "/stats/xapi")
    text = response.get_data(as_text=True)
    statements = json.loads(text)["statements"]
    assert len(statements) == 3
    for statement in statements:
        jsonschema.validate(statement, XAPI_SCHEMA)
        uuid.UUID(statement["id"])
        datetime.fromisoformat(statement["timestamp"].replace("Z", "+00:00"))
        assert statement["object"]["id"].endswith("/courses/ai-basics")
    assert len({s["actor"]["account"]["name"] for s in statements}) == 3
    for secret in ("Дәурен", "1979", "example.kz", facts[0].person_key):
        assert secret not in text
    again = client.get("/api/v1/stats/xapi", headers=auth(token)).json["statements"]
    assert [s["id"] for s in again] == [s["id"] for s in statements]


def test_xapi_pages_by_cursor_and_skips_annulled(client, session, token, facts):
    stats.annul_completion(session, completion=facts[1], reason="fraud", by_user=None)
    page = client.get("/api/v1/stats/xapi?limit=1", headers=auth(token))
    check(page, "/stats/xapi")
    first = page.json
    assert len(first["statements"]) == 1 and first["more"]
    since = re.search(r"since=(\d+)", first["more"]).group(1)
    rest = client.get(f"/api/v1/stats/xapi?since={since}&limit=5", headers=auth(token)).json
    assert len(rest["statements"]) == 1 and rest["more"] == ""


def test_xapi_refuses_learner_tokens(client, session, make_user):
    admin = make_user(roles=["admin"])
    secret = services.create_token(session, user=admin).secret
    session.execute(UserRole.__table__.delete().where(UserRole.user_id == admin.id))
    session.expire_all()
    response = client.get("/api/v1/stats/xapi", headers=auth(secret))
    assert response.status_code == 403
    check(response, "/stats/xapi")
    bad = client.get("/api/v1/stats/xapi?limit=0", headers=auth(secret))
    assert bad.status_code == 403  # the token is refused before the query is read


def test_xapi_rejects_a_bad_limit(client, token):
    response = client.get("/api/v1/stats/xapi?limit=0", headers=auth(token))
    assert response.status_code == 400
    check(response, "/stats/xapi")


def test_openapi_document_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.json["openapi"].startswith("3.")
    assert set(response.json["paths"]) >= {"/stats/progress", "/stats/xapi",
                                           "/stats/breakdowns/{dimension}",
                                           "/stats/exports/{dimension}.{format}"}


def test_rate_limit_per_token(app_settings, request, session, analyst, token):
    app_settings.update(RATELIMIT_ENABLED=True, RATELIMIT_API="2 per minute")
    client = request.getfixturevalue("client")
    responses = [client.get("/api/v1/stats/progress", headers=auth(token)) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    for response in responses:
        check(response, "/stats/progress")
    # Another token has its own allowance.
    other = services.create_token(session, user=analyst).secret
    assert client.get("/api/v1/stats/progress", headers=auth(other)).status_code == 200


def test_tokens_cli(app, session, analyst, make_user):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tokens", "create", "--email", analyst.email])
    assert result.exit_code == 0
    secret = result.stdout.strip()
    assert re.fullmatch(r"oqu_[\w-]{40,}", secret)
    assert services.authenticate(session, secret=secret).id == analyst.id
    learner = make_user()
    refused = runner.invoke(args=["tokens", "create", "--email", learner.email])
    assert refused.exit_code == 1 and "not an analyst or admin" in refused.output
    unknown = runner.invoke(args=["tokens", "create", "--email", "nobody@example.kz"])
    assert unknown.exit_code == 1
    assert runner.invoke(args=["tokens", "revoke", "--email", analyst.email]).exit_code == 0
    with pytest.raises(services.BadToken):
        services.authenticate(session, secret=secret)


def test_admin_tokens_page(client, session, make_user, login, analyst):
    login(make_user(roles=["admin"]))
    page = client.post("/admin/tokens", data={"email": analyst.email})
    assert page.status_code == 200
    secret = re.search(r'value="(oqu_[^"]+)"', page.get_data(as_text=True)).group(1)
    listing = client.get("/admin/tokens").get_data(as_text=True)
    assert secret not in listing
    assert analyst.email in listing and secret[:10] in listing
    token = session.scalar(select(ApiToken).where(ApiToken.user_id == analyst.id))
    assert client.post(f"/admin/tokens/{token.id}/revoke").status_code == 302
    with pytest.raises(services.BadToken):
        services.authenticate(session, secret=secret)


def test_admin_tokens_page_is_for_admins(client, make_user, login):
    login(make_user(roles=["analyst"]))
    assert client.get("/admin/tokens").status_code == 403
