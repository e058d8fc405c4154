"""Calendar days as the platform counts them: in Asia/Almaty (UTC+5), from UTC timestamps.

Every feature that shows or counts a day uses this one rule (docs/architecture.md, "How the
counts are defined").
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

ALMATY = ZoneInfo("Asia/Almaty")


def almaty_day(moment: datetime) -> date:
    """The calendar day in Asia/Almaty of a UTC timestamp."""
    return moment.astimezone(ALMATY).date()
