"""Quiz attempts: rounds of attempts, scoring on the server, and what a result may show.
Flushes; never commits.

``max_attempts`` attempts make a round. Once a round is used up, the next opens
``retry_hours`` after its last attempt, so nobody is locked out for good. With
``reveal = after-pass-or-last-attempt`` an attempt's per-question marks, explanations and
right answers are shown only once the learner has passed the quiz, or for the last attempt
of a round: trying answers one by one to find the right ones then costs a day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.accounts.models import User
from lms.courses.models import Item, ItemKind, Quiz, Reveal
from lms.db import utcnow
from lms.learning import scoring
from lms.learning.models import Enrollment, QuizAttempt
from lms.learning.services import NotEnrolled, WrongItemKind, record_item_result


class AttemptsExhausted(Exception):
    """Every attempt of the current round has been used; ``opens_at`` starts the next."""

    def __init__(self, key: str, opens_at: datetime | None) -> None:
        super().__init__(key)
        self.opens_at = opens_at


class StaleAttempt(Exception):
    """The submitted form does not belong to the next attempt (tampered, or sent twice)."""


@dataclass(frozen=True)
class Rounds:
    """Where a learner stands in a quiz's rounds of attempts."""

    # Attempts left in the current round (None: no limit).
    left: int | None
    # When the next round opens, while this one is used up.
    opens_at: datetime | None
    # Ids of attempts that were the last of their round.
    last_of_round: frozenset[int] = field(default_factory=frozenset)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=utcnow().tzinfo)


def rounds_of(quiz: Quiz, attempts: Sequence[QuizAttempt], *, now: datetime) -> Rounds:
    """The rounds ``attempts`` (oldest first) make under the quiz's settings, seen at ``now``."""
    limit = quiz.max_attempts
    if limit is None:
        return Rounds(left=None, opens_at=None)
    wait = timedelta(hours=quiz.retry_hours or 24)
    used, last, ends = 0, None, set()
    for attempt in attempts:
        at = _aware(attempt.submitted_at)
        if used >= limit and last is not None and at >= last + wait:
            used = 0
        used += 1
        last = at
        if used == limit:
            ends.add(attempt.id)
    if used >= limit and last is not None:
        if _aware(now) >= last + wait:
            return Rounds(left=limit, opens_at=None, last_of_round=frozenset(ends))
        return Rounds(left=0, opens_at=last + wait, last_of_round=frozenset(ends))
    return Rounds(left=limit - used, opens_at=None, last_of_round=frozenset(ends))


def attempts_of(session: Session, *, enrollment: Enrollment, item: Item) -> list[QuizAttempt]:
    """The enrolment's attempts at a quiz, oldest first."""
    return list(
        session.scalars(
            select(QuizAttempt)
            .where(QuizAttempt.enrollment_id == enrollment.id, QuizAttempt.item_id == item.id)
            .order_by(QuizAttempt.id)
        )
    )


def rounds(session: Session, *, enrollment: Enrollment, item: Item) -> Rounds:
    """The learner's rounds of attempts at a quiz, now."""
    assert item.quiz is not None
    return rounds_of(
        item.quiz, attempts_of(session, enrollment=enrollment, item=item), now=utcnow()
    )


def submit_quiz(
    session: Session,
    *,
    enrollment: Enrollment,
    item: Item,
    form: dict[str, list[str]],
    attempt_number: str | None,
    tokens: scoring.Tokens,
) -> QuizAttempt:
    """Score one attempt on the server and record it; bad input raises before anything is stored."""
    if item.kind != ItemKind.QUIZ or item.quiz is None:
        raise WrongItemKind(item.key)
    quiz = item.quiz
    # Checked before anything else, so a bad form changes nothing at all.
    answers = scoring.read_answers(quiz.questions, form, tokens=tokens)
    # Two tabs sending at once must not both pass the count below (PostgreSQL row lock).
    session.refresh(enrollment, with_for_update=True)
    earlier = attempts_of(session, enrollment=enrollment, item=item)
    if attempt_number != str(len(earlier) + 1):
        raise StaleAttempt(attempt_number)
    now = utcnow()
    state = rounds_of(quiz, earlier, now=now)
    if state.left == 0:
        raise AttemptsExhausted(item.key, state.opens_at)
    result = scoring.score(
        quiz.questions, answers, pass_mark=quiz.pass_mark, language=enrollment.language
    )
    attempt = QuizAttempt(
        enrollment_id=enrollment.id,
        item_id=item.id,
        answers=answers,
        results=result.per_question,
        score=result.score,
        max_score=result.max_score,
        passed=result.passed,
        submitted_at=now,
    )
    session.add(attempt)
    session.flush()
    record_item_result(
        session,
        enrollment=enrollment,
        item=item,
        score=result.score,
        max_score=result.max_score,
        passed=result.passed,
        at=now,
    )
    return attempt


def my_attempt(session: Session, *, user: User, item: Item, attempt_id: int) -> QuizAttempt:
    """Attempt ``attempt_id`` at ``item`` if it is ``user``'s own; else NotEnrolled."""
    attempt = session.scalar(
        select(QuizAttempt)
        .join(Enrollment, QuizAttempt.enrollment_id == Enrollment.id)
        .where(
            QuizAttempt.id == attempt_id,
            QuizAttempt.item_id == item.id,
            Enrollment.user_id == user.id,
        )
    )
    if attempt is None:
        raise NotEnrolled(attempt_id)
    return attempt


@dataclass(frozen=True)
class Shown:
    """What the result page of one attempt shows beyond its total."""

    marks: bool  # per question: right or not, points, explanation
    answers: bool  # the right answers


def shown(quiz: Quiz, attempt: QuizAttempt, state: Rounds, *, passed: bool) -> Shown:
    """What an attempt's result may show, by the quiz's ``reveal`` setting."""
    if quiz.reveal == Reveal.ALWAYS:
        # Explanations after every attempt; the right answers once no attempt is left.
        return Shown(marks=True, answers=state.left == 0)
    opened = passed or attempt.id in state.last_of_round
    return Shown(marks=opened, answers=opened)
