"""The simulated learners and analysts of `bench/load/run` (a Locust file; run by it).

Mix (think time 2-5 s between steps, fixed):
- a learner (weight 20): registers, signs in, opens the catalogue and the public course,
  enrols, reads three lessons, takes a quiz (first choice of every question), opens the
  workspace of the optional notebook, runs its first code cell, submits it and waits for the
  score, then opens the dashboard and the certificates page; afterwards, until the stage
  ends, reads lessons and the dashboard;
- an analyst (weight 1): signs in, opens the statistics page and downloads an export.

"submit → score" is recorded as its own entry (milliseconds from the Submit request to the
status fragment without `data-poll-url`), "run → output" likewise for the workspace's Run.
A 429 is recorded under "busy (429)" and not counted as an error by the runner.
"""

from __future__ import annotations

import itertools
import json
import os
import time
import uuid
from html.parser import HTMLParser
from typing import Any

from locust import HttpUser, between, events, task

COURSE = "ai-for-everyone"
NOTEBOOK = "counting-words"
LESSONS = ("what-is-ai", "ai-history", "narrow-and-general-ai", "ai-around-us")
QUIZ = "foundations-quiz"
PASSWORD = "Load-test-passphrase-7"
ANALYST = os.environ.get("OQU_LOAD_ANALYST", "analyst@load.kz")
WAIT_SECONDS = float(os.environ.get("OQU_LOAD_WAIT", "120"))
# 0: learners skip the workspace (no Run, no Submit): the pages' own ceiling.
NOTEBOOKS = os.environ.get("OQU_LOAD_NOTEBOOKS", "1") != "0"
_counter = itertools.count()


class Form(HTMLParser):
    """The fields of the first form with the given action (or the first POST form)."""

    def __init__(self, action: str | None = None) -> None:
        super().__init__()
        self.action, self.inside, self.done = action, False, False
        self.fields: dict[str, str] = {}
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        post = tag == "form" and not self.done and a.get("method", "").lower() == "post"
        if post and (self.action is None or a.get("action", "").endswith(self.action)):
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox"):
                self.fields.setdefault(a["name"], a.get("value", "on"))
            elif kind != "submit":
                self.fields.setdefault(a["name"], a.get("value", ""))
        elif tag == "select" and a.get("name"):
            self.select = a["name"]
        elif tag == "option" and self.select and a.get("value"):
            self.fields.setdefault(self.select, a["value"])
        elif tag == "textarea" and a.get("name"):
            self.fields.setdefault(a["name"], "1")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        if tag == "form" and self.inside:
            self.inside, self.done = False, True


def form_of(html: str, action: str | None = None) -> dict[str, str]:
    parser = Form(action)
    parser.feed(html)
    return parser.fields


def record(name: str, started: float, error: Exception | None = None) -> None:
    events.request.fire(
        request_type="FLOW",
        name=name,
        response_time=(time.perf_counter() - started) * 1000,
        response_length=0,
        exception=error,
        context={},
    )


