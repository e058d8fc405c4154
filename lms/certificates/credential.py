"""The certificate as an Open Badges 3.0 credential, secured as a VC-JWT (EdDSA, Ed25519).

The JWT payload is the credential itself (W3C VC data model 2.0, JOSE securing), plus the
registered claims ``iss``, ``jti`` and ``iat`` for generic JWT tools. It holds what the PDF
prints, nothing more, but for the subject's ``id``, which Open Badges 3.0 asks for: a pseudonym
of the holder in this one certificate (a keyed hash of its code), never the e-mail, the IIN
or an account number. Anyone can check it offline with the JWKS at ``/.well-known/jwks.json``,
and whether it was revoked since at its ``credentialStatus`` address (``/verify/<code>.json``).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import jwt

from lms.certificates.keys import SigningKey

CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
MEDIA_TYPE = "vc+jwt"
# Our own status method (VC 2.0 and Open Badges 3.0 ask only that a status entry have an
# ``id`` and a ``type`` naming its method; the v2 context's @vocab makes this an
# issuer-dependent term). GET the entry's ``id``: JSON {"status": "valid" | "revoked",
# "reason": translated text, "reasonKind": one of the fixed kinds, "replacedBy": the new
# certificate's address after a re-issue}, 404 for an unknown code. Chosen over a W3C
# Bitstring Status List because revocation here is decided at read time (account deleted,
# completion annulled), and a per-certificate answer shows no more than the public /verify
# page does.
STATUS_TYPE = "OquCertificateStatus"
ALMATY = timezone(timedelta(hours=5))  # Asia/Almaty, fixed at UTC+5


@dataclass(frozen=True)
class Claims:
    """The facts a credential states, already in the learner's language."""

    base_url: str
    code: str
    holder_name: str
    subject_id: str  # see ``subject_id``
    course_slug: str
    course_title: str
    tier: str
    language: str
    completed_on: date
    credential_name: str
    description: str
    criteria: str


def verify_url(base_url: str, code: str) -> str:
    """The public address of a certificate: printed, in the QR code and the credential."""
    return f"{base_url.rstrip('/')}/verify/{code}"


def status_url(base_url: str, code: str) -> str:
    """Where a verifier asks, as JSON, whether certificate ``code`` is valid or revoked."""
    return f"{verify_url(base_url, code)}.json"


def subject_id(key: bytes, code: str) -> str:
    """The holder's ``urn:uuid:`` in the credential of certificate ``code``.

    Fixed by the platform's key and the certificate, so every download says the same; it
    cannot be turned back into the person, nor matched with their other certificates.
    """
    digest = hmac.new(key, b"credential-subject:" + code.encode("ascii"), hashlib.sha256)
    return uuid.UUID(bytes=digest.digest()[:16], version=4).urn


def payload(claims: Claims) -> dict[str, Any]:
    """The credential (an OpenBadgeCredential) as a JSON object."""
    base = claims.base_url.rstrip("/")
    # The day of completion, an Almaty calendar day; no time of day: the PDF prints none.
    valid_from = datetime.combine(claims.completed_on, time(), tzinfo=ALMATY)
    return {
        "@context": CONTEXT,
        "id": verify_url(base, claims.code),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": claims.credential_name,
        "issuer": {"id": base, "type": ["Profile"], "name": "Oqu"},
        "validFrom": valid_from.isoformat(),
        "credentialStatus": {"id": status_url(base, claims.code), "type": STATUS_TYPE},
        "credentialSubject": {
            "id": claims.subject_id,
            "type": ["AchievementSubject"],
            "name": claims.holder_name,
            "achievement": {
                "id": f"{base}/courses/{claims.course_slug}",
                "type": ["Achievement"],
                "achievementType": "Course",
                "name": claims.course_title,
                "description": claims.description,
                "criteria": {"narrative": claims.criteria},
                "inLanguage": claims.language,
                "tag": [claims.tier],
            },
        },
        "iss": base,
        "jti": verify_url(base, claims.code),
        "iat": int(valid_from.timestamp()),
    }


def sign(claims: Claims, key: SigningKey) -> str:
    """The compact VC-JWT of ``claims``, signed with ``key`` (deterministic: Ed25519)."""
    return jwt.encode(
        payload(claims), key.private, algorithm="EdDSA", headers={"kid": key.kid, "typ": MEDIA_TYPE}
    )


def verify(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """The credential in ``token`` if a key of ``jwks`` signed it; else a jwt.PyJWTError."""
    header = jwt.get_unverified_header(token)
    if header.get("alg") != "EdDSA" or header.get("typ") != MEDIA_TYPE:
        raise jwt.InvalidTokenError("not an EdDSA VC-JWT")
    keys = {k.key_id: k for k in jwt.PyJWKSet.from_dict(jwks).keys}
    key = keys.get(header.get("kid"))
    if key is None:
        raise jwt.InvalidTokenError("unknown key id")
    return jwt.decode(token, key.key, algorithms=["EdDSA"], options={"require": ["iss", "iat"]})
