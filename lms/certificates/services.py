"""Certificates. (Placeholder interface; the certificates feature fills it in.)"""

from __future__ import annotations

from sqlalchemy.orm import Session

from lms.stats.models import Completion


def issue(session: Session, *, completion: Completion) -> None:
    """Issue the certificate of ``completion``, in the completion's transaction."""


def revoke_for_completion(session: Session, *, completion: Completion, reason: str) -> None:
    """Revoke the certificate of an annulled completion."""
