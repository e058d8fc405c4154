"""Drafts through the workspace's JSON endpoints: saved, refused when stale (409, the text
kept), private (404 for anyone else), never silently lost, erased with the account."""

from __future__ import annotations

import copy
import json

import nbformat
from sqlalchemy import func, select

from lms.accounts import services as accounts
from lms.workspace.models import Draft, DraftRevision, RevisionKind
from lms.workspace.services import AUTOSAVES_KEPT
from tests.assignments.conftest import CORRECT, HIDDEN_MARK, RELEASE, WRONG, enrol, solved, upload
from tests.conftest import PASSWORD

from .conftest import base_url, draft_of, with_answer


def revisions(session, user_id):
    return session.scalars(
        select(DraftRevision)
        .join(Draft, Draft.id == DraftRevision.draft_id)
        .where(Draft.user_id == user_id)
        .order_by(DraftRevision.number)
    ).all()


def save(client, url, base, cells):
    return client.post(url + "/draft", json={"base": base, "cells": cells})


def test_a_learner_starts_from_the_released_notebook_without_hidden_tests(setup, login, url):
    client = login(setup.learner)
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "def add(a, b)" in html and "assert add(1, 2) == 3" in html
    assert HIDDEN_MARK not in html and "BEGIN HIDDEN" not in html
    draft = draft_of(client, setup)
    assert draft["revision"] == 0
    roles = {c.get("grade_id"): c["role"] for c in draft["cells"]}
    assert roles["answer"] == "answer" and roles["test-visible"] == "locked"
    assert HIDDEN_MARK not in json.dumps(draft)


def test_saves_are_kept_and_the_answer_names_the_revision(setup, login, url, session):
    client = login(setup.learner)
    cells = draft_of(client, setup)["cells"]
    first = save(client, url, 0, with_answer(cells, CORRECT))
    assert first.status_code == 200 and first.get_json() == {"saved": True, "revision": 1}
    second = save(client, url, 1, with_answer(cells, CORRECT + "\n# more"))
    assert second.get_json()["revision"] == 2
    shown = draft_of(client, setup)
    assert shown["revision"] == 2
    answer = next(c for c in shown["cells"] if c.get("grade_id") == "answer")
    assert answer["source"] == CORRECT + "\n# more"
    assert [r.kind for r in revisions(session, setup.learner.id)] == ["autosave", "autosave"]


def test_a_stale_save_is_refused_with_409_and_kept_as_a_side_revision(setup, login, url, session):
    """Two tabs: the second one's save, based on an older revision, never overwrites."""
    client = login(setup.learner)
    cells = draft_of(client, setup)["cells"]
    assert save(client, url, 0, with_answer(cells, "# tab one")).get_json()["revision"] == 1
    refused = save(client, url, 0, with_answer(cells, "# tab two"))
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["error"] == "conflict" and body["current"] == 1 and body["side"] == 2
    # The head is tab one's; tab two's text is a side revision the learner can open.
    head = next(c for c in draft_of(client, setup)["cells"] if c.get("grade_id") == "answer")
    assert head["source"] == "# tab one"
    side = client.get(url + "/revisions/2").get_json()
    assert side["kind"] == "side"
    assert next(c for c in side["cells"] if c.get("grade_id") == "answer")["source"] == "# tab two"
    # Keeping "mine": saved again on the current head, nothing lost.
    kept = save(client, url, 1, with_answer(cells, "# tab two"))
    assert kept.status_code == 200 and kept.get_json()["revision"] == 3
    kinds = [r.kind for r in revisions(session, setup.learner.id)]
    assert kinds == ["autosave", "side", "autosave"]


def test_json_endpoints_answer_401_not_a_redirect_to_the_login_page(setup, client, url):
    for method, path in (
        ("get", "/draft"),
        ("post", "/draft"),
        ("post", "/runs"),
        ("post", "/submit"),
        ("get", "/token"),
        ("get", "/revisions"),
    ):
        response = getattr(client, method)(url + path, json={"base": 0, "cells": []})
        assert response.status_code == 401, (path, response.status_code)
        assert response.get_json()["error"] == "signed-out"
        assert "Location" not in response.headers


