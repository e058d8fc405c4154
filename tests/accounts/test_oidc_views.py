"""Single sign-on pages without a provider: the authorization request, refusals at the
callback, the first-time profile and linking from an identity already checked.

The whole flow against a real OpenID provider, in Chromium, is in tests/oidc.
"""

from __future__ import annotations

import json
import time
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest

from lms.accounts import oidc, services
from lms.accounts.oidc_views import EXTENSION, PENDING
from tests.accounts.conftest import registration
from tests.conftest import PASSWORD

ISSUER = "https://id.akimat.example.kz"
PROVIDER = {
    "name": "akimat",
    "issuer": ISSUER,
    "client_id": "oqu",
    "client_secret": "s3cret",
    "label": {"kk": "Әкімдік ID", "en": "Akimat ID"},
    "iin_claim": "iin",
}
EN = {"Accept-Language": "en"}


@pytest.fixture
def app_settings(app_settings):
    app_settings["OIDC_PROVIDERS"] = json.dumps([PROVIDER])
    app_settings["BASE_URL"] = "http://oqu.example.kz"
    return app_settings


def discovered(app, **changes) -> None:
    """The provider's metadata, as discovery would have found it (no network here)."""
    client = app.extensions[EXTENSION][1].create_client("akimat")
    client.server_metadata.update(
        {
            "issuer": ISSUER,
            "authorization_endpoint": f"{ISSUER}/auth",
            "token_endpoint": f"{ISSUER}/token",
            "jwks_uri": f"{ISSUER}/jwks",
            "_loaded_at": time.time(),
            **changes,
        }
    )


def pending(client, **identity) -> None:
    data = {"provider": "akimat", "subject": "sub-1", "email": "nurlan@example.kz", **identity}
    with client.session_transaction() as session:
        session[PENDING] = {"identity": data, "at": int(time.time()), "next": None}


def test_authorization_request_uses_pkce_state_nonce_and_the_registered_callback(
    app, client
) -> None:
    discovered(app)
    response = client.get("/login/oidc/akimat", headers=EN)
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{ISSUER}/auth"
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert query["response_type"] == "code" and query["client_id"] == "oqu"
    assert query["redirect_uri"] == "http://oqu.example.kz/login/oidc/akimat/callback"
    assert set(query["scope"].split()) == {"openid", "email", "profile"}
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 20 and len(query["nonce"]) >= 20
    assert query["ui_locales"] == "en"
    assert "s3cret" not in response.headers["Location"]


def test_discovery_naming_another_issuer_is_refused(app, client) -> None:
    discovered(app, issuer="https://evil.example.kz")
    response = client.get("/login/oidc/akimat", headers=EN)
    assert response.status_code == 502
    assert "Akimat ID cannot be reached just now" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("code=abc&state=never-issued", "does not belong to a sign-in started in this browser"),
        ("code=abc", "does not belong to a sign-in started in this browser"),
        ("error=access_denied&state=x", "Signing in with Akimat ID was cancelled."),
        (f"code=abc&state=x&iss={ISSUER}.evil", "could not be verified, so it was refused"),
    ],
)
def test_callback_refusals_sign_nobody_in(app, client, query, words) -> None:
    discovered(app)
    response = client.get(f"/login/oidc/akimat/callback?{query}", headers=EN)
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)
    assert client.get("/profile").status_code == 302


def test_unknown_provider_is_404(client) -> None:
    assert client.get("/login/oidc/nobody").status_code == 404
    assert client.get("/login/oidc/nobody/callback?code=a&state=b").status_code == 404


def test_first_profile_needs_a_checked_identity(client) -> None:
    response = client.get("/login/oidc/profile", headers=EN)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert "Your sign-in has expired" in client.get("/login", headers=EN).get_data(True)


def test_first_profile_asks_for_the_name_when_the_provider_gave_none(app, client, session):
    pending(client, name="")
    html = client.get("/login/oidc/profile", headers=EN).get_data(as_text=True)
    assert 'name="full_name"' in html and 'name="iin"' in html and 'name="consent"' in html
    form = registration(full_name="Нұрлан Әбенов", email=None, password=None, confirm=None)
    refused = client.post("/login/oidc/profile", data={**form, "consent": ""}, headers=EN)
    assert refused.status_code == 400
    assert services.find_by_email(session, email="nurlan@example.kz") is None

    response = client.post("/login/oidc/profile", data=form, headers=EN)
    assert response.status_code == 302
    user = services.find_by_email(session, email="nurlan@example.kz")
    assert user is not None and user.full_name == "Нұрлан Әбенов" and user.password_hash == ""
    assert user.birth_year == date.today().year - 30
    assert oidc.find_link(session, provider="akimat", subject="sub-1").user_id == user.id
    assert "nurlan@example.kz" in client.get("/profile").get_data(as_text=True)


def test_link_by_password_only_with_the_right_one(client, session, make_user) -> None:
    user = make_user(email="nurlan@example.kz")
    pending(client)
    html = client.get("/login/oidc/link", headers=EN).get_data(as_text=True)
    assert "An Oqu account with the address nurlan@example.kz exists" in html
    wrong = client.post("/login/oidc/link", data={"password": "wrong password!"}, headers=EN)
    assert wrong.status_code == 400 and "The password is not right." in wrong.get_data(True)
    assert oidc.links_of(session, user=user) == {}
    right = client.post("/login/oidc/link", data={"password": PASSWORD}, headers=EN)
    assert right.status_code == 302
    assert set(oidc.links_of(session, user=user)) == {"akimat"}


def test_sign_in_methods_page_connects_and_disconnects(client, session, make_user, login):
    user = make_user(locale="en")
    login(user)
    assert "Sign-in methods" in client.get("/profile").get_data(as_text=True)
    html = client.get("/profile/sign-in-methods").get_data(as_text=True)
    assert "Connect Akimat ID" in html and 'href="/profile/sign-in-methods/akimat/connect"' in html
    oidc.link(session, user=user, identity=oidc.Identity("akimat", "sub-9", user.email))
    html = client.get("/profile/sign-in-methods").get_data(as_text=True)
    assert "connected on" in html and "Disconnect Akimat ID" in html
    response = client.post("/profile/sign-in-methods/akimat/unlink", follow_redirects=True)
    assert "Akimat ID is disconnected from your account." in response.get_data(as_text=True)
    assert oidc.links_of(session, user=user) == {}
