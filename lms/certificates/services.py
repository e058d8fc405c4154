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
from lms.certificates.models import ADMIN_KINDS, Certificate, RevocationKind
from lms.courses.models import Course
from lms.db import utcnow
from lms.stats import services as stats
from lms.stats.models import Completion, Correction, CorrectionKind

CODE_BYTES = 20  # 160 bits
CODE_PATTERN = re.compile(r"^[A-Z2-7]{32}$")


class CertificateNotFound(Exception):
    """No certificate has this code (or the caller may not see it)."""


class AlreadyRevoked(Exception):
    """The certificate is revoked already; the first reason stands."""


class NotAnAdminKind(Exception):
    """An admin may revoke only as issued in error or for fraud; the rest are the platform's."""


class NothingToReissue(Exception):
    """The certificate already carries the holder's name, or it is no longer current."""


@dataclass(frozen=True)
class CertificateFacts:
    """What a certificate says: the facts stored at issue, and its status now."""

    certificate: Certificate
    course: Course
    valid: bool
    kind: RevocationKind | None  # why it is revoked
    revoked_at: datetime | None
    holder_name: str | None  # None once the account is deleted

    @property
    def code(self) -> str:
        return self.certificate.code

    @property
    def completed_on(self) -> date:
        return self.certificate.completed_on

    @property
    def language(self) -> str:
        """The language the course was studied in."""
        return self.certificate.language

    @property
    def tier(self) -> str:
        return self.certificate.tier

    @property
    def course_title(self) -> str:
        """The course's title, in the language of study, as it was at issue."""
        return self.certificate.course_title

    @property
    def note(self) -> str | None:
        """The admin's internal note on a revocation: for admins only."""
        return self.certificate.revoke_note

    @property
    def replaced_by(self) -> Certificate | None:
        return self.certificate.replaced_by


def new_code() -> str:
    """160 random bits in Base32: easy to read aloud, case-insensitive, no sequence."""
    return base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode("ascii")


def normalise_code(text: str) -> str | None:
    """The code in ``text`` (a code, any case, or a verification URL), or None."""
    text = (text or "").strip().rstrip("/").rsplit("/", 1)[-1]
    text = text.removesuffix(".pdf").removesuffix(".jwt").replace("-", "").replace(" ", "")
    code = text.upper()
    return code if CODE_PATTERN.match(code) else None


def title_in(course: Course, language: str) -> str:
    """The course's title in ``language``, else in its first language that has one."""
    titles = course.title or {}
    for candidate in (language, *(course.languages or [])):
        if titles.get(candidate):
            return titles[candidate]
    return next((text for text in titles.values() if text), course.slug)


def current_of(session: Session, *, completion: Completion) -> Certificate | None:
    """The current certificate of ``completion`` (the one not replaced), if any."""
    return session.scalar(
        select(Certificate)
        .where(Certificate.completion_id == completion.id, Certificate.replaced_by_id.is_(None))
        .order_by(Certificate.id.desc())
        .limit(1)
    )


def _all_of(session: Session, completion: Completion) -> list[Certificate]:
    return list(
        session.scalars(
            select(Certificate)
            .where(Certificate.completion_id == completion.id)
            .order_by(Certificate.id)
        )
    )


def issue(session: Session, *, completion: Completion) -> Certificate:
    """Issue the certificate of ``completion``, in the completion's transaction, stating
    what is true now: the holder's name, the course title in the language of study, the tier
    and the day of completion."""
    existing = current_of(session, completion=completion)
    if existing is not None:
        return existing
    holder = session.get(User, completion.user_id) if completion.user_id is not None else None
    course = session.get(Course, completion.course_id)
    assert course is not None  # a foreign key
    certificate = Certificate(
        code=new_code(),
        completion=completion,
        issued_at=utcnow(),
        holder_name=holder.full_name if holder is not None else None,
        course_title=title_in(course, completion.language),
        tier=completion.tier,
        language=completion.language,
        completed_on=completion.day,
    )
    session.add(certificate)
    session.flush()
    return certificate


def revoke(
    session: Session,
    *,
    certificate: Certificate,
    kind: RevocationKind,
    note: str | None = None,
) -> None:
    """Revoke ``certificate`` for ``kind``, with an internal ``note``; AlreadyRevoked if it is."""
    if certificate.revoked_at is not None:
        raise AlreadyRevoked(certificate.code)
    certificate.revoked_at = utcnow()
    certificate.revoke_kind = RevocationKind(kind)
    certificate.revoke_note = (note or "").strip()[:500] or None
    session.flush()


def revoke_by_admin(
    session: Session, *, certificate: Certificate, kind: str, note: str | None
) -> None:
    """An admin's revocation: issued in error or fraud only (NotAnAdminKind otherwise)."""
    if kind not in {str(k) for k in ADMIN_KINDS}:
        raise NotAnAdminKind(kind)
    revoke(session, certificate=certificate, kind=RevocationKind(kind), note=note)


