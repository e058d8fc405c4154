"""The credential's ``credentialStatus``: signed into the credential, and its address answers
whether the certificate is still valid, with no more than the public verification page shows."""

from __future__ import annotations

import json

import jwt
import pytest
from flask import Flask

from lms.accounts import services as accounts
from lms.certificates import credential
from lms.stats import services as stats
from tests.certificates.conftest import BASE_URL, b64, unb64
from tests.conftest import PASSWORD


def _token(client, login, user, certificate) -> str:
    login(user)
    response = client.get(f"/certificates/{certificate.code}.jwt")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _status(client, url: str, language: str = "en"):
    assert url.startswith(BASE_URL + "/")
    response = client.get(url.removeprefix(BASE_URL), headers={"Accept-Language": language})
    assert response.mimetype == "application/json"
    return response.status_code, json.loads(response.get_data(as_text=True))


def test_status_is_valid_then_revoked_after_an_admin_revocation(client, login, make_user, complete):
    user = make_user(full_name="Ержан Сапарұлы")
    certificate = complete(user)
    token = _token(client, login, user, certificate)
    jwks = client.get("/.well-known/jwks.json").get_json(force=True)
    # Offline, with nothing but the published public key.
    kid = jwt.get_unverified_header(token)["kid"]
    public = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid))
    vc = jwt.decode(token, public.key, algorithms=["EdDSA"])
    status = vc["credentialStatus"]
    assert status == {
        "id": f"{BASE_URL}/verify/{certificate.code}.json",
        "type": credential.STATUS_TYPE,
    }
    code, body = _status(client, status["id"])
    assert code == 200
    assert body == {
        "id": status["id"],
        "type": credential.STATUS_TYPE,
        "credential": vc["id"],
        "status": "valid",
    }

    login(make_user(roles=["admin"]))
    response = client.post(
        f"/admin/certificates/{certificate.code}/revoke",
        data={"kind": "fraud", "note": "Plagiarised assignment"},
    )
    assert response.status_code == 302
    code, body = _status(client, status["id"])
    assert code == 200
    assert body["status"] == "revoked" and body["reason"] == "fraud"
    assert "Plagiarised" not in json.dumps(body)  # the admin's note stays inside
    assert "Ержан" not in json.dumps(body, ensure_ascii=False)
    # The signature still holds; it is the status that tells the verifier to reject it.
    assert credential.verify(token, jwks)["credentialStatus"] == status


def test_changing_the_credential_status_breaks_the_signature(client, login, make_user, complete):
    user = make_user()
    certificate, other = complete(user), complete(user)
    token = _token(client, login, user, certificate)
    jwks = client.get("/.well-known/jwks.json").get_json(force=True)
    head, body, signature = token.split(".")
    vc = json.loads(unb64(body))
    changes = [
        {"id": credential.status_url(BASE_URL, other.code), "type": credential.STATUS_TYPE},
        {"id": "https://evil.example/always-valid.json", "type": credential.STATUS_TYPE},
        {**vc["credentialStatus"], "type": "BitstringStatusListEntry"},
        None,
    ]
    for change in changes:
        forged = dict(vc)
        if change is None:
            del forged["credentialStatus"]
        else:
            forged["credentialStatus"] = change
        encoded = b64(json.dumps(forged, separators=(",", ":"), ensure_ascii=False).encode())
        with pytest.raises(jwt.PyJWTError):
            credential.verify(f"{head}.{encoded}.{signature}", jwks)
            pytest.fail(f"{change} was accepted")
    assert credential.verify(token, jwks)["credentialStatus"]["id"].endswith(
        f"/verify/{certificate.code}.json"
    )


def test_deleted_account_and_annulled_completion_read_revoked_without_a_name(
    client, session, make_user, complete
):
    user = make_user(full_name="Гүлнар Өтебайқызы")
    deleted = complete(user)
    accounts.delete_account(session, user=user, password=PASSWORD)
    code, body = _status(client, credential.status_url(BASE_URL, deleted.code), "kk")
    assert code == 200
    assert body["status"] == "revoked" and body["reason"] == "иесінің тіркелгісі жойылған"
    assert "Гүлнар" not in json.dumps(body, ensure_ascii=False)

    annulled = complete(make_user())
    stats.annul_completion(
        session,
        completion=annulled.completion,
        reason="Exam taken by another person",
        by_user=make_user(),
    )
    code, body = _status(client, credential.status_url(BASE_URL, annulled.code.lower()))
    assert code == 200 and body["status"] == "revoked"
    assert body["reason"] == "completion annulled"
    assert "Exam taken" not in json.dumps(body)
    assert body["id"] == credential.status_url(BASE_URL, annulled.code)


def test_unknown_code_is_a_bare_json_404(client, make_user, complete):
    certificate = complete(make_user())
    wrong = ("A" if certificate.code[0] != "A" else "B") + certificate.code[1:]
    for code in (wrong, "x", str(certificate.id), certificate.code + "A"):
        response = client.get(f"/verify/{code}.json")
        assert response.status_code == 404
        assert response.mimetype == "application/json"
        assert response.get_json() == {"error": "not found"}


def test_status_shares_the_verification_rate_limit(app_settings, request, make_user, complete):
    app_settings["RATELIMIT_ENABLED"] = True
    app_settings["RATELIMIT_VERIFY"] = "3 per day"
    app: Flask = request.getfixturevalue("app")
    client = app.test_client()
    certificate = complete(make_user())
    assert client.get(f"/verify/{certificate.code}.json").status_code == 200
    assert client.get(f"/verify/{certificate.code}").status_code == 200
    assert client.get(f"/verify/{certificate.code}.json").status_code == 200
    assert client.get(f"/verify/{certificate.code}.json").status_code == 429
    assert client.get("/verify/UNKNOWNCODE.json").status_code == 429
    assert client.get(f"/verify/{certificate.code}").status_code == 429
