"""A notebook assignment of the specialist course in a real Chromium, graded by a real worker:
download the student version, upload a file that is not a notebook (refused, nothing kept),
upload the solved notebook and watch the score and per-cell feedback arrive without a reload;
hidden tests stay hidden."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
from sqlalchemy import func, select

from lms.assignments.models import Submission
from lms.db import db
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

COURSE = Path(__file__).resolve().parents[2] / "courses" / "applied-ml-for-industry"
NOTEBOOK = "screening-classifier"  # a notebook with hidden tests and outside checks
SOURCE = COURSE / "notebooks" / NOTEBOOK / f"{NOTEBOOK}.ipynb"
MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*\n", re.MULTILINE)


def nbgrader(cell: Any) -> dict[str, Any]:
    return cell.metadata.get("nbgrader", {})


def reference_answers() -> dict[str, str]:
    """The source notebook's solution cells as a learner would type them (no markers)."""
    source = nbformat.read(SOURCE, as_version=4)
    return {
        nbgrader(c)["grade_id"]: MARKERS.sub("", c.source)
        for c in source.cells
        if nbgrader(c).get("solution")
    }


def graded_cells() -> dict[str, tuple[int, bool]]:
    """grade_id -> (points, has hidden tests) of the source's graded cells."""
    source = nbformat.read(SOURCE, as_version=4)
    return {
        nbgrader(c)["grade_id"]: (int(nbgrader(c)["points"]), "BEGIN HIDDEN TESTS" in c.source)
        for c in source.cells
        if nbgrader(c).get("grade")
    }


def solution_lines() -> list[str]:
    """Distinctive lines of the source's solutions (what the student version must not hold)."""
    source = nbformat.read(SOURCE, as_version=4)
    lines, elsewhere = [], set()
    for cell in source.cells:
        inside = False
        for line in cell.source.splitlines():
            if "BEGIN SOLUTION" in line:
                inside = True
            elif "END SOLUTION" in line:
                inside = False
            elif inside and len(line.strip()) >= 25:
                lines.append(line.strip())
            elif not inside:
                elsewhere.add(line.strip())
    # A line the instructions also quote (the task text names it) is no leak.
    outside = "\n".join(elsewhere)
    lines = [line for line in lines if line not in outside]
    assert lines
    return lines


def hidden_test_lines() -> list[str]:
    """Lines of the source's hidden tests (asserts only: what must never reach a learner)."""
    source = nbformat.read(SOURCE, as_version=4)
    lines = []
    for cell in source.cells:
        inside = False
        for line in cell.source.splitlines():
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif inside and line.strip().startswith("assert"):
                lines.append(line.strip())
    assert lines
    return lines


def stored_submissions(app: Any) -> int:
    with app.app_context():
        return int(db.session().scalar(select(func.count()).select_from(Submission)) or 0)


