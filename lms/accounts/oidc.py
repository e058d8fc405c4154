"""Single sign-on with OpenID Connect: provider settings, checked identities, links, IINs.

The views (``lms/accounts/oidc_views.py``) run Authlib's authorization code flow (PKCE,
state, nonce, the ID token's signature and claims) and hand the checked claims here. Like
every service module: no Flask, flushes and never commits.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms import reference
from lms.accounts import services
from lms.accounts.models import OidcLink, Person, User
from lms.db import utcnow

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
REQUIRED_KEYS = ("name", "issuer", "client_id", "client_secret", "label")
OPTIONAL_KEYS = ("iin_claim",)
LINK_SALT = "oqu.oidc-link"
LINK_MAX_AGE = 3600


class OidcConfigError(ValueError):
    """``LMS_OIDC_PROVIDERS`` cannot be used; the message says what to fix."""


class IdentityRefused(services.AccountError):
    """The provider's answer cannot sign anyone in; ``reason`` names the rule broken."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IinConflict(services.AccountError):
    """The provider asserts an IIN other than the one on file: a person for support."""


class LinkedElsewhere(services.AccountError):
    """This provider account already signs in to another Oqu account."""


class AlreadyLinked(services.AccountError):
    """The account already has an account at this provider (the same or another one)."""


class NoPassword(services.AccountError):
    """Unlinking would leave the account without a way to sign in."""


@dataclass(frozen=True)
class ProviderSettings:
    """One entry of ``LMS_OIDC_PROVIDERS``."""

    name: str
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    labels: Mapping[str, str]
    iin_claim: str | None = None

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    def label(self, locale: str) -> str:
        """The button's label in ``locale``, else in any language the operator gave."""
        return self.labels.get(locale) or next(iter(self.labels.values()))


def _issuer_ok(issuer: str) -> bool:
    parts = urlsplit(issuer)
    if parts.query or parts.fragment or not parts.hostname:
        return False
    if parts.scheme == "https":
        return True
    # Plain http only on this machine (a provider a developer or a test runs locally).
    if parts.scheme != "http":
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def _labels(value: Any, where: str) -> dict[str, str]:
    if isinstance(value, str) and value.strip():
        return {"en": value.strip()}
    if (
        isinstance(value, dict)
        and value
        and all(
            k in services.LOCALES and isinstance(v, str) and v.strip() for k, v in value.items()
        )
    ):
        return {k: v.strip() for k, v in value.items()}
    raise OidcConfigError(
        f"{where}: label must be a text, or an object of texts by language (kk, ru, en)"
    )


def parse_providers(value: Any) -> list[ProviderSettings]:
    """The providers of ``LMS_OIDC_PROVIDERS`` (JSON text, or the list already parsed)."""
    if value is None or value == "" or value == []:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise OidcConfigError(f"LMS_OIDC_PROVIDERS is not valid JSON: {error}") from None
    if not isinstance(value, list):
        raise OidcConfigError("LMS_OIDC_PROVIDERS must be a JSON list of providers")
    found: list[ProviderSettings] = []
    for index, entry in enumerate(value):
        where = f"LMS_OIDC_PROVIDERS[{index}]"
        if not isinstance(entry, dict):
            raise OidcConfigError(f"{where} must be an object")
        unknown = sorted(set(entry) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS))
        if unknown:
            raise OidcConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
        for key in REQUIRED_KEYS:
            if key == "label":
                continue
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise OidcConfigError(f"{where}: {key} is missing (a non-empty text)")
        name = entry["name"].strip()
        if not NAME_PATTERN.fullmatch(name):
            raise OidcConfigError(
                f"{where}: name {name!r} must be 1-40 lower-case letters, digits, - or _ "
                "(it is part of the callback URL)"
            )
        if any(p.name == name for p in found):
            raise OidcConfigError(f"{where}: the name {name!r} is used twice")
        issuer = entry["issuer"].strip()
        if not _issuer_ok(issuer):
            raise OidcConfigError(
                f"{where}: issuer {issuer!r} must be an https URL without query or fragment "
                "(http only on the loopback address)"
            )
        iin_claim = entry.get("iin_claim")
        if iin_claim is not None and (not isinstance(iin_claim, str) or not iin_claim.strip()):
            raise OidcConfigError(f"{where}: iin_claim must be a claim name (a non-empty text)")
        found.append(
            ProviderSettings(
                name=name,
                issuer=issuer,
                client_id=entry["client_id"].strip(),
                client_secret=entry["client_secret"],
                labels=_labels(entry.get("label"), where),
                iin_claim=iin_claim.strip() if iin_claim else None,
            )
        )
    return found


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in, after the checks: never a raw IIN, only its hash."""

    provider: str
    subject: str
    email: str
    name: str = ""
    iin_hash: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Identity | None:
        """The identity kept in a session or a token, or None when it is not one."""
        if not isinstance(data, dict):
            return None
        try:
            identity = cls(**data)
        except TypeError:
            return None
        texts = (identity.provider, identity.subject, identity.email, identity.name)
        if not all(isinstance(t, str) for t in texts) or not identity.subject:
            return None
        if identity.iin_hash is not None and not isinstance(identity.iin_hash, str):
            return None
        return identity


def _verified(value: Any) -> bool:
    # The standard says a boolean; some providers send the text "true".
    return value is True or (isinstance(value, str) and value.lower() == "true")


def identity_from_claims(
    provider: ProviderSettings, claims: Mapping[str, Any], *, iin_key: bytes
) -> Identity:
    """The identity in checked claims; IdentityRefused unless the e-mail is verified.

    An IIN claim that is not a valid IIN (12 digits, check digit) counts as absent.
    """
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise IdentityRefused("no_subject")
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or len(email) > 254:
        raise IdentityRefused("no_email")
    if not _verified(claims.get("email_verified")):
        raise IdentityRefused("email_unverified")
    name = claims.get("name")
    if not isinstance(name, str) or not name.strip():
        parts = [claims.get("given_name"), claims.get("family_name")]
        name = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    iin_hash = None
    if provider.iin_claim:
        iin = claims.get(provider.iin_claim)
        if isinstance(iin, int) and not isinstance(iin, bool):
            iin = f"{iin:012d}"
        if isinstance(iin, str) and reference.iin_is_valid(iin.strip()):
            iin_hash = services.iin_digest(iin.strip(), key=iin_key)
    return Identity(
        provider=provider.name,
        subject=subject,
        email=services.normalise_email(email),
        name=name.strip()[:200],
        iin_hash=iin_hash,
    )


def find_link(session: Session, *, provider: str, subject: str) -> OidcLink | None:
    """The link of this provider account, if it signs in to an Oqu account."""
    return session.scalar(
        select(OidcLink).where(OidcLink.provider == provider, OidcLink.subject == subject)
    )


def links_of(session: Session, *, user: User) -> dict[str, OidcLink]:
    """The account's links, by provider name."""
    rows = session.scalars(select(OidcLink).where(OidcLink.user_id == user.id))
    return {row.provider: row for row in rows}


