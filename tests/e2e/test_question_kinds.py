"""Ordering and matching questions in a real Chromium, in Kazakh, with the keyboard only:
Tab to reach each field, arrow keys and Space to choose, Enter to send. The example
package's quiz (an authors' draft) is published for this test's own database."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lms.courses.models import Course
from lms.db import db
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

EXAMPLE = Path(__file__).resolve().parents[2] / "courses" / "example-package"
QUIZ = tomllib.loads((EXAMPLE / "quizzes" / "basics-quiz.toml").read_text("utf-8"))


def question(kind: str) -> dict[str, Any]:
    return next(q for q in QUIZ["questions"] if q["kind"] == kind)


def tab_to(page: Any, selector: str, *, limit: int = 120) -> None:
    """Press Tab until the element matching ``selector`` has the focus."""
    for _ in range(limit):
        if page.evaluate(
            "s => document.activeElement && document.activeElement.matches(s)", selector
        ):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def choose_by_keyboard(page: Any, selector: str, text: str) -> None:
    """With the select ``selector`` focused, move with arrow keys to the option ``text``."""
    tab_to(page, selector)
    options = page.eval_on_selector(selector, "s => Array.from(s.options).map(o => o.text.trim())")
    current = page.eval_on_selector(selector, "s => s.selectedIndex")
    target = options.index(text)
    key = "ArrowDown" if target >= current else "ArrowUp"
    for _ in range(abs(target - current)):
        page.keyboard.press(key)
    assert page.eval_on_selector(selector, "s => s.options[s.selectedIndex].text.trim()") == text


@pytest.fixture
def published_example(live_app: Any) -> None:
    with live_app.app_context():
        session = db.session()
        course = session.scalar(select(Course).where(Course.slug == "example-package"))
        course.published = True
        session.commit()


def test_ordering_and_matching_by_keyboard_in_kazakh(
    page: Any, live_server: str, make_account: Any, published_example: None
) -> None:
    log_in(page, live_server, make_account(locale="kk"))
    page.goto(f"{live_server}/courses/example-package")
    tab_to(page, "form.enrol-form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.goto(f"{live_server}/courses/example-package/items/basics-quiz")
    assert page.get_attribute("html", "lang") == "kk"

    # Single choice: Tab into the radio group, arrows move the choice.
    single = question("single")
    right = next(o for o in single["options"] if o.get("correct"))
    radio = f'input[name="q-{single["id"]}"]'
    tab_to(page, radio)
    page.keyboard.press("Space")
    for _ in range(10):
        if page.evaluate("() => document.activeElement.value") == right["id"]:
            break
        page.keyboard.press("ArrowDown")
    assert page.is_checked(f'{radio}[value="{right["id"]}"]')
    # Multiple choice: Space ticks each correct box.
    multiple = question("multiple")
    for option in multiple["options"]:
        if option.get("correct"):
            tab_to(page, f'input[name="q-{multiple["id"]}"][value="{option["id"]}"]')
            page.keyboard.press("Space")
    # A number with the decimal comma, and Kazakh typed without Kazakh letters.
    tab_to(page, f'input[name="q-{question("numeric")["id"]}"]')
    page.keyboard.type("7,5")
    tab_to(page, f'input[name="q-{question("text")["id"]}"]')
    page.keyboard.type("машиналык окыту")

    # Ordering: each step gets its place from its own select box; the order is read out.
    ordering = question("ordering")
    box = f"fieldset#{page.eval_on_selector('[data-ordering]', 'e => e.id')}"
    assert page.get_attribute(f"{box} [data-ordering-summary]", "aria-live") == "polite"
    for place, step in enumerate(ordering["items"], start=1):
        label = page.locator(f"{box} label", has_text=step["text"]["kk"])
        select_id = label.get_attribute("for")
        choose_by_keyboard(page, f"#{select_id}", str(place))
    summary = page.inner_text(f"{box} [data-ordering-summary]")
    assert summary.startswith("Сіз таңдаған рет:")
    assert summary.index(ordering["items"][0]["text"]["kk"]) < summary.index(
        ordering["items"][-1]["text"]["kk"]
    )

    # Matching: for each left item, its partner from the shuffled right column.
    matching = question("matching")
    fieldset = "fieldset.matching"
    for pair in matching["pairs"]:
        label = page.locator(f"{fieldset} label", has_text=pair["left"]["kk"]).first
        choose_by_keyboard(page, f"#{label.get_attribute('for')}", pair["right"]["kk"])

    tab_to(page, "form.quiz button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    result = page.inner_text("main")
    assert "Өтті" in result, result  # Passed
    assert "10 ұпайдан 10." in result, result  # 10 of 10 points
    # A pass opens the marks and explanations (the quiz reveals them only then).
    assert ordering["explanation"]["kk"] in result
    assert matching["explanation"]["kk"] in result