def test_learner_solves_a_notebook_and_sees_the_score_live(
    page: Any,
    live_app: Any,
    live_server: str,
    make_account: Any,
    grading_worker: Any,
    tmp_path: Path,
) -> None:
    email = make_account(locale="en", sector="C")
    log_in(page, live_server, email)

    # Enrol in the specialist course and open its first notebook from the course page.
    page.goto(f"{live_server}/courses/applied-ml-for-industry")
    page.select_option('select[name="language"]', "en")
    with page.expect_navigation():
        page.click("form.enrol-form button[type=submit]")
    with page.expect_navigation():
        page.click("text=Notebook: a screening classifier and its threshold")
    assert page.url.endswith(f"/courses/applied-ml-for-industry/assignments/{NOTEBOOK}")
    attempts_hint = page.inner_text("#notebook-hint")
    assert "10 attempts left" in attempts_hint

    # Download the student version in the browser: a valid notebook, answers and hidden
    # tests taken out, the exercise cells still there.
    with page.expect_download() as download_info:
        page.click(f'a[download][href$="/{NOTEBOOK}/student.ipynb"]')
    download = download_info.value
    assert download.suggested_filename == f"{NOTEBOOK}.ipynb"
    text = Path(download.path()).read_text("utf-8")
    student = nbformat.reads(text, as_version=4)
    nbformat.validate(student)
    answers = reference_answers()
    solution_cells = [c for c in student.cells if nbgrader(c).get("solution")]
    assert {nbgrader(c)["grade_id"] for c in solution_cells} == set(answers)
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    assert not any(line in text for line in solution_lines())
    assert not any(line in text for line in hidden_test_lines())

    # A file that is not JSON: a clear error on the same page, and nothing was stored.
    page.set_input_files(
        'input[name="notebook"]',
        files=[
            {
                "name": f"{NOTEBOOK}.ipynb",
                "mimeType": "application/x-ipynb+json",
                "buffer": b"print('this is my homework')\n",
            }
        ],
    )
    page.click("main form[enctype] button[type=submit]")
    error = page.locator("#upload-error")
    error.wait_for()
    assert "not a valid Jupyter notebook" in error.inner_text()
    assert "Nothing was saved" in error.inner_text()
    assert page.locator("text=No submissions yet.").count() == 1
    assert page.inner_text("#notebook-hint") == attempts_hint
    assert stored_submissions(live_app) == 0

    # The downloaded notebook with the answers typed in: uploaded, then graded while the
    # learner watches the same page.
    for cell in solution_cells:
        cell.source = answers[nbgrader(cell)["grade_id"]]
    solved = tmp_path / f"{NOTEBOOK}.ipynb"
    nbformat.write(student, solved)
    page.goto(f"{live_server}/courses/applied-ml-for-industry/assignments/{NOTEBOOK}")
    page.set_input_files('input[name="notebook"]', str(solved))
    with page.expect_navigation(url=re.compile(r"/submissions/\d+$")):
        page.click("main form[enctype] button[type=submit]")
    status = page.locator("#submission-status")
    assert status.get_attribute("data-poll-url"), "graded before the page even loaded?"
    assert page.locator("[data-status]").get_attribute("data-status") in ("queued", "running")
    page.evaluate("window.__samePage = true")

    score = page.locator("#submission-status [data-score]")
    score.wait_for(timeout=60000)
    final = page.locator("#submission-status [data-status]").get_attribute("data-status")
    assert final == "graded", page.inner_text("#submission-status")
    assert page.evaluate("window.__samePage === true"), "the page was reloaded"
    assert page.locator("#submission-status").get_attribute("data-poll-url") is None
    cells = graded_cells()
    total = sum(points for points, _ in cells.values())
    assert re.search(rf"Score:\s*{total}\s*/\s*{total}", page.inner_text(".submission-score"))
    assert "Passed" in page.inner_text(".submission-score")

    # Per-cell feedback: every graded cell with its points; hidden tests' code not shown.
    rows = page.locator("table.feedback tbody tr")
    assert rows.count() == len(cells)
    feedback = {
        rows.nth(i).locator("th").inner_text(): rows.nth(i).locator("td")
        for i in range(rows.count())
    }
    assert set(feedback) == set(cells)
    for grade_id, row in feedback.items():
        points, hidden = cells[grade_id]
        assert row.nth(0).inner_text().strip() == f"{points} / {points}"
        assert row.nth(1).inner_text().strip() == "Passed"
        shown = "Hidden tests: only the result is shown." in row.nth(2).inner_text()
        assert shown == hidden, grade_id
    html = page.content()
    assert "HIDDEN TESTS" not in html
    assert not any(line in html for line in hidden_test_lines())

    # The assignment page lists the graded submission.
    with page.expect_navigation():
        page.click(f'a[href$="/assignments/{NOTEBOOK}"]')
    # The submissions table (the notebook's own description may hold tables too).
    listed = page.locator("main h2 + .table-scroll table tbody tr")
    assert listed.count() == 1
    assert re.search(rf"{total}\s*/\s*{total}\s*Passed", listed.inner_text())
    assert "9 attempts left" in page.inner_text("#notebook-hint")
    assert stored_submissions(live_app) == 1
