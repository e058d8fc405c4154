"""An id in a URL larger than the database's integer must give 404, not a 500.

Werkzeug's ``<int:...>`` converter accepts any number of digits; SQLite (and PostgreSQL's
BIGINT) refuse such a parameter, so the lookup raises instead of finding nothing.
"""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD

HUGE = "9" * 25


@pytest.fixture
def production_like_client(app_settings, request):
    # As in production: an unhandled exception becomes the 500 page, not a test error.
    app_settings["PROPAGATE_EXCEPTIONS"] = False
    return request.getfixturevalue("app").test_client()


@pytest.mark.parametrize("path", [f"/submissions/{HUGE}", f"/submissions/{HUGE}/status"])
def test_learner_asking_for_a_huge_submission_id_gets_404(
    production_like_client, make_user, path
) -> None:
    learner = make_user()
    production_like_client.post("/login", data={"email": learner.email, "password": PASSWORD})
    assert production_like_client.get(path).status_code == 404


def test_instructor_asking_for_a_huge_submission_id_gets_404(
    production_like_client, make_user
) -> None:
    instructor = make_user(roles=["instructor"])
    production_like_client.post("/login", data={"email": instructor.email, "password": PASSWORD})
    response = production_like_client.get(f"/instructor/submissions/{HUGE}")
    assert response.status_code == 404
