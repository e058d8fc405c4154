"""The signed credential: verifies with the published public key only; any change fails."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import jwt
import pytest

from lms.certificates import credential
from lms.courses.models import Course
from tests.certificates.conftest import BASE_URL, b64, unb64


def _download(client, login, user, certificate) -> str:
    login(user)
    response = client.get(f"/certificates/{certificate.code}.jwt")
    assert response.status_code == 200
    assert response.mimetype == "application/vc+jwt"
    return response.get_data(as_text=True)


def _jwks(client) -> dict:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    return response.get_json(force=True)


def test_jwks_publishes_ed25519_public_keys_only(client, app):
    keys = _jwks(client)["keys"]
    assert len(keys) == 1
    key = keys[0]
    assert {key["kty"], key["crv"], key["alg"], key["use"]} == {"OKP", "Ed25519", "EdDSA", "sig"}
    assert key["kid"] and "d" not in key
    folder = Path(app.config["CREDENTIAL_KEYS_DIR"])
    pem = folder / f"{key['kid']}.pem"
    assert stat.S_IMODE(os.stat(pem).st_mode) == 0o600


def test_credential_verifies_with_only_the_published_key(
    client, login, make_user, complete, session
):
    user = make_user(full_name="Дәурен Әбілқасымов")
    certificate = complete(user, language="kk")
    token = _download(client, login, user, certificate)
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "EdDSA", "kid": header["kid"], "typ": "vc+jwt"}
    jwks = _jwks(client)
    # Offline: nothing but the JWKS document and the token.
    public = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == header["kid"]))
    vc = jwt.decode(token, public.key, algorithms=["EdDSA"])
    assert vc["@context"] == credential.CONTEXT
    assert vc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert vc["id"] == f"{BASE_URL}/verify/{certificate.code}"
    assert vc["issuer"] == {"id": BASE_URL, "type": ["Profile"], "name": "Oqu"}
    assert vc["validFrom"] == "2026-03-14T00:00:00+05:00"
    subject = vc["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["name"] == "Дәурен Әбілқасымов"
    achievement = subject["achievement"]
    course = session.get(Course, certificate.completion.course_id)
    assert achievement["id"] == f"{BASE_URL}/courses/{course.slug}"
    assert achievement["type"] == ["Achievement"]
    assert achievement["achievementType"] == "Course"
    assert achievement["name"].startswith("Жасанды интеллект негіздері")
    assert achievement["criteria"]["narrative"]
    assert user.email not in token and user.email not in json.dumps(vc, ensure_ascii=False)
    assert credential.verify(token, jwks)["id"] == vc["id"]
    # The same credential downloaded again is the same bytes (deterministic Ed25519).
    assert client.get(f"/certificates/{certificate.code}.jwt").get_data(as_text=True) == token


def _tampered_payloads(vc: dict):
    for key in vc:
        changed = json.loads(json.dumps(vc))
        changed[key] = "tampered" if changed[key] != "tampered" else "other"
        yield f"payload.{key}", changed
    for path in (
        ("credentialSubject", "name"),
        ("credentialSubject", "achievement", "name"),
        ("credentialSubject", "achievement", "id"),
        ("issuer", "id"),
    ):
        changed = json.loads(json.dumps(vc))
        node = changed
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = node[path[-1]] + "x"
        yield ".".join(path), changed


def test_any_change_breaks_the_signature(client, login, make_user, complete, app):
    user = make_user(full_name="Сәуле Ермекова")
    certificate = complete(user)
    token = _download(client, login, user, certificate)
    app.test_cli_runner().invoke(args=["certificates", "rotate-key"])  # a second valid kid
    jwks = _jwks(client)
    head, body, signature = token.split(".")
    vc = json.loads(unb64(body))
    forgeries = {}
    for label, changed in _tampered_payloads(vc):
        encoded = b64(json.dumps(changed, separators=(",", ":"), ensure_ascii=False).encode())
        forgeries[label] = f"{head}.{encoded}.{signature}"
    header = json.loads(unb64(head))
    other_kid = next(k["kid"] for k in jwks["keys"] if k["kid"] != header["kid"])
    for label, new_header in (
        ("header.kid", {**header, "kid": other_kid}),
        ("header.typ", {**header, "typ": "JWT"}),
        ("header.extra", {**header, "x5u": "https://evil.example"}),
    ):
        encoded = b64(json.dumps(new_header, separators=(",", ":")).encode())
        forgeries[label] = f"{encoded}.{body}.{signature}"
    raw = bytearray(unb64(signature))
    raw[0] ^= 1
    forgeries["signature"] = f"{head}.{body}.{b64(bytes(raw))}"
    forgeries["no signature"] = f"{head}.{body}."
    none_header = b64(json.dumps({"alg": "none", "typ": "vc+jwt"}).encode())
    forgeries["alg none"] = f"{none_header}.{body}."
    assert credential.verify(token, jwks)
    for label, forged in forgeries.items():
        with pytest.raises(jwt.PyJWTError):
            credential.verify(forged, jwks)
            pytest.fail(f"{label} was accepted")


def test_rotation_keeps_old_credentials_verifiable(client, login, make_user, complete, app):
    user = make_user()
    old_certificate = complete(user)
    old_token = _download(client, login, user, old_certificate)
    result = app.test_cli_runner().invoke(args=["certificates", "rotate-key"])
    assert result.exit_code == 0 and "new signing key" in result.output
    new_certificate = complete(user)
    new_token = client.get(f"/certificates/{new_certificate.code}.jwt").get_data(as_text=True)
    jwks = _jwks(client)
    assert len(jwks["keys"]) == 2
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    new_kid = jwt.get_unverified_header(new_token)["kid"]
    assert old_kid != new_kid and new_kid == jwks["keys"][-1]["kid"]
    assert credential.verify(old_token, jwks)["id"].endswith(old_certificate.code)
    assert credential.verify(new_token, jwks)["id"].endswith(new_certificate.code)
    # Verifying with a JWKS that lacks the old key fails: the kid really selects the key.
    only_new = {"keys": [k for k in jwks["keys"] if k["kid"] == new_kid]}
    with pytest.raises(jwt.PyJWTError):
        credential.verify(old_token, only_new)
