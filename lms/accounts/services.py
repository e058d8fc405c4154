"""Accounts: registration, sign-in, profile, IIN linking, erasure, roles. Flushes; never commits."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from lms import events, reference
from lms.accounts import passwords
from lms.accounts.models import LoginSession, PasswordGuard, Person, Role, Sex, User, UserRole
from lms.db import utcnow
from lms.paging import Page, page_of

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
MIN_AGE = 14
EARLIEST_BIRTH_YEAR = 1900
LOCALES = ("kk", "ru", "en")
RESET_MAX_AGE = 3600
RESET_SALT = "oqu.password-reset"
SIGN_IN_SALT = "oqu.sign-in-link"
SIGN_IN_MAX_AGE = 24 * 3600
# A session's "last seen" is written at most this often: one write per user per 5 minutes,
# not one per request.
SESSION_TOUCH = timedelta(minutes=5)
# Failed password checks of one address: this many within GUARD_WINDOW start a block of
# GUARD_FIRST_BLOCK, doubling with each block until GUARD_MAX_BLOCK; a day without failures
# forgets the earlier blocks.
GUARD_FAILURES = 10
GUARD_WINDOW = timedelta(minutes=15)
GUARD_FIRST_BLOCK = timedelta(minutes=5)
GUARD_MAX_BLOCK = timedelta(hours=24)
GUARD_FORGET = timedelta(days=1)
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


class CommonPassword(InvalidProfile):
    """The password is long enough but among the passwords everyone tries first."""


def check_password(password: str) -> None:
    """Raise InvalidProfile for a password too short or too long, CommonPassword for one
    that is common or made of a repeated character or a keyboard run."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidProfile("password")
    if passwords.is_common(password):
        raise CommonPassword("password")


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
    return new_account(
        session,
        email=email,
        password_hash=hash_password(password),
        profile=profile,
        person=person,
        consent_version=consent_version,
        now=now,
    )


def new_account(
    session: Session,
    *,
    email: str,
    password_hash: str,
    profile: Profile,
    person: Person,
    consent_version: str,
    now: datetime,
) -> User:
    """The account row itself, for registration and single sign-on alike (both check
    the address and the profile first)."""
    user = User(
        email=email,
        password_hash=password_hash,
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


def set_password(
    session: Session, *, user: User, password: str, keep_session: int | None = None
) -> None:
    """Store a new password: every reset link issued before stops working, every session
    of the account but ``keep_session`` ends, and failed guesses are forgotten."""
    check_password(password)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    end_sessions(session, user=user, keep=keep_session)
    session.flush()


def change_password(
    session: Session, *, user: User, current: str, new: str, keep_session: int | None = None
) -> None:
    """Replace the password, given the current one; the other sessions end."""
    if not verify_password(user, current):
        raise WrongPassword()
    set_password(session, user=user, password=new, keep_session=keep_session)


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


def grant_role(
    session: Session, *, user: User, role: Role, keep_session: int | None = None
) -> bool:
    """Give ``user`` the role; False when they already held it (learner is implicit).

    Every session of the account but ``keep_session`` ends: a role changes what the
    account may do, so it signs in again."""
    if role == Role.LEARNER or user.has_role(role):
        return False
    user.role_rows.append(UserRole(role=role))
    end_sessions(session, user=user, keep=keep_session)
    session.flush()
    return True


def revoke_role(
    session: Session, *, user: User, role: Role, keep_session: int | None = None
) -> bool:
    """Take the role from ``user``; False when they did not hold it. Every session of the
    account but ``keep_session`` ends."""
    rows = [r for r in user.role_rows if r.role == role]
    for row in rows:
        user.role_rows.remove(row)
    if rows:
        end_sessions(session, user=user, keep=keep_session)
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


# --- Sessions: one row per sign-in, checked whenever the account is loaded ---------------


@dataclass(frozen=True)
class SessionPolicy:
    """How long a session lives: ``idle`` since it was last seen, ``lifetime`` in all."""

    idle: timedelta
    lifetime: timedelta

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SessionPolicy:
        return cls(
            idle=timedelta(minutes=int(config["SESSION_IDLE_MINUTES"])),
            lifetime=timedelta(days=int(config["SESSION_MAX_DAYS"])),
        )

    def alive(self, row: LoginSession, now: datetime) -> bool:
        return row.last_seen_at + self.idle > now and row.created_at + self.lifetime > now


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    session: Session,
    *,
    user: User,
    user_agent: str = "",
    address: str = "",
    now: datetime | None = None,
) -> tuple[LoginSession, str]:
    """Open a session for ``user``: its row and the token the signed cookie carries.

    The one way every sign-in (password, a mailed sign-in link, single sign-on) opens a
    session; web code calls it through ``lms.accounts.login.log_in``."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = LoginSession(
        token_hash=_token_hash(token),
        user_id=user.id,
        user_agent=(user_agent or "")[:300],
        address=(address or "")[:45],
        created_at=now,
        last_seen_at=now,
    )
    user.signed_in_at = now
    session.add(row)
    session.flush()
    return row, token


def session_user(
    session: Session,
    *,
    user_id: int,
    token: str,
    policy: SessionPolicy,
    now: datetime | None = None,
) -> tuple[User, LoginSession] | None:
    """The account and session row the cookie names, or None when the session has ended,
    expired, or belongs to another (or a disabled) account. One round trip."""
    now = now or utcnow()
    found = session.execute(
        select(User, LoginSession)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(LoginSession.token_hash == _token_hash(token), User.id == user_id)
        .options(joinedload(User.role_rows))
    ).first()
    if found is None:
        return None
    user, row = found
    if not user.is_active or not policy.alive(row, now):
        return None
    return user, row


def needs_touch(row: LoginSession, now: datetime | None = None) -> bool:
    """Whether the session's "last seen" is old enough to be written again."""
    return row.last_seen_at + SESSION_TOUCH <= (now or utcnow())


