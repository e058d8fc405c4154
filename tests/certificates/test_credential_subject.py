"""The credential names its subject with an ``id`` (Open Badges 3.0), a pseudonym that is the
same in every download of one certificate and says nothing about the person."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid

import jwt
import pytest

from lms import create_app
from lms.certificates import credential, documents
from lms.db import db
from tests.conftest import PASSWORD


def _subject(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})["credentialSubject"]


def _download(client, certificate, **query) -> str:
    response = client.get(f"/certificates/{certificate.code}.jwt", query_string=query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_subject_has_a_stable_pseudonymous_id(client, login, make_user, complete, session):
    iin_hash = hashlib.sha256(b"900101300123").hexdigest()
    user = make_user(full_name="Айгерім Сапарова", iin_hash=iin_hash)
    certificate, other = complete(user), complete(user)
    login(user)
    token = _download(client, certificate)
    subject = _subject(token)
    assert subject["name"] == "Айгерім Сапарова"
    subject_id = subject["id"]
    assert subject_id.startswith("urn:uuid:")
    parsed = uuid.UUID(subject_id.removeprefix("urn:uuid:"))
    # Stable: the same in another language's credential and in a later download.
    assert _subject(_download(client, certificate, lang="ru"))["id"] == subject_id
    assert _subject(_download(client, certificate))["id"] == subject_id
    # One pseudonym per certificate: two credentials do not link the same person.
    assert _subject(_download(client, other))["id"] != subject_id
    # Nothing that names the person, nor a name-based UUID anyone could recompute.
    known = [
        user.email,
        str(user.id),
        user.person_key,
        iin_hash,
        "900101300123",
        certificate.code,
        str(certificate.id),
    ]
    for value in known:
        assert len(value) < 8 or value not in subject_id
        for namespace in (uuid.NAMESPACE_URL, uuid.NAMESPACE_DNS, uuid.NAMESPACE_OID):
            assert parsed not in (uuid.uuid5(namespace, value), uuid.uuid3(namespace, value))
    for digest in (hashlib.sha256, hashlib.sha1, hashlib.md5):
        for value in known:  # a bare hash of any of them, cut to a UUID
            assert parsed.hex[:12] != digest(value.encode()).hexdigest()[:12]
    assert user.email not in token and user.person_key not in token and iin_hash not in token


def test_subject_id_needs_the_platform_key(
    app_settings, session, make_user, complete, login, client
):
    user = make_user()
    certificate = complete(user)
    # The same database and signing keys, another SECRET_KEY: another pseudonym. (A
    # credential is stored once signed: the other platform signs it first here.)
    ours = credential.subject_id(documents.subject_key(client.application), certificate.code)
    other_app = create_app({**app_settings, "SECRET_KEY": "another-platform-key"})
    db.use_session(other_app, session)
    with other_app.app_context():
        other = other_app.test_client()
        assert other.post(
            "/login", data={"email": user.email, "password": PASSWORD}
        ).status_code in (302, 303)
        theirs = _subject(_download(other, certificate))["id"]
    assert theirs.startswith("urn:uuid:") and theirs != ours


def test_changing_the_subject_id_breaks_the_signature(client, login, make_user, complete):
    user = make_user()
    certificate = complete(user)
    login(user)
    token = _download(client, certificate)
    jwks = client.get("/.well-known/jwks.json").get_json(force=True)
    head, body, signature = token.split(".")
    vc = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    vc["credentialSubject"]["id"] = f"urn:uuid:{uuid.uuid4()}"
    forged = base64.urlsafe_b64encode(
        json.dumps(vc, separators=(",", ":"), ensure_ascii=False).encode()
    ).rstrip(b"=")
    assert credential.verify(token, jwks)["credentialSubject"]["id"].startswith("urn:uuid:")
    with pytest.raises(jwt.PyJWTError):
        credential.verify(f"{head}.{forged.decode()}.{signature}", jwks)
