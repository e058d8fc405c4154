"""The xAPI 1.0.3 feed: one statement per completion, read from the facts, and one
voiding statement per annulment of a completion the reader may already hold.

The learner appears as a pseudonymous account: an HMAC of the person key under a key
held by the platform, so the feed cannot be traced back to anyone without that key.
Statements are immutable: the actor is derived from the person key the completion fact
was recorded with, never from the person it was later merged into (a merge would
otherwise serve the same statement id with another actor).

Two cursors: ``since`` (completion ids) and ``voided_since`` (correction ids). A page
first voids the completions up to ``since`` annulled after ``voided_since`` (up to the
last correction seen when the page began), then lists the live completions after
``since``; a completion annulled before it was ever listed is simply left out. The
``more`` link carries both cursors.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms.courses.models import Course
from lms.stats.models import Completion, Correction, CorrectionKind
from lms.stats.services import annulled_ids

VERB = {
    "id": "http://adlnet.gov/expapi/verbs/completed",
    "display": {"en-US": "completed", "ru-RU": "завершил(а)", "kk-KZ": "аяқтады"},
}
LOCALE_TAGS = {"en": "en-US", "ru": "ru-RU", "kk": "kk-KZ"}
VOIDED = {
    "id": "http://adlnet.gov/expapi/verbs/voided",
    "display": {"en-US": "voided", "ru-RU": "аннулировал(а)", "kk-KZ": "жойды"},
}
EXT = "{base}/xapi/extensions/{name}"
PLATFORM_ACCOUNT = "oqu-platform"  # the actor of voiding statements (an admin's annulment)


def pseudonym(key: bytes, person_key: str) -> str:
    """The learner's pseudonymous account name."""
    return hmac.new(key, person_key.encode(), hashlib.sha256).hexdigest()


def _namespace(key: bytes) -> uuid.UUID:
    return uuid.UUID(
        bytes=hmac.new(key, b"xapi-statement", hashlib.sha256).digest()[:16], version=4
    )


def statement_id(key: bytes, completion_id: int) -> str:
    """A UUID fixed by the completion and the platform's key."""
    return str(uuid.uuid5(_namespace(key), str(completion_id)))


def voiding_id(key: bytes, correction_id: int) -> str:
    """The UUID of the statement voiding a completion, fixed by the annulment."""
    return str(uuid.uuid5(_namespace(key), f"voided:{correction_id}"))


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def last_correction(session: Session) -> int:
    """The cursor of corrections already considered (taken before reading completions)."""
    return session.scalar(select(func.max(Correction.id))) or 0


def voidings(
    session: Session,
    *,
    key: bytes,
    base_url: str,
    since: int,
    voided_since: int,
    upto: int,
    limit: int | None = None,
) -> Iterator[dict]:
    """Voiding statements for completions with id <= ``since`` annulled in
    (``voided_since``, ``upto``], in correction order."""
    base = base_url.rstrip("/")
    query = (
        select(Correction.id, Correction.completion_id, Correction.created_at)
        .where(
            Correction.kind == CorrectionKind.ANNULLED,
            Correction.id > voided_since,
            Correction.id <= upto,
            Correction.completion_id <= since,
        )
        .order_by(Correction.id)
    )
    if limit is not None:
        query = query.limit(limit)
    for correction_id, completion_id, at in session.execute(query):
        yield {
            "id": voiding_id(key, correction_id),
            "version": "1.0.3",
            "actor": {
                "objectType": "Agent",
                "account": {"homePage": base, "name": PLATFORM_ACCOUNT},
            },
            "verb": VOIDED,
            "object": {"objectType": "StatementRef", "id": statement_id(key, completion_id)},
            "timestamp": _timestamp(at),
            "_voided_cursor": correction_id,
        }


def statements(
    session: Session, *, key: bytes, base_url: str, since: int = 0, limit: int | None = None
) -> Iterator[dict]:
    """Statements for completions with id > ``since``, in id order."""
    base = base_url.rstrip("/")
    courses = {c.id: c for c in session.scalars(select(Course))}
    query = (
        select(
            Completion.id,
            Completion.person_key,
            Completion.course_id,
            Completion.tier,
            Completion.region,
            Completion.language,
            Completion.completed_at,
        )
        .where(Completion.id > since, Completion.id.not_in(annulled_ids()))
        .order_by(Completion.id)
    )
    if limit is not None:
        query = query.limit(limit)
    names: dict[int, dict[str, str]] = {}
    for cid, person_key, course_id, tier, region, language, at in session.execute(
        query.execution_options(yield_per=5000)
    ):
        course = courses[course_id]
        if course_id not in names:
            names[course_id] = {
                LOCALE_TAGS.get(lang, lang): text for lang, text in course.title.items()
            } or {"en-US": course.slug}
        yield {
            "id": statement_id(key, cid),
            "version": "1.0.3",
            "actor": {
                "objectType": "Agent",
                "account": {"homePage": base, "name": pseudonym(key, person_key)},
            },
            "verb": VERB,
            "object": {
                "objectType": "Activity",
                "id": f"{base}/courses/{course.slug}",
                "definition": {
                    "name": names[course_id],
                    "type": "http://adlnet.gov/expapi/activities/course",
                },
            },
            "timestamp": _timestamp(at),
            "context": {
                "language": LOCALE_TAGS.get(language, language),
                "extensions": {
                    EXT.format(base=base, name="tier"): tier,
                    EXT.format(base=base, name="region"): region,
                    EXT.format(base=base, name="language"): language,
                },
            },
            "_cursor": cid,
        }


def feed_chunks(
    session: Session,
    *,
    key: bytes,
    base_url: str,
    since: int = 0,
    voided_since: int = 0,
    limit: int | None = None,
    more_url: str = "",
) -> Iterator[str]:
    """An xAPI StatementResult ({"statements": [...], "more": ...}), streamed in pieces.

    ``more_url`` has ``{since}`` and ``{voided_since}`` fields for the next page's cursors.
    """
    upto = last_correction(session)  # before the completions: no annulment slips between
    yield '{"statements": ['
    n = 0
    next_voided = upto
    for statement in voidings(
        session,
        key=key,
        base_url=base_url,
        since=since,
        voided_since=voided_since,
        upto=upto,
        limit=limit,
    ):
        cursor = statement.pop("_voided_cursor")
        yield ("," if n else "") + json.dumps(statement, ensure_ascii=False)
        n += 1
        if limit is not None and n == limit:
            next_voided = cursor  # the page is full: the rest of the voids come next time
    last = since
    if limit is None or n < limit:
        for statement in statements(
            session,
            key=key,
            base_url=base_url,
            since=since,
            limit=None if limit is None else limit - n,
        ):
            last = statement.pop("_cursor")
            yield ("," if n else "") + json.dumps(statement, ensure_ascii=False)
            n += 1
    full = limit is not None and n == limit
    more = more_url.format(since=last, voided_since=next_voided) if full else ""
    yield '], "more": ' + json.dumps(more) + "}"
