"""What the statistics feature does when other features change (see ``lms.events``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lms import events
from lms.stats import services


@events.persons_merged.connect
def merge_persons(keep_key: str, *, session: Session, drop_key: str, **_: Any) -> None:
    """Two accounts proved to be one person: count that person once."""
    services.merge_persons(session, keep_key=keep_key, drop_key=drop_key)
