"""People, accounts and roles."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import Base, utcnow


class Role(enum.StrEnum):
    LEARNER = "learner"
    INSTRUCTOR = "instructor"
    ANALYST = "analyst"
    ADMIN = "admin"


class Sex(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"
    NOT_STATED = "not_stated"


def new_person_key() -> str:
    """A random key for a person: never derived from personal data."""
    return secrets.token_hex(16)


class Person(Base):
    """One human being: an account, or every account carrying the same IIN.

    Completion facts keep only ``key``; deleting the last account deletes this row and
    with it the IIN hash.
    """

    __tablename__ = "person"

    key: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_person_key)
    iin_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Set when an identity provider asserted this IIN (lms/accounts/oidc.py): the name of
    # that provider and when. A typed IIN is checked only by its check digit.
    iin_verified_by: Mapped[str | None] = mapped_column(String(40))
    iin_verified_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    accounts: Mapped[list[User]] = relationship(back_populates="person")


class User(UserMixin, Base):
    """A learner's, instructor's, analyst's or admin's account."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    full_name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(8))
    sector: Mapped[str] = mapped_column(String(8))
    birth_year: Mapped[int]
    sex: Mapped[Sex] = mapped_column(String(16), default=Sex.NOT_STATED)
    locale: Mapped[str] = mapped_column(String(2), default="kk")
    consent_version: Mapped[str] = mapped_column(String(32))
    consented_at: Mapped[datetime]
    person_key: Mapped[str] = mapped_column(ForeignKey("person.key"), index=True)
    is_synthetic: Mapped[bool] = mapped_column(default=False, index=True)
    is_active_account: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The last sign-in: a sign-in link from the welcome mail works until the next one.
    signed_in_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship(back_populates="accounts")
    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def roles(self) -> set[str]:
        return {r.role for r in self.role_rows} | {Role.LEARNER}

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def has_any_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    @property
    def is_active(self) -> bool:  # Flask-Login: synthetic accounts can never log in
        return self.is_active_account and not self.is_synthetic


class UserRole(Base):
    """A role held by an account beyond the default ``learner``."""

    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(String(16), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="role_rows")


class OidcLink(Base):
    """An account at an OpenID provider (its subject) that signs in to an Oqu account.

    ``provider`` is the provider's name in ``LMS_OIDC_PROVIDERS``. One subject of a provider
    signs in to one account; an account holds at most one subject per provider.
    """

    __tablename__ = "oidc_link"
    __table_args__ = (
        UniqueConstraint("provider", "subject"),
        UniqueConstraint("user_id", "provider"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginSession(Base):
    """One sign-in: the signed session cookie carries its token, the row says it is alive.

    Ending a session deletes its row; the same cookie replayed afterwards is signed out.
    Only a hash of the token is stored, so a copy of the database opens no session.
    """

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[str] = mapped_column(String(45), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class PasswordGuard(Base):
    """Failed password checks of one e-mail address, counted in the database so that every
    web process and machine shares them (as django-axes does).

    Keyed by a keyed hash of the normalised address, so unknown addresses are counted the
    same way as registered ones (a block never tells which is which) and no address is
    stored in clear.
    """

    __tablename__ = "password_guard"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    first_failure_at: Mapped[datetime] = mapped_column(default=utcnow)
    blocked_until: Mapped[datetime | None]
    blocks: Mapped[int] = mapped_column(default=0)  # blocks so far: each lasts longer
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
