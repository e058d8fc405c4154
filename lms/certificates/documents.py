"""The printed and signed forms of a certificate, worded in a chosen language.

Kept apart from the services because the wording needs the app's translations. The
document language is the learner's language of study (the course language chosen at
enrolment), unless another UI language is asked for. The facts themselves (the holder's
name, the course title in the language of study, the tier, the day) are the ones stored on
the certificate at issue, whatever the language of the wording around them.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from flask import Flask, current_app
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from lms.certificates import credential, pdf
from lms.certificates.keys import KeyStore
from lms.certificates.models import RevocationKind
from lms.certificates.services import CertificateFacts, store_credential
from lms.i18n import LANGUAGES

TIER_NAMES = {
    "public": _l("AI for everyone (public tier)"),
    "specialist": _l("AI for industry specialists (specialist tier)"),
}

REVOCATION_REASONS = {
    RevocationKind.ISSUED_IN_ERROR: _l("issued in error"),
    RevocationKind.FRAUD: _l("fraud"),
    RevocationKind.COMPLETION_ANNULLED: _l("completion annulled"),
    RevocationKind.ACCOUNT_DELETED: _l("holder's account deleted"),
    RevocationKind.REPLACED: _l("replaced by a newer certificate"),
}


def keystore(app: Flask | None = None) -> KeyStore:
    """The app's signing keys (CREDENTIAL_KEYS_DIR, else <instance>/credential_keys)."""
    app = app or current_app
    store = app.extensions.get("oqu.credential_keys")
    if store is None:
        folder = (
            app.config.get("CREDENTIAL_KEYS_DIR") or Path(app.instance_path) / "credential_keys"
        )
        store = app.extensions["oqu.credential_keys"] = KeyStore(Path(folder))
    return store


def base_url() -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/")


def subject_key(app: Flask | None = None) -> bytes:
    """The key of the holders' pseudonyms in credentials, derived from ``SECRET_KEY``."""
    secret = str((app or current_app).config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"oqu.credential-subject-key", hashlib.sha256).digest()


def document_language(facts: CertificateFacts, requested: str | None = None) -> str:
    """``requested`` if it is a UI language, else the language of study, else Kazakh."""
    for candidate in (requested, facts.language):
        if candidate in LANGUAGES:
            return str(candidate)
    return "kk"


def tier_name(tier: str) -> str:
    return str(TIER_NAMES.get(tier, tier))


def reason_text(kind: str | None) -> str:
    """Why a certificate is revoked, translated (never the admin's note)."""
    if kind is None:
        return ""
    return str(REVOCATION_REASONS.get(RevocationKind(kind), kind))


def sheet(facts: CertificateFacts, language: str) -> pdf.Sheet:
    """What the PDF prints, in ``language``."""
    url = credential.verify_url(base_url(), facts.code)
    with force_locale(language):
        return pdf.Sheet(
            language=language,
            heading=_("Certificate of completion"),
            certifies=_("This certifies that"),
            holder_name=facts.holder_name or "",
            completed=_("has completed the course"),
            course_title=facts.course_title,
            tier_line=_("Tier: %(tier)s", tier=tier_name(facts.tier)),
            date_line=_(
                "Completed on %(date)s", date=format_date(facts.completed_on, format="long")
            ),
            code_line=_("Certificate code: %(code)s", code=facts.code),
            verify_line=_("Check that this certificate is valid at:"),
            verify_url=url,
            issuer="Oqu",
            issuer_tagline=_("Kazakhstan's national platform for AI skills"),
            completed_on=facts.completed_on,
        )


def claims(facts: CertificateFacts, language: str) -> credential.Claims:
    """What the signed credential states, in ``language``."""
    with force_locale(language):
        title = facts.course_title
        return credential.Claims(
            base_url=base_url(),
            code=facts.code,
            holder_name=facts.holder_name or "",
            subject_id=credential.subject_id(subject_key(), facts.code),
            course_slug=facts.course.slug,
            course_title=title,
            tier=facts.tier,
            language=language,
            completed_on=facts.completed_on,
            credential_name=_("Certificate of completion: %(course)s", course=title),
            description=_(
                "Completion of the course “%(course)s” on Oqu, Kazakhstan's "
                "national platform for AI skills.",
                course=title,
            ),
            criteria=_("Every required lesson, quiz and notebook assignment of the course passed."),
        )


def render_pdf(facts: CertificateFacts, language: str) -> bytes:
    return pdf.render(sheet(facts, language))


def stored_credential(session: Session, facts: CertificateFacts) -> str:
    """The certificate's credential as first signed, from its stored facts and in the
    language of study; signed again (and kept, flushed) only when its key is no longer
    published. The key is chosen here, never by a view."""
    certificate = facts.certificate
    store = keystore()
    if certificate.credential and certificate.key_id and store.get(certificate.key_id):
        return certificate.credential
    key = store.newest()
    token = credential.sign(claims(facts, document_language(facts)), key)
    store_credential(session, certificate=certificate, token=token, kid=key.kid)
    return token
