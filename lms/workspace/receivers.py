"""What the workspace does when other features change (see ``lms.events``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lms import events
from lms.workspace import services


@events.account_deleting.connect
def delete_drafts(user: Any, *, session: Session, **_: Any) -> None:
    """Drafts are personal data: erased with the account."""
    services.delete_drafts(session, user=user)


@events.notebook_uploaded.connect
def upload_is_a_revision(submission: Any, *, session: Session, **_: Any) -> None:
    """An uploaded notebook (the Jupyter path) becomes the head of the learner's draft."""
    services.record_upload(session, submission=submission)