def check_iin(user: User, identity: Identity) -> None:
    """IinConflict when the provider asserts an IIN other than the one on file."""
    on_file = user.person.iin_hash
    if identity.iin_hash is not None and on_file is not None and on_file != identity.iin_hash:
        raise IinConflict(user.id)


def record_iin(
    session: Session, *, user: User, identity: Identity, now: datetime | None = None
) -> None:
    """Record the asserted IIN as verified when none is on file (or mark the same one)."""
    if identity.iin_hash is None:
        return
    check_iin(user, identity)
    if user.person.iin_hash is None:
        # As when typed on the profile: an IIN another account carries joins the two.
        services.set_iin(session, user=user, iin_hash=identity.iin_hash)
        session.refresh(user, ["person"])
    person = user.person
    if person.iin_verified_by is None:
        person.iin_verified_by = identity.provider
        person.iin_verified_at = now or utcnow()
    session.flush()


def link(session: Session, *, user: User, identity: Identity, now: datetime | None = None) -> None:
    """Let the provider account sign in to ``user``, and record its IIN (checked first)."""
    existing = find_link(session, provider=identity.provider, subject=identity.subject)
    if existing is not None and existing.user_id != user.id:
        raise LinkedElsewhere(identity.provider)
    if existing is not None or identity.provider in links_of(session, user=user):
        raise AlreadyLinked(identity.provider)
    check_iin(user, identity)
    now = now or utcnow()
    session.add(
        OidcLink(
            user_id=user.id,
            provider=identity.provider,
            subject=identity.subject,
            created_at=now,
            last_used_at=now,
        )
    )
    session.flush()
    record_iin(session, user=user, identity=identity, now=now)


def signed_in(
    session: Session, *, link_row: OidcLink, identity: Identity, now: datetime | None = None
) -> User:
    """The account a linked provider account signs in to, its IIN checked and recorded."""
    user = session.get(User, link_row.user_id)
    if user is None or not user.is_active:
        raise IdentityRefused("inactive")
    record_iin(session, user=user, identity=identity, now=now)
    link_row.last_used_at = now or utcnow()
    session.flush()
    return user


def create_account(
    session: Session,
    *,
    identity: Identity,
    profile: services.Profile,
    consent_version: str,
    typed_iin_hash: str | None = None,
    now: datetime | None = None,
) -> User:
    """A new account for a provider's verified e-mail, without a password, linked to it.

    ``typed_iin_hash`` is an IIN the person typed (the provider gave none): kept unverified.
    """
    now = now or utcnow()
    if services.find_by_email(session, email=identity.email) is not None:
        raise services.EmailTaken(identity.email)
    services.check_profile(profile, year=now.year)
    person = Person()
    session.add(person)
    session.flush()
    user = services.new_account(
        session,
        email=identity.email,
        password_hash="",  # no password: single sign-on only, until one is set
        profile=profile,
        person=person,
        consent_version=consent_version,
        now=now,
    )
    if identity.iin_hash is None and typed_iin_hash is not None:
        services.set_iin(session, user=user, iin_hash=typed_iin_hash)
        session.refresh(user, ["person"])
    link(session, user=user, identity=identity, now=now)
    return user


def unlink(session: Session, *, user: User, provider: str) -> bool:
    """Stop the provider signing in to ``user``; NoPassword while the account has none."""
    row = links_of(session, user=user).get(provider)
    if row is None:
        return False
    if not user.password_hash:
        raise NoPassword(provider)
    session.delete(row)
    session.flush()
    return True


def _link_serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=LINK_SALT)


def link_token(user: User, identity: Identity, *, secret: str) -> str:
    """A signed token for the mailed link that connects ``identity`` to ``user``."""
    return str(
        _link_serializer(secret).dumps({"u": user.id, "e": user.email, **identity.as_dict()})
    )


def read_link_token(
    session: Session, *, token: str, secret: str, max_age: int = LINK_MAX_AGE
) -> tuple[User, Identity] | None:
    """The account and identity of a mailed link, or None when forged, expired or used."""
    try:
        data = _link_serializer(secret).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = session.get(User, data.pop("u"))
    email = data.pop("e", None)
    identity = Identity.from_dict(data)
    if identity is None or user is None or not user.is_active or user.email != email:
        return None
    if find_link(session, provider=identity.provider, subject=identity.subject) is not None:
        return None  # used already (or the subject was linked another way since)
    return user, identity