def test_another_learner_cannot_read_save_or_run_this_draft(setup, login, url, make_user, session):
    owner = login(setup.learner)
    cells = draft_of(owner, setup)["cells"]
    save(owner, url, 0, with_answer(cells, "# my secret answer"))
    owner.post("/logout")
    # Enrolled in the same course: their own draft, never the owner's.
    classmate = make_user()
    enrol(session, classmate, setup.course)
    client = login(classmate)
    theirs = draft_of(client, setup)
    assert "my secret answer" not in json.dumps(theirs) and theirs["revision"] == 0
    assert client.get(url + "/revisions/1").status_code == 404
    client.post("/logout")
    # Not enrolled: nothing about the course's drafts at all (404).
    stranger = login(make_user())
    for method, path in (
        ("get", "/draft"),
        ("post", "/draft"),
        ("post", "/runs"),
        ("get", "/revisions/1"),
        ("post", "/submit"),
    ):
        response = getattr(stranger, method)(
            url + path, json={"base": 1, "cells": cells, "cell_id": cells[1]["id"]}
        )
        assert response.status_code == 404, path
    assert "my secret answer" not in json.dumps([r.cells for r in revisions(session, classmate.id)])


def test_a_run_of_another_learner_is_404(setup, login, url, make_user, session):
    from lms.workspace import runs

    client = login(setup.learner)
    cells = draft_of(client, setup)["cells"]
    started = client.post(
        url + "/runs",
        json={"base": 0, "cells": with_answer(cells, CORRECT), "cell_id": cells[1]["id"]},
    )
    assert started.status_code == 202
    run_url = started.get_json()["status_url"]
    client.post("/logout")
    other = make_user()
    enrol(session, other, setup.course)
    assert login(other).get(run_url).status_code == 404
    assert runs.waiting(session, stale_seconds=60) >= 1


def test_locked_cells_can_be_neither_edited_nor_deleted(setup, login, url, session):
    client = login(setup.learner)
    cells = draft_of(client, setup)["cells"]
    sent = with_answer(cells, CORRECT)
    edited = copy.deepcopy(sent)
    test = next(c for c in edited if c.get("grade_id") == "test-visible")
    test["source"] = "pass"
    response = save(client, url, 0, edited)
    assert response.status_code == 400 and response.get_json()["why"] == "locked-edited"
    deleted = [c for c in sent if c.get("grade_id") != "test-visible"]
    response = save(client, url, 0, deleted)
    assert response.status_code == 400 and response.get_json()["why"] == "locked-deleted"
    forged = sent + [{"id": "forged1", "type": "code", "grade_id": "test-hidden", "source": "1"}]
    assert save(client, url, 0, forged).status_code == 400
    assert save(client, url, 0, "not a list").status_code == 400
    assert client.post(url + "/draft", data="{", content_type="application/json").status_code == 400
    assert revisions(session, setup.learner.id) == []  # nothing was stored


def test_learners_add_and_delete_their_own_cells(setup, login, url):
    client = login(setup.learner)
    cells = with_answer(draft_of(client, setup)["cells"], CORRECT)
    cells.insert(2, {"id": "mine01", "type": "code", "source": "print(add(2, 3))"})
    assert save(client, url, 0, cells).status_code == 200
    shown = draft_of(client, setup)["cells"]
    assert shown[2]["id"] == "mine01" and shown[2]["role"] == "own"
    del cells[2]
    assert save(client, url, 1, cells).status_code == 200
    assert "mine01" not in [c["id"] for c in draft_of(client, setup)["cells"]]


def test_the_last_50_autosaves_and_every_run_and_submit_revision_are_kept(
    setup, login, url, session
):
    client = login(setup.learner)
    cells = draft_of(client, setup)["cells"]
    base = 0
    response = client.post(
        url + "/runs",
        json={"base": base, "cells": with_answer(cells, "# run"), "cell_id": cells[1]["id"]},
    )
    base = response.get_json()["revision"]
    for n in range(AUTOSAVES_KEPT + 5):
        base = save(client, url, base, with_answer(cells, f"# autosave {n}")).get_json()["revision"]
    kept = revisions(session, setup.learner.id)
    kinds = [r.kind for r in kept]
    assert kinds.count(RevisionKind.AUTOSAVE) == AUTOSAVES_KEPT
    assert kinds.count(RevisionKind.RUN) == 1
    sources = [next(c for c in r.cells if c.get("grade_id") == "answer")["source"] for r in kept]
    assert sources[-1] == f"# autosave {AUTOSAVES_KEPT + 4}" and "# autosave 4" not in sources
    listed = client.get(url + "/revisions").get_json()["revisions"]
    assert listed[0]["number"] == base and any(r["kind"] == "run" for r in listed)


def test_an_upload_is_a_new_revision_of_the_same_draft(setup, login, url, session):
    client = login(setup.learner)
    cells = draft_of(client, setup)["cells"]
    save(client, url, 0, with_answer(cells, "# typed in the browser"))
    assert upload(client, setup.course, setup.item, solved(CORRECT)).status_code == 303
    shown = draft_of(client, setup)
    assert shown["revision"] == 2
    answer = next(c for c in shown["cells"] if c.get("grade_id") == "answer")
    assert answer["source"] == CORRECT
    kept = revisions(session, setup.learner.id)
    assert [r.kind for r in kept] == ["autosave", "upload"] and kept[-1].submission_id


