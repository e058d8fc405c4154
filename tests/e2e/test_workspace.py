"""The workspace in a real Chromium, in Kazakh, with a real runs worker and grading worker:
open the public course's notebook in the page, type the answers, run a cell and see its
output, reload and find the draft, submit and see the score; the same on a 360×740 phone;
axe-core finds nothing serious; two tabs on one draft lose nothing."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from sqlalchemy import select

from lms.accounts.models import User
from lms.db import db
from lms.workspace.models import Draft, DraftRevision
from tests.assignments.conftest import Worker, worker_env
from tests.e2e.conftest import log_in
from tests.workspace.test_runs_worker import start_runs_worker

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

COURSE = "ai-for-everyone"
NOTEBOOK = "counting-words"
SOURCE = (
    Path(__file__).resolve().parents[2] / "courses" / COURSE / "notebooks" / NOTEBOOK
    / f"{NOTEBOOK}.ipynb"
)  # fmt: skip
MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*\n", re.MULTILINE)
SAVED_KK = "Барлық өзгеріс сақталды"


def answers() -> dict[str, str]:
    source = nbformat.read(SOURCE, as_version=4)
    return {
        c.metadata["nbgrader"]["grade_id"]: MARKERS.sub("", c.source)
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }


@pytest.fixture(scope="module")
def runs_worker(
    live_app: Any, live_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Worker]:
    folder = tmp_path_factory.mktemp("e2e-runs")
    queue = f"runs-e2e-{uuid.uuid4().hex[:8]}"
    live_app.config["RUN_QUEUE"] = queue
    env = worker_env(
        live_database, str(live_app.config["BROKER_URL"]), folder,
        LMS_RUN_QUEUE=queue, LMS_GRADER_PRELOAD="", LMS_RUN_POOL_SIZE="2",
    )  # fmt: skip
    worker = start_runs_worker(env, folder, queue)
    yield worker
    worker.kill()


def enrol_and_open(page: Any, server: str, email: str) -> None:
    log_in(page, server, email)
    page.goto(f"{server}/courses/{COURSE}")
    page.select_option('select[name="language"]', "kk")
    with page.expect_navigation():
        page.click("form.enrol-form button[type=submit]")
    page.goto(f"{server}/courses/{COURSE}/assignments/{NOTEBOOK}")
    with page.expect_navigation():
        page.click("#solve-in-browser")
    page.locator(".ws-cell .cm-editor").first.wait_for()
    assert page.get_attribute("html", "lang") == "kk"


def type_into(page: Any, cell: Any, text: str) -> None:
    """Select the cell's code and paste ``text`` over it (as a learner pastes an answer)."""
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+A")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.evaluate("text => navigator.clipboard.writeText(text)", text)
    page.keyboard.press("Control+V")


def saved(page: Any) -> None:
    page.wait_for_function(
        "() => document.querySelector('#ws-save-status').dataset.state === 'saved'", timeout=15000
    )
    assert page.inner_text("#ws-save-status") == SAVED_KK


