"""What the accounts feature does when the rest of the app signals (see ``lms.events``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lms import events
from lms.accounts import services


@events.language_chosen.connect
def remember_locale(user: Any, *, session: Session, code: str, **_: Any) -> None:
    """The language a signed-in user picks in the header is kept on the account."""
    services.set_locale(session, user=user, locale=code)
