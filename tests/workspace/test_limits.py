"""Limits of Run: one at a time per learner (a new Run cancels the old one), a rate per
learner (LMS_RATELIMIT_RUN), and a 429 with Retry-After when the queue is deeper than
LMS_RUN_QUEUE_MAX. A refused Run changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.workspace.models import CellRun, RunStatus
from tests.assignments.conftest import CORRECT, enrol

from .conftest import draft_of, with_answer


def start(client, url, base, cells, cell_id):
    return client.post(url + "/runs", json={"base": base, "cells": cells, "cell_id": cell_id})


def test_a_new_run_cancels_the_learners_earlier_one(setup, login, url, session):
    client = login(setup.learner)
    cells = with_answer(draft_of(client, setup)["cells"], CORRECT)
    first = start(client, url, 0, cells, cells[1]["id"]).get_json()
    second = start(client, url, first["revision"], cells, cells[2]["id"]).get_json()
    session.expire_all()
    old, new = session.get(CellRun, first["run"]), session.get(CellRun, second["run"])
    assert old.cancel and old.status == RunStatus.CANCELLED
    assert not new.cancel and new.status == RunStatus.QUEUED
    shown = client.get(first["status_url"]).get_json()
    assert shown["status"] == "cancelled" and shown["finished"] and shown["cells"] == {}


def test_only_code_cells_run(setup, login, url, session):
    client = login(setup.learner)
    cells = with_answer(draft_of(client, setup)["cells"], CORRECT)
    markdown = next(c for c in cells if c["type"] == "markdown")
    response = start(client, url, 0, cells, markdown["id"])
    assert response.status_code == 400 and response.get_json()["why"] == "bad-run-cell"
    assert session.scalar(select(func.count(CellRun.id))) == 0


@pytest.fixture
def app_settings(app_settings, request):
    return {**app_settings, **getattr(request, "param", {})}


@pytest.mark.parametrize("app_settings", [{"RUN_QUEUE_MAX": 1}], indirect=True)
def test_a_deep_queue_answers_429_busy_with_retry_after(setup, login, url, make_user, session):
    client = login(setup.learner)
    cells = with_answer(draft_of(client, setup)["cells"], CORRECT)
    assert start(client, url, 0, cells, cells[1]["id"]).status_code == 202
    client.post("/logout")
    other = make_user(locale="ru")
    enrol(session, other, setup.course)
    client = login(other)
    theirs = with_answer(draft_of(client, setup)["cells"], CORRECT)
    refused = start(client, url, 0, theirs, theirs[1]["id"])
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    body = refused.get_json()
    assert body["error"] == "busy" and "Попробуйте" in body["message"]
    assert draft_of(client, setup)["revision"] == 0  # nothing saved, nothing queued
    assert session.scalar(select(func.count(CellRun.id))) == 1


@pytest.mark.parametrize(
    "app_settings", [{"RATELIMIT_ENABLED": True, "RATELIMIT_RUN": "2 per day"}], indirect=True
)
def test_runs_per_learner_are_rate_limited(setup, login, url):
    client = login(setup.learner)
    cells = with_answer(draft_of(client, setup)["cells"], CORRECT)
    base = 0
    for _ in range(2):
        response = start(client, url, base, cells, cells[1]["id"])
        assert response.status_code == 202
        base = response.get_json()["revision"]
    refused = start(client, url, base, cells, cells[1]["id"])
    assert refused.status_code == 429 and refused.get_json()["error"] == "busy"
    assert int(refused.headers["Retry-After"]) > 0
