"""Accounts: registration, sign-in, profile, IIN linking, erasure, roles. Flushes; never commits."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from lms import events, reference
from lms.accounts.models import Person, Role, Sex, User, UserRole
from lms.db import utcnow
from lms.paging import Page, page_of

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
MIN_AGE = 14
EARLIEST_BIRTH_YEAR = 1900
LOCALES = ("kk", "ru", "en")
RESET_MAX_AGE = 3600
RESET_SALT = "oqu.password-reset"
# The slow, salted hash of every password. The test suite swaps in a cheap one for its own
# run (tests/conftest.py); tests/accounts/test_password_hash.py proves this default holds.
HASH_METHOD = "scrypt"
_dummy_hashes: dict[str, str] = {}


class AccountError(Exception):
    """A rule of accounts was broken; the view turns it into a message."""


class EmailTaken(AccountError):
    pass


class InvalidProfile(AccountError):
    """A profile value outside what the platform accepts (tampered form, bad year)."""


class IinOnFile(AccountError):
    """The account's person already carries another IIN: an IIN never changes."""


class WrongPassword(AccountError):
    pass


class UnknownAccount(AccountError):
    pass


class UnknownRole(AccountError):
    pass


@dataclass(frozen=True)
class Profile:
    """What a person tells us about themselves, as counted in the statistics."""

    full_name: str
    region: str
    sector: str
    birth_year: int
    sex: Sex
    locale: str


def normalise_email(email: str) -> str:
    """E-mail addresses compare without case or surrounding space."""
    return email.strip().lower()


def hash_password(password: str) -> str:
    """A slow, salted hash (scrypt)."""
    return generate_password_hash(password, method=HASH_METHOD)


def _dummy_hash() -> str:
    """Checked when the e-mail is unknown, so that a miss costs as much time as a hit."""
    if HASH_METHOD not in _dummy_hashes:
        _dummy_hashes[HASH_METHOD] = generate_password_hash("not a real password", HASH_METHOD)
    return _dummy_hashes[HASH_METHOD]


def iin_key(config: Mapping[str, Any]) -> bytes:
    """The key of the IIN hash: ``IIN_HASH_KEY``, else one derived from ``SECRET_KEY``."""
    explicit = str(config.get("IIN_HASH_KEY") or "")
    if explicit:
        return explicit.encode()
    secret = str(config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"oqu.iin-hash-key", hashlib.sha256).digest()


def iin_digest(iin: str, *, key: bytes) -> str:
    """The keyed hash under which an IIN is stored (HMAC-SHA256, hex)."""
    return hmac.new(key, iin.strip().encode(), hashlib.sha256).hexdigest()


def latest_birth_year(year: int) -> int:
    """The latest year of birth accepted in ``year`` (at least 14 years before it)."""
    return year - MIN_AGE


def check_profile(profile: Profile, *, year: int) -> None:
    """Raise InvalidProfile for anything a form would have refused."""
    if not profile.full_name.strip() or len(profile.full_name) > 200:
        raise InvalidProfile("full_name")
    if profile.region not in reference.region_codes():
        raise InvalidProfile("region")
    if profile.sector not in reference.sector_codes():
        raise InvalidProfile("sector")
    if not EARLIEST_BIRTH_YEAR <= profile.birth_year <= latest_birth_year(year):
        raise InvalidProfile("birth_year")
    if profile.locale not in LOCALES:
        raise InvalidProfile("locale")
    Sex(profile.sex)


def check_password(password: str) -> None:
    """Raise InvalidProfile for a password too short or too long."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidProfile("password")


def find_by_email(session: Session, *, email: str) -> User | None:
    """The account registered under ``email``, whatever its case."""
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def _person_for_iin(session: Session, digest: str | None) -> Person:
    if digest is not None:
        person = session.scalar(select(Person).where(Person.iin_hash == digest))
        if person is not None:
            return person
    person = Person(iin_hash=digest)
    session.add(person)
    session.flush()
    return person


def register(
    session: Session,
    *,
    email: str,
    password: str,
    profile: Profile,
    consent_version: str,
    iin_hash: str | None = None,
    now: datetime | None = None,
) -> User:
    """Create an account; an IIN already known joins the new account to that person."""
    now = now or utcnow()
    email = normalise_email(email)
    if find_by_email(session, email=email) is not None:
        raise EmailTaken(email)
    check_profile(profile, year=now.year)
    check_password(password)
    person = _person_for_iin(session, iin_hash)
    user = User(
        email=email,
        password_hash=hash_password(password),
        full_name=profile.full_name.strip(),
        region=profile.region,
        sector=profile.sector,
        birth_year=profile.birth_year,
        sex=Sex(profile.sex),
        locale=profile.locale,
        consent_version=consent_version,
        consented_at=now,
        person_key=person.key,
        created_at=now,
        password_changed_at=now,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    """The account for these credentials, or None (never saying which part was wrong)."""
    user = find_by_email(session, email=email)
    if user is None or not user.password_hash:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    # Synthetic (benchmark) and disabled accounts can never sign in.
    return user if user.is_active else None


def update_profile(
    session: Session, *, user: User, profile: Profile, now: datetime | None = None
) -> None:
    """Change what the person says about themselves; later completions use the new values."""
    check_profile(profile, year=(now or utcnow()).year)
    user.full_name = profile.full_name.strip()
    user.region, user.sector = profile.region, profile.sector
    user.birth_year, user.sex = profile.birth_year, Sex(profile.sex)
    user.locale = profile.locale
    session.flush()


def set_locale(session: Session, *, user: User, locale: str) -> None:
    """Remember the account's UI language."""
    if locale not in LOCALES:
        raise InvalidProfile("locale")
    user.locale = locale
    session.flush()


