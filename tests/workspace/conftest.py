"""Fixtures for the workspace: the assignments' course and notebook, and draft helpers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.assignments.conftest import Setup
from tests.assignments.conftest import setup as setup  # noqa: F401 - the fixture, re-exported


def base_url(found: Setup) -> str:
    return f"/courses/{found.course.slug}/assignments/{found.item.key}/workspace"


def draft_of(client: Any, found: Setup) -> dict[str, Any]:
    response = client.get(base_url(found) + "/draft")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def with_answer(cells: list[dict[str, Any]], answer: str) -> list[dict[str, Any]]:
    """The cells as the page sends them, the answer cell holding ``answer``."""
    sent = []
    for cell in cells:
        out = {"id": cell["id"], "type": cell["type"]}
        if cell.get("grade_id"):
            out["grade_id"] = cell["grade_id"]
        if cell.get("role", "locked" if "source" not in cell else "own") != "locked":
            out["source"] = answer if cell.get("grade_id") == "answer" else cell["source"]
        sent.append(out)
    return sent


@pytest.fixture
def url(setup: Setup) -> str:  # noqa: F811 - the fixture above
    return base_url(setup)
