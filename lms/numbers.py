"""One rule for reading a number a person typed, used by the studio and the learner's page.

- Spaces (also no-break and narrow no-break spaces) group thousands: "5 000 000".
- A comma groups thousands only in two or more groups of three ("5,000,000") or beside a
  decimal point ("5,000.5"); otherwise it is the decimal comma ("0,75", "3,5").
- "5,000" (one comma followed by exactly three digits, no point, a first group of one to
  three digits not starting with 0) could be either: ``AmbiguousNumber``, so the person
  types it again without the doubt ("5000" or "5,0").
- A point is always the decimal point. An exponent is allowed ("1.5e-3"); "−" (U+2212)
  counts as a minus sign.

The rule is documented for authors in courses/README.md.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DecimalField

MAX_LENGTH = 40
SPACES = "\u0020\u00a0\u202f\u2007"
_SIGN = r"[+-]?"
_EXPONENT = r"(?:[eE][+-]?\d{1,3})?"
# Digits grouped by spaces: the groups after the first have three digits.
_SPACED = re.compile(rf"{_SIGN}\d{{1,3}}(?:[{SPACES}]\d{{3}})+(?:[.,]\d+)?{_EXPONENT}")
# Thousands grouped by commas: two or more groups of three, or one beside a decimal point.
_COMMA_GROUPS = re.compile(
    rf"{_SIGN}\d{{1,3}}(?:(?:,\d{{3}}){{2,}}(?:\.\d+)?|,\d{{3}}\.\d+){_EXPONENT}"
)
_AMBIGUOUS = re.compile(rf"{_SIGN}[1-9]\d{{0,2}},\d{{3}}")
# No grouping: one decimal point or comma.
_PLAIN = re.compile(rf"{_SIGN}(?:\d+(?:[.,]\d*)?|[.,]\d+){_EXPONENT}")


INVALID = _l("Enter a number, such as 0,75, 0.75 or 5 000 000.")
AMBIGUOUS = _l(
    "“5,000” could be five thousand or five: type 5000 (or 5 000) for five thousand, "
    "5,0 or 5.0 for five."
)


class NotANumber(ValueError):
    """The text is not a number under the rule."""


class AmbiguousNumber(ValueError):
    """The text reads as two different numbers ("5,000": five thousand, or five)."""


def read_number(text: str) -> Decimal:
    """The number ``text`` stands for; ``NotANumber`` or ``AmbiguousNumber`` otherwise."""
    cleaned = text.strip().replace("\u2212", "-")
    if not cleaned or len(cleaned) > MAX_LENGTH:
        raise NotANumber(text)
    if _AMBIGUOUS.fullmatch(cleaned):
        raise AmbiguousNumber(text)
    if _SPACED.fullmatch(cleaned):
        digits = re.sub(f"[{SPACES}]", "", cleaned).replace(",", ".")
    elif _COMMA_GROUPS.fullmatch(cleaned):
        digits = cleaned.replace(",", "")
    elif _PLAIN.fullmatch(cleaned):
        digits = cleaned.replace(",", ".")
    else:
        raise NotANumber(text)
    try:
        value = Decimal(digits)
    except InvalidOperation as error:
        raise NotANumber(text) from error
    if not value.is_finite():
        raise NotANumber(text)
    return value


class NumberField(DecimalField):
    """A WTForms decimal field that reads its input by ``read_number``."""

    data: Any

    def __init__(
        self, *args: Any, invalid_message: Any = None, ambiguous_message: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.invalid_message = invalid_message
        self.ambiguous_message = ambiguous_message

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            self.data = read_number(str(valuelist[0]))
        except AmbiguousNumber as error:
            self.data = None
            raise ValueError(self.ambiguous_message or AMBIGUOUS) from error
        except NotANumber as error:
            self.data = None
            raise ValueError(self.invalid_message or INVALID) from error
