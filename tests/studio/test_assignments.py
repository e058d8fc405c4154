"""Notebook assignments: the source is checked and released; the student version is shown."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from sqlalchemy import select

from lms.courses.models import Item
from lms.studio import services
from tests.studio.conftest import good_notebook, nbgrader, notebook


@pytest.fixture
def url(session, instructor, make_studio_course, login):
    course = make_studio_course(instructor)
    services.add_item(
        session,
        module=course.modules[0],
        key="nb",
        kind="assignment",
        title={"en": "Notebook"},
        required=True,
    )
    login(instructor)
    return f"/studio/courses/{course.slug}/assignments/nb"


def upload(client, url, data: bytes, name="nb.ipynb"):
    return client.post(
        f"{url}/notebook",
        data={"notebook": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def stored(session):
    session.expire_all()
    return session.scalar(select(Item).where(Item.key == "nb")).assignment


def test_good_notebook_is_released_and_shown(client, session, url):
    response = upload(client, url, good_notebook())
    assert response.status_code == 303
    assignment = stored(session)
    assert assignment.auto_points == Decimal(2)
    assert assignment.total_points == Decimal(3)
    assert "secret-check" in assignment.master
    assert "secret-check" not in assignment.student
    page = client.get(url).get_data(as_text=True)
    assert "Auto-graded points: 2 of 3 in all." in page
    shown = page[page.index("student-version") :]
    assert "assert double(2) == 4" in shown
    assert "YOUR CODE HERE" in shown
    assert "return 2 * x" not in shown
    assert "secret-check" not in shown
    assert "BEGIN HIDDEN TESTS" not in shown


def test_cells_are_shown_as_text_not_html(client, session, url):
    data = notebook(
        nbgrader("markdown", "<script>alert(1)</script> **hi**"),
        nbgrader("code", "assert True", grade=True, locked=True, grade_id="t", points=1),
    )
    assert upload(client, url, data).status_code == 303
    page = client.get(url).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (
            [nbgrader("code", "assert True", grade=True, locked=True, grade_id="t")],
            "a grade cell needs points",
        ),
        (
            [
                nbgrader("code", "assert True", grade=True, locked=True, grade_id="t", points=1),
                nbgrader("code", "assert 1", grade=True, locked=True, grade_id="t", points=1),
            ],
            "the grade id “t” is already used by cell 1",
        ),
        (
            [
                nbgrader(
                    "code",
                    "def f():\n    ### BEGIN SOLUTION\n    return 1\n",
                    solution=True,
                    grade_id="s",
                ),
                nbgrader(
                    "code", "assert f() == 1", grade=True, locked=True, grade_id="t", points=1
                ),
            ],
            "is never closed by",
        ),
        ([nbgrader("code", "print(1)")], "no auto-graded points"),
    ],
)
def test_bad_metadata_is_explained(client, session, url, cells, message):
    response = upload(client, url, notebook(*cells))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert stored(session) is None


def test_metadata_problems_speak_the_instructors_language(client, session, instructor, url):
    instructor.locale = "ru"
    session.flush()
    response = upload(
        client,
        url,
        notebook(nbgrader("code", "assert True", grade=True, locked=True, grade_id="t1")),
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Ячейка 1 («t1»): оцениваемой ячейке нужны баллы, а у этой их нет" in page
    assert "needs points" not in page
    assert stored(session) is None


def test_a_check_without_its_kazakh_message_is_refused_in_the_instructors_language(
    client, session, instructor, url
):
    instructor.locale = "kk"
    session.flush()
    cell = nbgrader(
        "code", 'oqu_check("total", 3)', grade=True, locked=True, grade_id="t1", points=1
    )
    cell["metadata"]["oqu"] = {
        "checks": {
            "total": {"expected": {"t": "int", "v": 3}, "messages": {"ru": "Сумма.", "en": "Sum."}}
        }
    }
    response = upload(client, url, notebook(cell))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "“total” тексеруіне мына тілдердегі хабарлама керек: kk" in page
    assert stored(session) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{not json", "invalid JSON"),
        (b'{"nbformat": 3, "cells": []}', "format 4"),
        (
            b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "x"}]}',
            "not a valid notebook",
        ),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_not_a_notebook(client, session, url, data, message):
    response = upload(client, url, data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert stored(session) is None


def test_size_cap(app, client, session, url):
    app.config["MAX_UPLOAD_BYTES"] = 1000
    response = upload(client, url, good_notebook())
    assert response.status_code == 400
    assert "larger than" in response.get_data(as_text=True)
    assert stored(session) is None


def test_settings_and_data_files(client, session, url):
    assert client.post(f"{url}/settings", data={"pass_score": "0.5"}).status_code == 400
    upload(client, url, good_notebook())
    assert (
        client.post(f"{url}/settings", data={"pass_score": "0.8", "max_attempts": "4"}).status_code
        == 303
    )
    assert client.post(f"{url}/settings", data={"pass_score": "2"}).status_code == 400
    assignment = stored(session)
    assert (assignment.pass_score, assignment.max_attempts) == (Decimal("0.8"), 4)
    ok = client.post(
        f"{url}/files",
        data={"data_file": (io.BytesIO(b"a,b\n1,2\n"), "scores.csv")},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 303
    bad = client.post(
        f"{url}/files",
        data={"data_file": (io.BytesIO(b"MZ"), "run.exe")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400
    assert "ending in .csv" in bad.get_data(as_text=True)
    assert [f.name for f in stored(session).files] == ["scores.csv"]
    client.post(f"{url}/files/scores.csv/remove")
    assert stored(session).files == []
