"""The xAPI 1.0.3 feed: one statement per non-annulled completion, read from the facts.

The learner appears as a pseudonymous account: an HMAC of the person key under a key
held by the platform, so the feed cannot be traced back to anyone without that key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from datetime import UTC

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms.courses.models import Course
from lms.stats.models import Completion, PersonMerge
from lms.stats.services import annulled_ids

VERB = {"id": "http://adlnet.gov/expapi/verbs/completed",
        "display": {"en-US": "completed", "ru-RU": "завершил(а)", "kk-KZ": "аяқтады"}}
LOCALE_TAGS = {"en": "en-US", "ru": "ru-RU", "kk": "kk-KZ"}
EXT = "{base}/xapi/extensions/{name}"


def pseudonym(key: bytes, person_key: str) -> str:
    """The learner's pseudonymous account name."""
    return hmac.new(key, person_key.encode(), hashlib.sha256).hexdigest()


def statement_id(key: bytes, completion_id: int) -> str:
    """A UUID fixed by the completion and the platform's key."""
    namespace = uuid.UUID(bytes=hmac.new(key, b"xapi-statement", hashlib.sha256).digest()[:16],
                          version=4)
    return str(uuid.uuid5(namespace, str(completion_id)))


def statements(session: Session, *, key: bytes, base_url: str, since: int = 0,
               limit: int | None = None) -> Iterator[dict]:
    """Statements for completions with id > ``since``, in id order."""
    base = base_url.rstrip("/")
    courses = {c.id: c for c in session.scalars(select(Course))}
    person = func.coalesce(PersonMerge.keep_key, Completion.person_key)
    query = (select(Completion.id, person, Completion.course_id, Completion.tier,
                    Completion.region, Completion.language, Completion.completed_at)
             .outerjoin(PersonMerge, PersonMerge.drop_key == Completion.person_key)
             .where(Completion.id > since, Completion.id.not_in(annulled_ids()))
             .order_by(Completion.id))
    if limit is not None:
        query = query.limit(limit)
    names: dict[int, dict[str, str]] = {}
    for cid, person_key, course_id, tier, region, language, at in session.execute(
            query.execution_options(yield_per=5000)):
        course = courses[course_id]
        if course_id not in names:
            names[course_id] = {LOCALE_TAGS.get(lang, lang): text
                                for lang, text in course.title.items()} or {"en-US": course.slug}
        yield {
            "id": statement_id(key, cid),
            "version": "1.0.3",
            "actor": {"objectType": "Agent",
                      "account": {"homePage": base, "name": pseudonym(key, person_key)}},
            "verb": VERB,
            "object": {"objectType": "Activity", "id": f"{base}/courses/{course.slug}",
                       "definition": {"name": names[course_id],
                                      "type": "http://adlnet.gov/expapi/activities/course"}},
            "timestamp": at.astimezone(UTC).isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"),
            "context": {"language": LOCALE_TAGS.get(language, language), "extensions": {
                EXT.format(base=base, name="tier"): tier,
                EXT.format(base=base, name="region"): region,
                EXT.format(base=base, name="language"): language}},
            "_cursor": cid,
        }


def feed_chunks(session: Session, *, key: bytes, base_url: str, since: int = 0,
                limit: int | None = None, more_url: str = "") -> Iterator[str]:
    """An xAPI StatementResult ({"statements": [...], "more": ...}), streamed in pieces."""
    yield '{"statements": ['
    last, n = since, 0
    for statement in statements(session, key=key, base_url=base_url, since=since, limit=limit):
        last = statement.pop("_cursor")
        yield ("," if n else "") + json.dumps(statement, ensure_ascii=False)
        n += 1
    more = more_url.format(since=last) if limit is not None and n == limit else ""
    yield '], "more": ' + json.dumps(more) + "}"
