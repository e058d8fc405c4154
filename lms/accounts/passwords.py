"""Which passwords are too easy to guess: zxcvbn's list of the 30,000 most common
passwords and its pattern matching (repeats, sequences, keyboard runs, dates), all shipped
inside the package: no network call."""

from __future__ import annotations

from functools import cache

from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

# zxcvbn's scores: 0 and 1 are "guessable within a million tries"; 2 and up are not.
MIN_SCORE = 2
# The matcher's cost grows with the length; beyond this many characters only a prefix is
# judged (a long password is refused only when its beginning alone is guessable).
JUDGED_CHARACTERS = 64


@cache
def _common() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def is_common(password: str) -> bool:
    """True for a password among the common ones, or made of a guessable pattern."""
    if password.lower() in _common():
        return True
    return int(zxcvbn(password[:JUDGED_CHARACTERS])["score"]) < MIN_SCORE