def solve_run_reload_submit(page: Any, server: str, email: str, violations: list[str]) -> None:
    page.on(
        "console",
        lambda m: (
            violations.append(f"{m.text} at {m.location}")
            if "Content Security Policy" in m.text
            else None
        ),
    )
    enrol_and_open(page, server, email)
    for grade_id, text in answers().items():
        type_into(page, page.locator(f'.ws-cell[data-grade-id="{grade_id}"]'), text)
    saved(page)

    # Run: an own cell under the first answer, with Shift+Enter; the cells above run first.
    first = page.locator('.ws-cell[data-grade-id="count_words"]')
    first.locator(".ws-add").click()
    mine = page.locator(".ws-cell.ws-own").first
    type_into(page, mine, 'print(count_words("Сәлем сәлем әлем"))')
    page.keyboard.press("Shift+Enter")
    output = mine.locator(".ws-output")
    output.locator("pre.ws-stream").wait_for(timeout=60000)
    assert "{'сәлем': 2, 'әлем': 1}" in output.inner_text()
    page.wait_for_function(
        "() => document.querySelector('#ws-announcer').textContent.includes('ұяшық орындалды')"
    )
    # The visible test of the first answer, with the Run button: passes silently.
    test = page.locator('.ws-cell[data-grade-id="test_count_words"]')
    test.locator(".ws-run").click()
    page.wait_for_function(
        "() => document.querySelector('.ws-cell[data-grade-id=\"test_count_words\"] .ws-count')"
        ".textContent.length > 0",
        timeout=60000,
    )
    assert "Error" not in test.locator(".ws-output").inner_text()
    saved(page)

    # Reload: the draft is there, own cell included, and the last Run's output.
    page.reload()
    page.locator(".ws-cell .cm-editor").first.wait_for()
    for grade_id, text in answers().items():
        shown = page.locator(f'.ws-cell[data-grade-id="{grade_id}"] .cm-content').inner_text()
        assert shown.split() == text.split()
    assert 'count_words("Сәлем сәлем әлем")' in page.locator(".ws-own .cm-content").inner_text()
    assert "'сәлем': 2" in page.locator(".ws-own .ws-output").inner_text()

    # Submit: the score and the per-cell feedback arrive in the page, without a reload.
    page.evaluate("window.__samePage = true")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#ws-submit")
    score = page.locator("#ws-result [data-score]")
    score.wait_for(timeout=60000)
    assert page.evaluate("window.__samePage === true")
    assert re.search(r"4\s*/\s*4", page.inner_text("#ws-result .submission-score"))
    assert page.locator("#ws-result table.feedback tbody tr").count() == 2


def test_a_learner_solves_runs_reloads_and_submits_in_kazakh(
    page: Any,
    live_app: Any,
    live_server: str,
    make_account: Any,
    grading_worker: Any,
    runs_worker: Any,
) -> None:
    violations: list[str] = []
    email = make_account(locale="kk")
    solve_run_reload_submit(page, live_server, email, violations)
    assert violations == []

    # axe-core (bundled by axe-playwright-python) on the workspace with outputs shown.
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    serious = [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []

    # Keyboard: Escape then Tab leaves an editor for the next control.
    page.locator(".ws-cell[data-role=answer] .cm-content").first.click()
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert page.evaluate("!document.activeElement.classList.contains('cm-content')")


def test_the_same_on_a_360_px_phone(
    browser: Any, live_server: str, make_account: Any, grading_worker: Any, runs_worker: Any
) -> None:
    context = browser.new_context(locale="kk-KZ", viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        violations: list[str] = []
        solve_run_reload_submit(page, live_server, make_account(locale="kk"), violations)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"the workspace is {width}px wide on a 360px screen"
        box = page.locator(".ws-own .ws-run").bounding_box()
        assert box["height"] >= 44  # a finger's target
    finally:
        context.close()


def test_two_tabs_on_one_draft_lose_nothing(
    browser: Any, live_app: Any, live_server: str, make_account: Any
) -> None:
    email = make_account(locale="kk")
    context = browser.new_context(locale="kk-KZ")
    try:
        first, second = context.new_page(), context.new_page()
        enrol_and_open(first, live_server, email)
        second.goto(first.url)
        second.locator(".ws-cell .cm-editor").first.wait_for()
        cell = '.ws-cell[data-grade-id="count_words"]'
        type_into(first, first.locator(cell), "# written in the first tab")
        saved(first)
        type_into(second, second.locator(cell), "# written in the second tab")
        second.locator("#ws-conflict").wait_for(state="visible")
        with live_app.app_context():
            session = db.session()
            user = session.scalar(select(User).where(User.email == email))
            kept = session.scalars(
                select(DraftRevision)
                .join(Draft, Draft.id == DraftRevision.draft_id)
                .where(Draft.user_id == user.id)
            ).all()
            texts = [
                next(c for c in r.cells if c.get("grade_id") == "count_words")["source"]
                for r in kept
            ]
            session.close()
        assert "# written in the first tab" in texts and "# written in the second tab" in texts
        second.click("#ws-keep-mine")
        saved(second)
        first.reload()
        first.locator(".ws-cell .cm-editor").first.wait_for()
        assert "second tab" in first.locator(f"{cell} .cm-content").inner_text()
    finally:
        context.close()
