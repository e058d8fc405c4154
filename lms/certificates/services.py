"""Issuing, finding, revoking certificates and deciding their status. Flushes; never commits."""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.accounts.models import User
from lms.certificates.models import Certificate
from lms.courses.models import Course
from lms.db import utcnow
from lms.stats import services as stats
from lms.stats.models import Completion, Correction, CorrectionKind

# The reason accounts gives when a holder deletes their account; shown translated.
ACCOUNT_DELETED = "holder's account deleted"
# How statistics prefixes the admin's reason when a completion is annulled.
ANNULLED_PREFIX = "completion annulled: "
CODE_BYTES = 20  # 160 bits
CODE_PATTERN = re.compile(r"^[A-Z2-7]{32}$")


class CertificateNotFound(Exception):
    """No certificate has this code (or the caller may not see it)."""


class AlreadyRevoked(Exception):
    """The certificate is revoked already; the first reason stands."""


@dataclass(frozen=True)
class CertificateFacts:
    """What a certificate says, as of now: what the PDF, the page and the credential show."""

    certificate: Certificate
    course: Course
    holder: User | None  # None once the account is deleted
    valid: bool
    reason: str | None  # why it is revoked; ACCOUNT_DELETED for a deleted account
    revoked_at: datetime | None

    @property
    def code(self) -> str:
        return self.certificate.code

    @property
    def completed_on(self) -> date:
        return self.certificate.completion.day

    @property
    def language(self) -> str:
        """The language the course was studied in."""
        return self.certificate.completion.language

    @property
    def tier(self) -> str:
        return self.certificate.completion.tier

    @property
    def holder_name(self) -> str | None:
        return self.holder.full_name if self.holder is not None else None


def new_code() -> str:
    """160 random bits in Base32: easy to read aloud, case-insensitive, no sequence."""
    return base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode("ascii")


def normalise_code(text: str) -> str | None:
    """The code in ``text`` (a code, any case, or a verification URL), or None."""
    text = (text or "").strip().rstrip("/").rsplit("/", 1)[-1]
    text = text.removesuffix(".pdf").removesuffix(".jwt").replace("-", "").replace(" ", "")
    code = text.upper()
    return code if CODE_PATTERN.match(code) else None


def _certificate_of(session: Session, completion: Completion) -> Certificate | None:
    return session.scalar(select(Certificate).where(Certificate.completion_id == completion.id))


def issue(session: Session, *, completion: Completion) -> Certificate:
    """Issue the certificate of ``completion``, in the completion's transaction."""
    existing = _certificate_of(session, completion)
    if existing is not None:
        return existing
    certificate = Certificate(code=new_code(), completion=completion, issued_at=utcnow())
    session.add(certificate)
    session.flush()
    return certificate


def revoke(session: Session, *, certificate: Certificate, reason: str) -> None:
    """Revoke ``certificate`` with ``reason``; raise AlreadyRevoked if it is."""
    if certificate.revoked_at is not None:
        raise AlreadyRevoked(certificate.code)
    certificate.revoked_at = utcnow()
    certificate.revoke_reason = reason.strip()[:500]
    session.flush()


def revoke_for_completion(session: Session, *, completion: Completion, reason: str) -> None:
    """Revoke the certificate of an annulled completion."""
    certificate = _certificate_of(session, completion)
    if certificate is not None and certificate.revoked_at is None:
        revoke(session, certificate=certificate, reason=reason)


def find(session: Session, *, code: str) -> Certificate | None:
    """The certificate with ``code`` (a code in any case), or None."""
    normal = normalise_code(code)
    if normal is None:
        return None
    return session.scalar(select(Certificate).where(Certificate.code == normal))


def find_owned(session: Session, *, code: str, user: User) -> Certificate:
    """The certificate ``code`` if ``user`` holds it; else CertificateNotFound."""
    certificate = find(session, code=code)
    if certificate is None or certificate.completion.user_id != user.id:
        raise CertificateNotFound(code)
    return certificate


def certificates_of(session: Session, *, user: User) -> list[Certificate]:
    """The certificates of one account, newest completion first."""
    return list(
        session.scalars(
            select(Certificate)
            .join(Completion, Certificate.completion_id == Completion.id)
            .where(Completion.user_id == user.id)
            .order_by(Completion.completed_at.desc(), Certificate.id.desc())
        )
    )


def facts(session: Session, *, certificate: Certificate) -> CertificateFacts:
    """What ``certificate`` says now: its holder (if any), course and status."""
    return facts_of(session, certificates=[certificate])[0]


def facts_of(session: Session, *, certificates: Sequence[Certificate]) -> list[CertificateFacts]:
    """What each certificate says now, in order, in a fixed number of queries."""
    completions = [c.completion for c in certificates]  # joined with the certificate
    course_ids = {c.course_id for c in completions}
    user_ids = {c.user_id for c in completions if c.user_id is not None}
    courses = (
        {c.id: c for c in session.scalars(select(Course).where(Course.id.in_(course_ids)))}
        if course_ids
        else {}
    )
    holders = (
        {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
        if user_ids
        else {}
    )
    # An annulment recorded by statistics revokes even if nobody called us; the first stands.
    unrevoked = [c.completion_id for c in certificates if c.revoked_at is None]
    annulments: dict[int, Correction] = {}
    if unrevoked:
        for correction in session.scalars(
            select(Correction)
            .where(
                Correction.completion_id.in_(unrevoked), Correction.kind == CorrectionKind.ANNULLED
            )
            .order_by(Correction.id)
        ):
            annulments.setdefault(correction.completion_id, correction)
    found = []
    for certificate, completion in zip(certificates, completions, strict=True):
        course = courses[completion.course_id]  # completion.course_id is a foreign key
        holder = holders.get(completion.user_id) if completion.user_id is not None else None
        reason, revoked_at = certificate.revoke_reason, certificate.revoked_at
        if holder is None:
            reason, revoked_at = ACCOUNT_DELETED, revoked_at or completion.completed_at
        elif revoked_at is None and completion.id in annulments:
            annulment = annulments[completion.id]
            reason, revoked_at = annulment.reason, annulment.created_at
        found.append(
            CertificateFacts(
                certificate=certificate,
                course=course,
                holder=holder,
                valid=revoked_at is None,
                reason=reason if revoked_at else None,
                revoked_at=revoked_at,
            )
        )
    return found


def completions_without_certificate(session: Session) -> list[Completion]:
    """Completions of existing accounts, not annulled, that have no certificate yet."""
    issued = select(Certificate.completion_id)
    return list(
        session.scalars(
            select(Completion)
            .where(
                Completion.user_id.is_not(None),
                Completion.id.not_in(issued),
                Completion.id.not_in(stats.annulled_ids()),
            )
            .order_by(Completion.id)
        )
    )


def sign_with(session: Session, *, certificate: Certificate, kid: str) -> None:
    """Record the key that signs ``certificate``'s credential."""
    if certificate.key_id != kid:
        certificate.key_id = kid
        session.flush()
