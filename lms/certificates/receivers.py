"""What the certificates feature does when other features change (see ``lms.events``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lms import events
from lms.certificates import services
from lms.certificates.models import RevocationKind
from lms.stats import services as stats


@events.account_deleting.connect
def revoke_for_deleted_account(user: Any, *, session: Session, **_: Any) -> None:
    """A deleted holder's certificates verify as revoked; their names and credentials go."""
    for completion in stats.completions_of(session, user=user):
        services.erase_holder(session, completion=completion)


@events.completion_recorded.connect
def issue_for_completion(completion: Any, *, session: Session, **_: Any) -> None:
    """Every completion gets its certificate."""
    services.issue(session, completion=completion)


@events.completion_annulled.connect
def revoke_for_annulled_completion(
    completion: Any, *, session: Session, reason: str, **_: Any
) -> None:
    """An annulled completion's certificates are revoked; the admin's reason stays internal."""
    services.revoke_for_completion(
        session, completion=completion, kind=RevocationKind.COMPLETION_ANNULLED, note=reason
    )