def revoke_for_completion(
    session: Session, *, completion: Completion, kind: RevocationKind, note: str | None = None
) -> None:
    """Revoke every certificate of ``completion`` that is not revoked yet."""
    for certificate in _all_of(session, completion):
        if certificate.revoked_at is None:
            revoke(session, certificate=certificate, kind=kind, note=note)


def erase_holder(session: Session, *, completion: Completion) -> None:
    """The holder's account is being deleted: names and credentials blanked, all revoked."""
    for certificate in _all_of(session, completion):
        certificate.holder_name = None
        certificate.credential = None
        certificate.key_id = None
        if certificate.revoked_at is None:
            revoke(session, certificate=certificate, kind=RevocationKind.ACCOUNT_DELETED)
    session.flush()


def may_reissue(certificate: Certificate, *, user: User) -> bool:
    """Whether ``user`` may have ``certificate`` re-issued under their name as it is now."""
    return (
        certificate.revoked_at is None
        and certificate.replaced_by_id is None
        and certificate.completion.user_id == user.id
        and bool(user.full_name.strip())
        and certificate.holder_name != user.full_name
    )


def reissue(session: Session, *, certificate: Certificate, user: User) -> Certificate:
    """A new certificate of the same completion under ``user``'s current name, with a new
    code; the old one is revoked as replaced and points to the new one."""
    # Read again under a row lock: two requests at once give one new certificate, not two.
    # OF certificate: PostgreSQL locks no row of the outer-joined (nullable) tables.
    session.refresh(certificate, with_for_update={"of": Certificate})
    if not may_reissue(certificate, user=user):
        raise NothingToReissue(certificate.code)
    new = Certificate(
        code=new_code(),
        completion=certificate.completion,
        issued_at=utcnow(),
        holder_name=user.full_name,
        course_title=certificate.course_title,
        tier=certificate.tier,
        language=certificate.language,
        completed_on=certificate.completed_on,
    )
    session.add(new)
    session.flush()
    revoke(session, certificate=certificate, kind=RevocationKind.REPLACED)
    certificate.replaced_by_id = new.id
    session.flush()
    return new


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


def certificates_of(
    session: Session, *, user: User, include_replaced: bool = False
) -> list[Certificate]:
    """The certificates of one account, newest completion first (the replaced ones, newest
    first after the current one, only when ``include_replaced``)."""
    query = (
        select(Certificate)
        .join(Completion, Certificate.completion_id == Completion.id)
        .where(Completion.user_id == user.id)
        .order_by(Completion.completed_at.desc(), Certificate.id.desc())
    )
    if not include_replaced:
        query = query.where(Certificate.replaced_by_id.is_(None))
    return list(session.scalars(query).unique())


def facts(session: Session, *, certificate: Certificate) -> CertificateFacts:
    """What ``certificate`` says and whether it is valid now."""
    return facts_of(session, certificates=[certificate])[0]


def facts_of(session: Session, *, certificates: Sequence[Certificate]) -> list[CertificateFacts]:
    """What each certificate says, in order, in a fixed number of queries."""
    completions = [c.completion for c in certificates]  # joined with the certificate
    course_ids = {c.course_id for c in completions}
    courses = (
        {c.id: c for c in session.scalars(select(Course).where(Course.id.in_(course_ids)))}
        if course_ids
        else {}
    )
    # An annulment recorded by statistics revokes even if nobody called us; the first stands.
    unrevoked = [c.completion_id for c in certificates if c.revoked_at is None]
    annulled: dict[int, datetime] = {}
    if unrevoked:
        for completion_id, created_at in session.execute(
            select(Correction.completion_id, Correction.created_at)
            .where(
                Correction.completion_id.in_(unrevoked), Correction.kind == CorrectionKind.ANNULLED
            )
            .order_by(Correction.id)
        ):
            annulled.setdefault(completion_id, created_at)
    found = []
    for certificate, completion in zip(certificates, completions, strict=True):
        kind, revoked_at = certificate.revoke_kind, certificate.revoked_at
        deleted = completion.user_id is None  # the account is gone, however it went
        if revoked_at is None and deleted:
            kind, revoked_at = RevocationKind.ACCOUNT_DELETED, completion.completed_at
        elif revoked_at is None and completion.id in annulled:
            kind, revoked_at = RevocationKind.COMPLETION_ANNULLED, annulled[completion.id]
        found.append(
            CertificateFacts(
                certificate=certificate,
                course=courses[completion.course_id],  # a foreign key
                valid=revoked_at is None,
                kind=RevocationKind(kind) if revoked_at is not None and kind else None,
                revoked_at=revoked_at,
                holder_name=None if deleted else certificate.holder_name,
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


def store_credential(session: Session, *, certificate: Certificate, token: str, kid: str) -> None:
    """Keep ``certificate``'s signed credential, so every download gives the same bytes."""
    certificate.credential = token
    certificate.key_id = kid
    session.flush()