def set_iin(session: Session, *, user: User, iin_hash: str) -> bool:
    """Record the account's IIN; returns True when that joined it to another person.

    Two people are one when they carry the same IIN: the statistics are told
    (``events.persons_merged``), every account of this person moves to the other, and this
    person's row goes. An IIN on file never changes (``IinOnFile``): another one would
    rewrite a person other accounts share.
    """
    person = user.person
    if person.iin_hash == iin_hash:
        return False
    if person.iin_hash is not None:
        raise IinOnFile(user.id)
    other = session.scalar(select(Person).where(Person.iin_hash == iin_hash))
    if other is None:
        person.iin_hash = iin_hash
        session.flush()
        return False
    drop_key = person.key
    events.persons_merged.send(other.key, session=session, drop_key=drop_key)
    for account in session.scalars(select(User).where(User.person_key == drop_key)):
        account.person = other
    session.flush()
    session.expire(person, ["accounts"])
    session.delete(person)
    session.flush()
    return True


def verify_password(user: User, password: str) -> bool:
    """True when ``password`` is the account's current one."""
    return bool(user.password_hash) and check_password_hash(user.password_hash, password)


def set_password(session: Session, *, user: User, password: str) -> None:
    """Store a new password (which also voids every reset link issued before)."""
    check_password(password)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    session.flush()


def change_password(session: Session, *, user: User, current: str, new: str) -> None:
    """Replace the password, given the current one."""
    if not verify_password(user, current):
        raise WrongPassword()
    set_password(session, user=user, password=new)


def delete_account(session: Session, *, user: User, password: str) -> None:
    """Erase the account; completion facts stay with only the random person key."""
    if not verify_password(user, password):
        raise WrongPassword()
    events.account_deleting.send(user, session=session)
    person = user.person
    session.delete(user)
    session.flush()
    # Completion.user_id is set to NULL and enrolments go by the database's ON DELETE.
    session.expire_all()
    remaining = session.scalar(
        select(func.count()).select_from(User).where(User.person_key == person.key)
    )
    if not remaining:
        session.delete(person)
        session.flush()


def session_stamp(user: User) -> str:
    """Kept in the login session; a new password changes it, ending every other session."""
    return hashlib.sha256(f"session:{user.password_hash}".encode()).hexdigest()[:16]


def _fingerprint(user: User) -> str:
    # Changes whenever the password does, so a used (or outdated) link stops working.
    return hashlib.sha256(f"{user.id}:{user.password_hash}".encode()).hexdigest()[:24]


def _reset_serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=RESET_SALT)


def reset_token(user: User, *, secret: str) -> str:
    """A signed link token for resetting ``user``'s password, good until it is used."""
    return str(_reset_serializer(secret).dumps({"u": user.id, "f": _fingerprint(user)}))


def user_for_reset_token(
    session: Session, *, token: str, secret: str, max_age: int = RESET_MAX_AGE
) -> User | None:
    """The account a reset token is for, or None when it is forged, expired or used."""
    try:
        data = _reset_serializer(secret).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = session.get(User, data["u"])
    if (
        user is None
        or not user.is_active
        or not hmac.compare_digest(str(data.get("f", "")), _fingerprint(user))
    ):
        return None
    return user


def parse_role(name: str) -> Role:
    """The role called ``name``; UnknownRole otherwise."""
    try:
        return Role(name.strip().lower())
    except ValueError:
        raise UnknownRole(name) from None


def grant_role(session: Session, *, user: User, role: Role) -> bool:
    """Give ``user`` the role; False when they already held it (learner is implicit)."""
    if role == Role.LEARNER or user.has_role(role):
        return False
    user.role_rows.append(UserRole(role=role))
    session.flush()
    return True


def revoke_role(session: Session, *, user: User, role: Role) -> bool:
    """Take the role from ``user``; False when they did not hold it."""
    rows = [r for r in user.role_rows if r.role == role]
    for row in rows:
        user.role_rows.remove(row)
    session.flush()
    return bool(rows)


def create_admin(
    session: Session,
    *,
    email: str,
    password: str,
    full_name: str,
    consent_version: str,
    locale: str = "kk",
) -> User:
    """An account holding the admin role, with neutral profile values."""
    now = utcnow()
    profile = Profile(
        full_name=full_name,
        region="KZ-71",
        sector=reference.NO_SECTOR,
        birth_year=latest_birth_year(now.year) - 16,
        sex=Sex.NOT_STATED,
        locale=locale if locale in LOCALES else "kk",
    )
    user = register(
        session,
        email=email,
        password=password,
        profile=profile,
        consent_version=consent_version,
        now=now,
    )
    grant_role(session, user=user, role=Role.ADMIN)
    return user


def search_users(
    session: Session, *, query: str = "", page: int = 1, per_page: int = 25
) -> Page[User]:
    """One page of the accounts whose e-mail contains ``query``, newest first."""
    where = []
    if query.strip():
        pattern = (
            "%"
            + query.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            + "%"
        )
        where.append(User.email.like(pattern, escape="\\"))
    return page_of(
        session, select(User).where(*where).order_by(User.id.desc()), page=page, per_page=per_page
    )
