"""API tokens: create (shown once), authenticate by hash, revoke. Flushes; never commits."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lms.accounts import services as accounts
from lms.accounts.models import Role, User
from lms.api.models import ApiToken
from lms.db import utcnow

ALLOWED = (Role.ANALYST, Role.ADMIN)


class NotAllowed(Exception):
    """The account is not an analyst or admin (or does not exist)."""


class BadToken(Exception):
    """Missing, unknown or revoked token."""


class TokenForbidden(Exception):
    """A valid token whose account is no longer an analyst or admin."""


@dataclass
class NewToken:
    token: ApiToken
    secret: str  # shown once; only its hash is stored


def token_hash(secret: str) -> str:
    """SHA-256 of a token: enough for high-entropy secrets (no slow hash needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def may_hold_token(user: User | None) -> bool:
    """Whether the account may use the API."""
    return bool(user is not None and user.is_active and user.has_any_role(*ALLOWED))


def find_account(session: Session, *, email: str) -> User | None:
    """The account with this e-mail (case-insensitive)."""
    # The exact spelling too, for accounts stored before e-mails were normalised.
    return accounts.find_by_email(session, email=email) or session.scalar(
        select(User).where(User.email == email.strip())
    )


def create_token(session: Session, *, user: User, created_by: User | None = None) -> NewToken:
    """A new token for an analyst or admin; the secret is returned and never stored."""
    if not may_hold_token(user):
        raise NotAllowed(user.email if user else "")
    secret = "oqu_" + secrets.token_urlsafe(32)
    token = ApiToken(
        token_hash=token_hash(secret),
        prefix=secret[:10],
        user_id=user.id,
        created_by_id=created_by.id if created_by else None,
    )
    session.add(token)
    session.flush()
    return NewToken(token, secret)


def revoke_token(session: Session, *, token: ApiToken) -> None:
    """Revoke one token."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    session.flush()


def revoke_tokens_of(session: Session, *, user: User) -> int:
    """Revoke every live token of an account; returns how many."""
    tokens = list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        )
    )
    for token in tokens:
        token.revoked_at = utcnow()
    session.flush()
    return len(tokens)


def authenticate(session: Session, *, secret: str | None) -> User:
    """The account behind a bearer token, or BadToken / TokenForbidden."""
    if not secret:
        raise BadToken("missing")
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(secret)))
    if token is None or token.revoked_at is not None:
        raise BadToken("unknown or revoked")
    if not may_hold_token(token.user):
        raise TokenForbidden(token.user_id)
    return token.user


def tokens(session: Session) -> list[ApiToken]:
    """Every token, newest first, with its account loaded (the list shows the e-mail)."""
    return list(
        session.scalars(
            select(ApiToken)
            .options(selectinload(ApiToken.user))
            .order_by(ApiToken.created_at.desc())
        )
    )