class Learner(HttpUser):
    weight = 20
    wait_time = between(2, 5)

    def on_start(self) -> None:
        # As a browser does: over https, Flask-WTF checks that the Referer is this site.
        self.client.headers["Referer"] = f"{self.host}/"
        self.client.verify = False  # the bench's own self-signed certificate
        self.email = f"l{os.getpid()}-{next(_counter)}-{uuid.uuid4().hex[:6]}@load.kz"
        self.journey_done = False

    def get(self, path: str, name: str | None = None) -> Any:
        with self.client.get(path, name=name or path, catch_response=True) as response:
            if response.status_code == 429:
                response.failure("busy (429)")
            elif response.status_code >= 400:
                response.failure(f"{response.status_code}")
            else:
                response.success()
            return response

    def post(self, path: str, name: str, **kwargs: Any) -> Any:
        with self.client.post(
            path, name=name, catch_response=True, allow_redirects=False, **kwargs
        ) as response:
            if response.status_code == 429:
                response.failure("busy (429)")
            elif response.status_code >= 400:
                response.failure(f"{response.status_code}")
            else:
                response.success()
            return response

    def register(self) -> bool:
        page = self.get("/register").text
        fields = form_of(page, "/register")
        fields.update(
            email=self.email,
            password=PASSWORD,
            confirm=PASSWORD,
            full_name="Load Learner",
            birth_year="1995",
            consent="y",
            iin="",
        )
        self.post("/register", "/register [POST]", data=fields)
        signed_in = self.client.get("/dashboard", name="/dashboard", allow_redirects=False)
        if signed_in.status_code == 200:
            return True
        page = self.get("/login").text
        fields = form_of(page, "/login")
        fields.update(email=self.email, password=PASSWORD)
        response = self.post("/login", "/login [POST]", data=fields)
        return response.status_code in (302, 303)

    @task
    def journey(self) -> None:
        if self.journey_done:
            self.browse()
            return
        self.journey_done = True
        if not self.register():
            return
        self.get("/courses")
        course = self.get(f"/courses/{COURSE}").text
        self.wait()
        self.post(f"/courses/{COURSE}/enrol", "enrol", data=form_of(course, "/enrol"))
        for lesson in LESSONS[:3]:
            self.get(f"/courses/{COURSE}/items/{lesson}", name="lesson")
            self.wait()
        quiz = self.get(f"/courses/{COURSE}/items/{QUIZ}", name="quiz").text
        self.wait()
        answers = form_of(quiz, "/attempts")
        self.post(f"/courses/{COURSE}/items/{QUIZ}/attempts", "quiz [POST]", data=answers)
        if NOTEBOOKS:
            self.workspace()
        self.get("/dashboard")
        self.get("/certificates")

    def browse(self) -> None:
        self.get(f"/courses/{COURSE}/items/{LESSONS[next(_counter) % len(LESSONS)]}", "lesson")
        self.wait()
        self.get("/dashboard")

    def workspace(self) -> None:
        url = f"/courses/{COURSE}/assignments/{NOTEBOOK}/workspace"
        html = self.get(url, name="workspace").text
        try:
            config = json.loads(html.split('id="ws-config">')[1].split("</script>")[0])
        except IndexError:
            return
        csrf, revision = config["csrf"], config["revision"]
        cells = self.get(url + "/draft", name="workspace draft").json()["cells"]
        sent = [
            {
                k: v
                for k, v in c.items()
                if k != "role" and not (c["role"] == "locked" and k == "source")
            }
            for c in cells
        ]
        headers = {"X-CSRFToken": csrf}
        first_code = next(c["id"] for c in cells if c["type"] == "code")
        self.wait()
        started = time.perf_counter()
        response = self.post(
            url + "/runs",
            "run [POST]",
            json={"base": revision, "cells": sent, "cell_id": first_code},
            headers=headers,
        )
        if response.status_code == 202:
            body = response.json()
            revision = body["revision"]
            self.poll_run(body["status_url"], started)
        self.wait()
        started = time.perf_counter()
        response = self.post(
            url + "/submit",
            "submit [POST]",
            json={"base": revision, "cells": sent},
            headers=headers,
        )
        if response.status_code == 202:
            self.poll_score(response.json()["status_url"], started)

    def poll_run(self, status_url: str, started: float) -> None:
        delay = 0.08
        while time.perf_counter() - started < WAIT_SECONDS:
            time.sleep(delay)
            delay = min(delay * 1.15, 1.0)
            shown = self.client.get(status_url, name="run status").json()
            if shown.get("finished"):
                error = None if shown.get("status") == "done" else RuntimeError(shown.get("status"))
                record("run → output", started, error)
                return
        record("run → output", started, TimeoutError("run not finished"))

    def poll_score(self, status_url: str, started: float) -> None:
        delay = 0.25
        while time.perf_counter() - started < WAIT_SECONDS:
            time.sleep(delay)
            delay = min(delay * 1.2, 2.0)
            text = self.client.get(status_url, name="submission status").text
            if "data-poll-url" not in text:
                record("submit → score", started)
                return
        record("submit → score", started, TimeoutError("no score"))


class Analyst(HttpUser):
    weight = 1
    wait_time = between(2, 5)

    def on_start(self) -> None:
        self.client.headers["Referer"] = f"{self.host}/"
        self.client.verify = False
        page = self.client.get("/login").text
        fields = form_of(page, "/login")
        fields.update(email=ANALYST, password=PASSWORD)
        self.client.post("/login", data=fields, name="/login [POST]", allow_redirects=False)

    @task
    def statistics(self) -> None:
        self.client.get("/stats", name="stats")
        self.wait()
        year = time.gmtime().tm_year
        self.client.get(f"/stats/exports/region.csv?period={year}", name="stats export")