def touch_session(session: Session, *, session_id: int, now: datetime | None = None) -> None:
    """Record that the session was seen now."""
    session.execute(
        update(LoginSession)
        .where(LoginSession.id == session_id)
        .values(last_seen_at=now or utcnow())
    )


def end_session(session: Session, *, user: User, session_id: int) -> bool:
    """End one of ``user``'s sessions; False when it is not theirs or already ended."""
    result = session.execute(
        delete(LoginSession).where(LoginSession.id == session_id, LoginSession.user_id == user.id)
    )
    session.flush()
    return bool(getattr(result, "rowcount", 0))


def end_sessions(session: Session, *, user: User, keep: int | None = None) -> int:
    """End every session of ``user`` but ``keep``; how many ended."""
    where = [LoginSession.user_id == user.id]
    if keep is not None:
        where.append(LoginSession.id != keep)
    result = session.execute(delete(LoginSession).where(*where))
    session.flush()
    return int(getattr(result, "rowcount", 0) or 0)


def active_sessions(
    session: Session, *, user: User, policy: SessionPolicy, now: datetime | None = None
) -> list[LoginSession]:
    """The account's sessions still alive, most recently seen first."""
    now = now or utcnow()
    rows = session.scalars(
        select(LoginSession)
        .where(LoginSession.user_id == user.id)
        .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())
    )
    return [row for row in rows if policy.alive(row, now)]