def test_submit_grades_exactly_the_revision_it_saved(setup, login, url, session):
    from lms.assignments.models import Submission

    client = login(setup.learner)
    cells = draft_of(client, setup)["cells"]
    response = client.post(url + "/submit", json={"base": 0, "cells": with_answer(cells, WRONG)})
    assert response.status_code == 202
    body = response.get_json()
    submission = session.get(Submission, body["submission"])
    stored = nbformat.reads(submission.notebook, as_version=4)
    answer = next(
        c for c in stored.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "answer"
    )
    assert answer.source == WRONG
    revision = revisions(session, setup.learner.id)[-1]
    assert revision.number == body["revision"] and revision.submission_id == submission.id
    assert revision.kind == RevisionKind.SUBMIT
    assert body["status_url"].endswith(f"/submissions/{submission.id}/status")


def test_instructors_read_a_draft_only_in_a_submitted_revision(
    setup, login, url, make_user, session
):
    client = login(setup.learner)
    cells = draft_of(client, setup)["cells"]
    save(client, url, 0, with_answer(cells, "# not submitted yet"))
    submitted = client.post(url + "/submit", json={"base": 1, "cells": with_answer(cells, CORRECT)})
    submission_id = submitted.get_json()["submission"]
    save(client, url, 2, with_answer(cells, "# typed after submitting"))
    client.post("/logout")
    teacher = login(setup.instructor)
    page = teacher.get(f"/instructor/submissions/{submission_id}/workspace")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "return a + b" in html and "typed after submitting" not in html
    assert "not submitted yet" not in html and 'id="ws-readonly"' in html
    assert "ws-run" not in html  # read-only: no Run, no saving
    assert teacher.get(url + "/draft").status_code == 404  # not enrolled: no draft access
    teacher.post("/logout")
    other_teacher = login(make_user(roles=["instructor"]))
    assert (
        other_teacher.get(f"/instructor/submissions/{submission_id}/workspace").status_code == 404
    )


def test_drafts_are_deleted_with_the_account(setup, login, url, session):
    client = login(setup.learner)
    cells = draft_of(client, setup)["cells"]
    save(client, url, 0, with_answer(cells, "# personal"))
    client.post(
        url + "/runs",
        json={"base": 1, "cells": with_answer(cells, "# personal"), "cell_id": cells[1]["id"]},
    )
    user_id = setup.learner.id
    accounts.delete_account(session, user=setup.learner, password=PASSWORD)
    assert session.scalar(select(func.count(Draft.id)).where(Draft.user_id == user_id)) == 0
    assert session.scalar(select(func.count(DraftRevision.id))) == 0


def test_the_workspace_is_offered_first_on_the_assignment_page(setup, login):
    client = login(setup.learner)
    html = client.get(f"/courses/{setup.course.slug}/assignments/{setup.item.key}").get_data(
        as_text=True
    )
    assert html.index('id="solve-in-browser"') < html.index("student.ipynb")
    assert base_url(setup) in html


def test_the_page_allows_the_editors_styles_by_nonce_only(setup, login, url):
    response = login(setup.learner).get(url)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    nonce = policy.split("'nonce-")[1].split("'")[0]
    config = response.get_data(as_text=True).split('id="ws-config">')[1].split("</script>")[0]
    assert json.loads(config)["nonce"] == nonce
    again = login(setup.learner).get(url).headers["Content-Security-Policy"]
    assert nonce not in again  # one per response
    assert RELEASE.student is not None


def test_the_studio_counts_drafts_runs_and_submissions_per_assignment(
    setup, login, url, make_user, session
):
    learners = [setup.learner, make_user(), make_user()]
    for other in learners[1:]:
        enrol(session, other, setup.course)
    for n, learner in enumerate(learners):
        client = login(learner)
        cells = with_answer(draft_of(client, setup)["cells"], CORRECT)
        if n <= 1:  # two have a draft
            save(client, url, 0, cells)
        if n == 0:  # one ran it and submitted
            client.post(url + "/runs", json={"base": 1, "cells": cells, "cell_id": cells[1]["id"]})
            client.post(url + "/submit", json={"base": 1, "cells": cells})
        client.post("/logout")
    page = login(setup.instructor).get(f"/studio/courses/{setup.course.slug}/progress")
    html = page.get_data(as_text=True)
    row = html.split(f'id="figures-{setup.item.key}"')[1].split("</tr>")[0]
    assert 'data-figure="drafts">2<' in row
    assert 'data-figure="ran">1<' in row
    assert 'data-figure="submitted">1<' in row
