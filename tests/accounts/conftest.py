"""Fixtures for the accounts tests: valid form data, valid IINs, compiled catalogues."""

from __future__ import annotations

import random
import re
import uuid
from datetime import date
from typing import Any

import pytest

from lms.i18n import compile_catalogues
from lms.reference import iin_is_valid

NEW_PASSWORD = "a much longer new password"


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogues() -> None:
    # Pages are checked in Kazakh and Russian: the .mo files must match the .po files.
    compile_catalogues()


def valid_iin(first_eleven: str) -> str:
    """``first_eleven`` plus the check digit that makes a valid IIN."""
    for digit in "0123456789":
        if iin_is_valid(first_eleven + digit):
            return first_eleven + digit
    raise ValueError(f"no check digit works for {first_eleven}")


def random_iin() -> str:
    """A valid IIN not used by any other test."""
    while True:
        try:
            return valid_iin("".join(random.choice("0123456789") for _ in range(11)))
        except ValueError:
            continue


def wrong_check_digit(iin: str) -> str:
    return iin[:11] + str((int(iin[11]) + 1) % 10)


def registration(**changes: Any) -> dict[str, str]:
    """A complete, valid registration form; ``changes`` override or (None) drop fields."""
    data: dict[str, Any] = {
        # Unique per call: on SQLite a view's commit outlives the test's rollback.
        "email": f"Aigerim.{uuid.uuid4().hex[:10]}@Example.kz",
        "password": "steppe wind and apples",
        "confirm": "steppe wind and apples",
        "full_name": "Айгерім Нұрланқызы",
        "region": "KZ-75",
        "sector": "J",
        "birth_year": str(date.today().year - 30),
        "sex": "female",
        "locale": "kk",
        "iin": "",
        "consent": "y",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def field_errors(html: str) -> list[str]:
    return re.findall(r'class="field-error"[^>]*>([^<]*)<', html)


def logged_mail_link(caplog: pytest.LogCaptureFixture) -> str:
    """The reset link of the last message written to the ``lms.mail`` log."""
    texts = [r.getMessage() for r in caplog.records if r.name == "lms.mail"]
    assert texts, "no mail was logged"
    links = re.findall(r"https?://\S+/password/reset/\S+", texts[-1])
    assert links, texts[-1]
    return links[-1]