def end_expired_sessions(
    session: Session, *, user: User, policy: SessionPolicy, now: datetime | None = None
) -> int:
    """Remove the account's sessions past their idle timeout or lifetime (done at each
    sign-in, so rows never pile up); how many went."""
    now = now or utcnow()
    result = session.execute(
        delete(LoginSession).where(
            LoginSession.user_id == user.id,
            (LoginSession.last_seen_at <= now - policy.idle)
            | (LoginSession.created_at <= now - policy.lifetime),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


_BROWSERS = (
    ("YaBrowser/", "Yandex Browser"),
    ("Edg", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("CrOS", "ChromeOS"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
)


def device_name(user_agent: str) -> str:
    """ "Chrome, Android" from a User-Agent header; '' when nothing is recognised."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), "")
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), "")
    return ", ".join(part for part in (browser, system) if part)


# --- Failed password checks, counted in the database ---------------------------------


def guard_key(email: str, *, secret: str) -> str:
    """The key failed checks of ``email`` are counted under (a keyed hash, never the
    address itself)."""
    return hmac.new(
        secret.encode(), b"oqu.guard:" + normalise_email(email).encode(), hashlib.sha256
    ).hexdigest()


def blocked_for(session: Session, *, key: str, now: datetime | None = None) -> int:
    """Seconds until password checks of ``key`` are accepted again; 0 when they are."""
    now = now or utcnow()
    until = session.scalar(select(PasswordGuard.blocked_until).where(PasswordGuard.key == key))
    if until is None or until <= now:
        return 0
    return max(1, int((until - now).total_seconds() + 0.999))


def _guard_row(session: Session, key: str, now: datetime) -> PasswordGuard:
    stmt = select(PasswordGuard).where(PasswordGuard.key == key).with_for_update()
    row = session.scalar(stmt)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            session.add(PasswordGuard(key=key, failures=0, first_failure_at=now, updated_at=now))
    except IntegrityError:  # another process counted this address's first failure
        pass
    # Rows of addresses quiet for long go, so guessing at random addresses fills nothing.
    session.execute(
        delete(PasswordGuard).where(
            PasswordGuard.updated_at < now - 2 * GUARD_FORGET,
            (PasswordGuard.blocked_until.is_(None)) | (PasswordGuard.blocked_until < now),
        )
    )
    return session.scalars(stmt.execution_options(populate_existing=True)).one()


@dataclass(frozen=True)
class Failure:
    """What one more failed check did: a block starting now (``burst``) and its length."""

    blocked_seconds: int
    burst: bool


def record_failure(session: Session, *, key: str, now: datetime | None = None) -> Failure:
    """Count a failed password check of ``key``; the GUARD_FAILURES-th within the window
    starts a block, each longer than the one before."""
    now = now or utcnow()
    row = _guard_row(session, key, now)
    if row.blocked_until is not None and row.blocked_until > now:
        return Failure(int((row.blocked_until - now).total_seconds() + 0.999), burst=False)
    if row.updated_at + GUARD_FORGET <= now:
        row.blocks = 0
    if row.failures == 0 or row.first_failure_at + GUARD_WINDOW <= now:
        row.failures, row.first_failure_at = 0, now
    row.failures += 1
    row.updated_at = now
    if row.failures < GUARD_FAILURES:
        session.flush()
        return Failure(0, burst=False)
    row.blocks += 1
    length = min(GUARD_FIRST_BLOCK * 2 ** (row.blocks - 1), GUARD_MAX_BLOCK)
    row.blocked_until = now + length
    row.failures = 0
    session.flush()
    return Failure(int(length.total_seconds()), burst=True)


def clear_failures(session: Session, *, key: str) -> None:
    """A right password (or a reset) forgets the failed checks and any block."""
    session.execute(delete(PasswordGuard).where(PasswordGuard.key == key))


# --- The sign-in link of the registration mail ---------------------------------------


def _sign_in_fingerprint(user: User) -> str:
    # Changes at the next sign-in and with the password: the link works once.
    seen = user.signed_in_at.isoformat() if user.signed_in_at else ""
    return hashlib.sha256(f"{user.id}:{user.password_hash}:{seen}".encode()).hexdigest()[:24]


def sign_in_token(user: User, *, secret: str) -> str:
    """A signed token for the welcome mail's sign-in link, good until the first sign-in."""
    serializer = URLSafeTimedSerializer(secret, salt=SIGN_IN_SALT)
    return str(serializer.dumps({"u": user.id, "f": _sign_in_fingerprint(user)}))


def user_for_sign_in_token(
    session: Session, *, token: str, secret: str, max_age: int = SIGN_IN_MAX_AGE
) -> User | None:
    """The account a sign-in link is for, or None when it is forged, expired or used."""
    try:
        data = URLSafeTimedSerializer(secret, salt=SIGN_IN_SALT).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = session.get(User, data["u"])
    if (
        user is None
        or not user.is_active
        or not hmac.compare_digest(str(data.get("f", "")), _sign_in_fingerprint(user))
    ):
        return None
    return user
