"""An instructor builds a course in the studio in a real Chromium: course settings, a module,
a lesson with a Markdown preview, a quiz question, an nbgrader notebook (released, and a
broken one refused), publishing; the course then appears in the public catalogue."""

from __future__ import annotations

import re
import uuid
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

TITLE_EN = "Sensors and Models"
TITLE_RU = "Датчики и модели"


def _meta(
    grade_id: str, *, grade: bool = False, solution: bool = False, points: int | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": not solution,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook(*, points: int | None) -> bytes:
    """One solution cell and one graded test cell (with ``points``, or none: invalid)."""
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Doubling\n\nWrite `double(x)`.", metadata=_meta("intro")),
            new_code_cell(
                "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
                metadata=_meta("answer", solution=True),
            ),
            new_code_cell(
                "assert double(2) == 4", metadata=_meta("test-double", grade=True, points=points)
            ),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    return nbformat.writes(nb).encode()


def add_item(page: Any, key: str, kind: str, title: str) -> None:
    form = page.locator("main form[action$='/items']")
    form.locator("input[name=key]").fill(key)
    form.locator("select[name=kind]").select_option(kind)
    form.locator("select[name=module]").select_option(label="basics: Basics")
    form.locator("input[name=title_en]").fill(title)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def upload_notebook(page: Any, data: bytes) -> None:
    form = page.locator("main form[action$='/notebook']")
    form.locator("input[name=notebook]").set_input_files(
        files=[{"name": "doubling.ipynb", "mimeType": "application/x-ipynb+json", "buffer": data}]
    )
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def test_instructor_builds_and_publishes_a_course(
    page: Any, browser: Any, live_server: str, make_account: Any
) -> None:
    slug = f"sensors-{uuid.uuid4().hex[:6]}"
    log_in(page, live_server, make_account(roles=("instructor",), locale="en"))

    # The course: slug, tier, two languages, titles and summaries in both.
    page.goto(f"{live_server}/studio/new")
    page.fill("input[name=slug]", slug)
    page.select_option("select[name=tier]", "specialist")
    page.select_option("select[name=first_language]", "en")
    page.check("input[name=other_languages][value=ru]")
    page.fill("input[name=title_en]", TITLE_EN)
    page.fill("input[name=title_ru]", TITLE_RU)
    page.fill("textarea[name=summary_en]", "Reading sensors, fitting models.")
    page.fill("textarea[name=summary_ru]", "Читаем датчики, обучаем модели.")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.url.endswith(f"/studio/courses/{slug}"), page.inner_text("main")
    assert page.inner_text("main h1") == TITLE_EN
    assert "Draft" in page.inner_text(".studio-actions")

    # A module, with its title in both languages.
    module_form = page.locator("main form[action$='/modules']")
    module_form.locator("input[name=key]").fill("basics")
    module_form.locator("input[name=title_en]").fill("Basics")
    module_form.locator("input[name=title_ru]").fill("Основы")
    with page.expect_navigation():
        module_form.locator("button[type=submit]").click()
    assert "Basics" in page.inner_text("#module-basics h2")
    assert page.locator("section.studio-module").count() == 2  # the course's first + ours

    # A lesson: the preview renders the Markdown as learners will see it.
    add_item(page, "reading-sensors", "lesson", "Reading sensors")
    assert page.url.endswith(f"/studio/courses/{slug}/lessons/reading-sensors")
    markdown = (
        "## Why sensors drift\n\nCalibrate **every week**.\n\n"
        "- temperature\n- pressure\n\n<script>window.__xss = 1</script>"
    )
    page.fill("textarea[name=body_en]", markdown)
    page.fill("textarea[name=body_ru]", "## Почему датчики дрейфуют\n\nКалибруйте.")
    with page.expect_navigation():
        page.click("main form button[value=preview]")
    preview = page.locator(".studio-preview article.lesson[lang=en]")
    assert preview.locator("h2").inner_text() == "Why sensors drift"
    assert preview.locator("strong").inner_text() == "every week"
    assert preview.locator("li").all_inner_texts() == ["temperature", "pressure"]
    assert "**" not in preview.inner_text() and "##" not in preview.inner_text()
    assert preview.locator("script").count() == 0
    assert page.evaluate("window.__xss") is None
    assert page.locator(".studio-preview article.lesson[lang=ru] h2").inner_text() == (
        "Почему датчики дрейфуют"
    )
    with page.expect_navigation():
        page.click("main form button[value=save]")
    assert page.input_value("textarea[name=body_en]") == markdown

    # A quiz with one single-choice question.
    with page.expect_navigation():
        page.click(f"a[href='/studio/courses/{slug}']")
    add_item(page, "sensor-check", "quiz", "Sensor check")
    with page.expect_navigation():
        page.click("main a.button[href$='kind=single']")
    page.fill("textarea[name=prompt_en]", "What does calibration fix?")
    page.fill("input[name='options-0-text_en']", "Drift")
    page.check("input[name='options-0-correct']")
    page.fill("input[name='options-1-text_en']", "Rain")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.url.endswith(f"/studio/courses/{slug}/quizzes/sensor-check"), page.inner_text(
        "main"
    )
    assert "What does calibration fix?" in page.inner_text("main ol.studio-items")

    # A notebook: the released student version is shown, without the solution.
    with page.expect_navigation():
        page.click(f"a[href='/studio/courses/{slug}']")
    add_item(page, "doubling", "assignment", "Notebook: doubling")
    upload_notebook(page, source_notebook(points=2))
    assert "checked and released" in page.inner_text(".flashes")
    assert re.search(r"Auto-graded points: 2 of 2 in all", page.inner_text("main"))
    student = page.locator("#student-version + ol.notebook-cells")
    assert student.locator("li").count() == 3
    released = student.inner_text()
    assert "def double(x):" in released and "YOUR CODE HERE" in released
    assert "return 2 * x" not in released and "BEGIN SOLUTION" not in released
    assert "test-double" in released and "2 points" in released

    # A broken notebook (a grade cell without points): a clear error, the released one kept.
    upload_notebook(page, source_notebook(points=None).replace(b"double", b"triple"))
    alert = page.locator("main .error-summary[role=alert]")
    assert "not stored" in alert.inner_text()
    assert re.search(r"test-triple.*points", alert.inner_text()), alert.inner_text()
    kept = page.locator("#student-version + ol.notebook-cells").inner_text()
    assert "def double(x):" in kept and "triple" not in kept

    # Before publishing, the public catalogue does not list the draft.
    visitor = browser.new_context(locale="ru-RU")
    try:
        public = visitor.new_page()
        public.set_default_timeout(15000)
        public.goto(f"{live_server}/courses")
        assert TITLE_RU not in public.inner_text("main")

        with page.expect_navigation():
            page.click(f"a[href='/studio/courses/{slug}']")
        with page.expect_navigation():
            page.click(f"form[action='/studio/courses/{slug}/publish'] button")
        assert "Published" in page.inner_text(".studio-actions"), page.inner_text("main")
        assert page.locator(".badge:has-text('Not ready for learners')").count() == 0

        # Anyone now finds it in the catalogue, in the visitor's language (Russian).
        public.goto(f"{live_server}/courses")
        public.fill('input[type="search"]', "Датчики")
        with public.expect_navigation():
            public.keyboard.press("Enter")
        with public.expect_navigation():
            public.click(f"text={TITLE_RU}")
        assert public.url.endswith(f"/courses/{slug}")
        assert public.inner_text("main h1") == TITLE_RU
        contents = public.locator("section[aria-labelledby=contents]")
        assert contents.locator("h3").all_inner_texts() == ["Основы"]  # empty modules hidden
        assert contents.locator("ol.outline li").count() == 3
    finally:
        visitor.close()
