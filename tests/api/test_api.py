"""The ministry API: bearer tokens, 401/403, OpenAPI-valid responses, xAPI statements."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime

import jsonschema
import pytest
from sqlalchemy import func, select

from lms.accounts.models import User, UserRole
from lms.api import services
from lms.api.models import ApiToken
from lms.api.openapi import document
from lms.courses.models import Course, Tier
from lms.stats import services as stats
from tests.stats.conftest import merge_accounts

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
    course = Course(
        slug="ai-basics",
        tier=Tier.SPECIALIST,
        languages=["kk", "ru", "en"],
        sectors=[],
        title={"en": "AI basics", "ru": "Основы ИИ", "kk": "ЖИ негіздері"},
        summary={"en": "x"},
        published=True,
    )
    session.add(course)
    session.flush()
    users = [make_user(full_name="Дәурен Ахметов", birth_year=1979) for _ in range(3)]
    return [
        stats.record_completion(
            session, user=u, course=course, language="ru", at=datetime(2026, 2, 1, 9, tzinfo=UTC)
        )
        for u in users
    ]


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
    response = client.get(
        "/api/v1/stats/progress", headers={"Authorization": header} if header else {}
    )
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


@pytest.mark.parametrize(
    "dimension", ["region", "tier", "sector", "sex", "age_band", "course", "language"]
)
def test_breakdowns(client, token, facts, dimension):
    response = client.get(
        f"/api/v1/stats/breakdowns/{dimension}?period=2026-02", headers=auth(token)
    )
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


def test_unknown_region_is_a_400_not_zeros(client, token, facts):
    bad = client.get("/api/v1/stats/breakdowns/region?region=XX", headers=auth(token))
    assert bad.status_code == 400 and "region" in bad.json["error"]
    check(bad, "/stats/breakdowns/{dimension}")
    good = client.get("/api/v1/stats/breakdowns/sex?region=KZ-75", headers=auth(token))
    assert good.status_code == 200 and good.json["region"] == "KZ-75"
    check(good, "/stats/breakdowns/{dimension}")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/api/v1/no/such/path", 404),
        ("get", "/api/v2/stats/progress", 404),
        ("get", "/api/v1/stats/exports/region", 404),
        ("post", "/api/v1/stats/progress", 405),
        ("delete", "/api/v1/stats/xapi", 405),
    ],
)
def test_unknown_api_paths_and_methods_answer_json(client, token, method, path, status):
    response = getattr(client, method)(path, headers=auth(token))
    assert response.status_code == status and response.mimetype == "application/json"
    schema = {
        **SPEC["components"]["responses"][str(status)]["content"]["application/json"]["schema"],
        "components": SPEC["components"],
    }
    jsonschema.validate(response.json, schema)
    assert response.json["status"] == status
    if status == 405:
        assert "GET" in response.headers["Allow"]


def test_unknown_paths_elsewhere_keep_the_html_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404 and response.mimetype == "text/html"


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
        "id": {
            "type": "string",
            "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
        },
        "version": {"const": "1.0.3"},
        "actor": {
            "type": "object",
            "required": ["objectType", "account"],
            "properties": {
                "objectType": {"const": "Agent"},
                "account": {
                    "type": "object",
                    "required": ["homePage", "name"],
                    "properties": {
                        "homePage": {"type": "string", "pattern": "^https?://"},
                        "name": {"type": "string"},
                    },
                    "additionalProperties": False,
                },
            },
            "not": {
                "anyOf": [
                    {"required": ["mbox"]},
                    {"required": ["name"]},
                    {"required": ["mbox_sha1sum"]},
                    {"required": ["openid"]},
                ]
            },
        },
        "verb": {
            "type": "object",
            "required": ["id", "display"],
            "properties": {
                "id": {"const": "http://adlnet.gov/expapi/verbs/completed"},
                "display": {
                    "type": "object",
                    "minProperties": 1,
                    "additionalProperties": {"type": "string"},
                    "propertyNames": {"pattern": "^[a-z]{2}(-[A-Z]{2})?$"},
                },
            },
        },
        "object": {
            "type": "object",
            "required": ["id", "objectType"],
            "properties": {
                "objectType": {"const": "Activity"},
                "id": {"type": "string", "pattern": "^https?://"},
                "definition": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "object",
                            "propertyNames": {"pattern": "^[a-z]{2}(-[A-Z]{2})?$"},
                        }
                    },
                },
            },
        },
        "timestamp": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"},
        "context": {
            "type": "object",
            "properties": {
                "extensions": {"type": "object", "propertyNames": {"pattern": "^https?://"}}
            },
        },
    },
}


VOIDING_SCHEMA = {
    "type": "object",
    "required": ["id", "actor", "verb", "object", "timestamp", "version"],
    "properties": {
        "id": XAPI_SCHEMA["properties"]["id"],
        "version": {"const": "1.0.3"},
        "actor": XAPI_SCHEMA["properties"]["actor"],
        "verb": {
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {"const": "http://adlnet.gov/expapi/verbs/voided"},
                "display": XAPI_SCHEMA["properties"]["verb"]["properties"]["display"],
            },
        },
        # xAPI 1.0.3, 2.3.2: the object of a voiding statement is a StatementRef.
        "object": {
            "type": "object",
            "required": ["objectType", "id"],
            "additionalProperties": False,
            "properties": {
                "objectType": {"const": "StatementRef"},
                "id": XAPI_SCHEMA["properties"]["id"],
            },
        },
        "timestamp": XAPI_SCHEMA["properties"]["timestamp"],
    },
}


def validate_statement(statement: dict) -> None:
    """xAPI 1.0.3: a completion, or a voiding statement (which no statement may void)."""
    if statement["verb"]["id"] == "http://adlnet.gov/expapi/verbs/voided":
        jsonschema.validate(statement, VOIDING_SCHEMA)
    else:
        jsonschema.validate(statement, XAPI_SCHEMA)
    uuid.UUID(statement["id"])
    datetime.fromisoformat(statement["timestamp"].replace("Z", "+00:00"))


def test_xapi_statements_are_valid_and_pseudonymous(client, token, facts):
    response = client.get("/api/v1/stats/xapi", headers=auth(token))
    assert response.status_code == 200
    check(response, "/stats/xapi")
    text = response.get_data(as_text=True)
    statements = json.loads(text)["statements"]
    assert len(statements) == 3
    for statement in statements:
        validate_statement(statement)
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
    since = re.search(r"[?&]since=(\d+)", first["more"]).group(1)
    rest = client.get(f"/api/v1/stats/xapi?since={since}&limit=5", headers=auth(token)).json
    assert len(rest["statements"]) == 1 and rest["more"] == ""


def test_xapi_statement_keeps_its_actor_after_accounts_are_merged(client, session, token, facts):
    before = {
        s["id"]: s for s in client.get("/api/v1/stats/xapi", headers=auth(token)).json["statements"]
    }
    keep, drop = (session.get(User, f.user_id) for f in facts[:2])
    merge_accounts(session, keep=keep, drop=drop)
    after = {
        s["id"]: s for s in client.get("/api/v1/stats/xapi", headers=auth(token)).json["statements"]
    }
    assert after.keys() == before.keys()
    for statement_id, statement in after.items():
        assert statement == before[statement_id]


def test_xapi_annulment_is_voided_for_readers_paging_with_since(client, session, token, facts):
    first = client.get("/api/v1/stats/xapi?limit=3", headers=auth(token))
    page = first.json
    assert len(page["statements"]) == 3 and page["more"]
    original = page["statements"][1]["id"]
    stats.annul_completion(session, completion=facts[1], reason="fraud", by_user=None)
    path = page["more"].split("/api/v1", 1)[1]
    response = client.get(f"/api/v1{path}", headers=auth(token))
    check(response, "/stats/xapi")
    voids = response.json["statements"]
    assert len(voids) == 1
    validate_statement(voids[0])
    assert voids[0]["verb"]["id"] == "http://adlnet.gov/expapi/verbs/voided"
    assert voids[0]["object"] == {"objectType": "StatementRef", "id": original}
    # Following ``more`` afterwards does not void it again.
    if response.json["more"]:
        again = client.get(
            "/api/v1" + response.json["more"].split("/api/v1", 1)[1], headers=auth(token)
        ).json["statements"]
        assert again == []
    nxt = re.search(r"[?&]since=(\d+)", page["more"]).group(1)
    voided = re.search(r"voided_since=(\d+)", page["more"]).group(1)
    later = client.get(
        f"/api/v1/stats/xapi?since={nxt}&voided_since={voided}", headers=auth(token)
    ).json
    assert [s["object"]["id"] for s in later["statements"]] == [original]
    fresh = client.get("/api/v1/stats/xapi", headers=auth(token)).json["statements"]
    assert original not in [s["id"] for s in fresh] and len(fresh) == 2
    for statement in fresh:
        validate_statement(statement)


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
    assert set(response.json["paths"]) >= {
        "/stats/progress",
        "/stats/xapi",
        "/stats/breakdowns/{dimension}",
        "/stats/exports/{dimension}.{format}",
    }


def test_rate_limit_per_token(app_settings, request, session, analyst, token):
    app_settings.update(RATELIMIT_ENABLED=True, RATELIMIT_API="2 per day")
    client = request.getfixturevalue("client")
    responses = [client.get("/api/v1/stats/progress", headers=auth(token)) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    for response in responses:
        check(response, "/stats/progress")
    # Another token has its own allowance.
    other = services.create_token(session, user=analyst).secret
    assert client.get("/api/v1/stats/progress", headers=auth(other)).status_code == 200


def test_rate_limit_is_shared_by_all_routes_of_a_token(app_settings, request, token, facts):
    app_settings.update(RATELIMIT_ENABLED=True, RATELIMIT_API="2 per day")
    client = request.getfixturevalue("client")
    codes = [
        client.get("/api/v1/stats/progress", headers=auth(token)).status_code,
        client.get("/api/v1/stats/breakdowns/region", headers=auth(token)).status_code,
        client.get("/api/v1/stats/xapi", headers=auth(token)).status_code,
        client.get("/api/v1/stats/breakdowns/sex", headers=auth(token)).status_code,
    ]
    assert codes == [200, 200, 429, 429]


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


@pytest.mark.parametrize("email", ["", "x" * 300 + "@example.kz"])
def test_admin_tokens_form_refuses_bad_input_and_creates_nothing(
    client, session, make_user, login, email
):
    login(make_user(roles=["admin"]))
    before = session.scalar(select(func.count()).select_from(ApiToken))
    page = client.post("/admin/tokens", data={"email": email})
    assert page.status_code == 400
    assert "Tokens can be created only for analyst or admin accounts." in page.get_data(
        as_text=True
    )
    assert session.scalar(select(func.count()).select_from(ApiToken)) == before
