"""The example package is an authors' example: it imports and exports like any package,
but learners never see it."""

from __future__ import annotations

import tomllib
from pathlib import Path

from tests.courses.conftest import COURSES


def test_the_shipped_example_is_a_draft() -> None:
    course = tomllib.loads((COURSES / "example-package" / "course.toml").read_text("utf-8"))
    assert course["published"] is False


def test_learners_never_see_it(cli, client, example: Path) -> None:
    assert cli("import", example).exit_code == 0
    catalogue = client.get("/courses").get_data(as_text=True)
    assert "example-package" not in catalogue and "Example package" not in catalogue
    assert client.get("/courses/example-package").status_code == 404
    assert client.get("/courses/example-package/items/what-is-ai").status_code == 404
