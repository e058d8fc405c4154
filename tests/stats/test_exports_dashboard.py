"""Exports (metadata in three languages, no personal data, suppression) and the dashboard."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime

import pytest

from lms.stats import exports
from lms.stats.figures import Period


@pytest.fixture
def history(session, make_user, make_course, complete):
    course = make_course("specialist")
    people = [
        make_user(full_name="Айгерім Сәрсенова", birth_year=1987, region="KZ-75") for _ in range(12)
    ] + [make_user(region="KZ-11", birth_year=1991)]
    for person in people:
        complete(person, course, at=datetime(2026, 2, 10, tzinfo=UTC))
    return people


def _export(session, fmt, dimension="region", period="2026-Q1") -> bytes:
    return b"".join(
        exports.stream(session, dimension=dimension, period=Period.parse(period), fmt=fmt)
    )


def test_csv_export_suppresses_small_cells_and_shows_zero(session, history):
    text = _export(session, "csv").decode("utf-8")
    assert text.startswith("\ufeffmeasure,")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    header, body = rows[0], rows[1:]
    assert header[:2] == ["measure", "region"]
    almaty = next(r for r in body if r[0] == "completions" and r[1] == "KZ-75")
    # The one other non-zero cell is hidden too, else 13 - 12 would give KZ-11's 1 away.
    assert almaty[header.index("specialist")] == "x"
    total = next(r for r in body if r[0] == "completions" and r[1] == "total")
    assert total[header.index("total")] == "13"
    astana = next(r for r in body if r[0] == "completions" and r[1] == "KZ-11")
    assert astana[header.index("specialist")] == "<10"
    zero = next(r for r in body if r[0] == "completions" and r[1] == "KZ-10")
    assert zero[header.index("public")] == "0"
    # Secondary suppression: KZ-11's 1 cannot be recovered from the column total.
    specialist_column = [r[header.index("specialist")] for r in body if r[0] == "completions"]
    assert sum(v in ("<10", "x") for v in specialist_column) >= 2


def test_metadata_in_three_languages(session, history):
    data = json.loads(_export(session, "json"))
    for lang in ("kk", "ru", "en"):
        meta = data["metadata"][lang]
        assert meta["period"] == "2026-Q1" and meta["extracted_at"]
        assert meta["dataset"] and meta["suppression"] and meta["residual_risk"]
        # What "x" means is published with the data, and the protection criterion.
        assert {"kk": "10 немесе", "ru": "10 или больше", "en": "10 or more"}[lang] in meta[
            "suppression"
        ]
        assert {f["name"] for f in meta["fields"]} >= {"measure", "region", "total"}
        assert all(f["type"] in ("string", "integer") for f in meta["fields"])
    assert (
        "қ" in data["metadata"]["kk"]["residual_risk"]
        or "ә" in data["metadata"]["kk"]["residual_risk"]
    )
    # The CSV is one table: its metadata travels in the data package beside it.
    text = _export(session, "csv").decode("utf-8-sig")
    assert text.startswith("measure,region,") and "#" not in text


def test_json_marks_suppressed_cells_as_null(session, history):
    data = json.loads(_export(session, "json"))
    table = next(t for t in data["tables"] if t["measure"] == "completions")
    row = next(r for r in table["rows"] if r["value"] == "KZ-11")
    assert row["cells"]["specialist"] == {"value": None, "suppressed": True, "mark": "<10"}
    almaty = next(r for r in table["rows"] if r["value"] == "KZ-75")
    assert almaty["cells"]["specialist"] == {"value": None, "suppressed": True, "mark": "x"}
    assert almaty["cells"]["public"] == {"value": 0, "suppressed": False, "mark": None}
    assert data["schema"]["missingValues"] == ["<10", "x"]
    assert data["schema"]["primaryKey"] == ["measure", "region"]


@pytest.mark.parametrize(
    "dimension", ["region", "sector", "sex", "age_band", "course", "language", "tier"]
)
def test_no_personal_data_in_any_export(session, history, dimension):
    person = history[0]
    for fmt in ("csv", "json", "xlsx"):
        blob = _export(session, fmt, dimension=dimension)
        if fmt == "xlsx":
            with zipfile.ZipFile(io.BytesIO(blob)) as book:
                blob = b"".join(book.read(n) for n in book.namelist())
        text = blob.decode("utf-8", "replace")
        for secret in (
            person.full_name,
            person.email,
            person.person_key,
            "1987",
            "birth",
            "iin",
            "email",
        ):
            assert secret not in text, (fmt, dimension, secret)


def test_export_command_writes_a_file_with_progress(app, session, history, tmp_path):
    out = tmp_path / "region.csv"
    result = app.test_cli_runner().invoke(
        args=[
            "stats",
            "export",
            "--dimension",
            "region",
            "--period",
            "2026-Q1",
            "--format",
            "csv",
            "-o",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "export region 2026-Q1" in result.output
    assert "KZ-75" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "roles,status", [((), 403), (("instructor",), 403), (("analyst",), 200), (("admin",), 200)]
)
def test_dashboard_permissions(client, make_user, login, history, roles, status):
    login(make_user(roles=list(roles)))
    response = client.get("/stats?period=2026-Q1&tier=specialist")
    assert response.status_code == status
    if status == 200:
        html = response.get_data(as_text=True)
        assert "<progress" in html and 'max="5000000"' in html and 'max="500000"' in html
        assert 'max="5000000" value="13"' in html and 'max="500000" value="13"' in html
        assert "style=" not in html
        chart = client.get("/stats/charts/region.svg?period=2026-Q1")
        assert chart.status_code == 200 and chart.mimetype == "image/svg+xml"
        assert b"<svg" in chart.data


def test_dashboard_asks_anonymous_visitors_to_log_in(client):
    response = client.get("/stats")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


@pytest.mark.parametrize("lang,word", [("ru", "Регион"), ("kk", "Өңір"), ("en", "Region")])
def test_dashboard_speaks_three_languages(client, make_user, login, history, lang, word):
    login(make_user(roles=["analyst"], locale=lang))
    client.get(f"/lang/{lang}")
    html = client.get("/stats", headers={"Accept-Language": lang}).get_data(as_text=True)
    assert word in html


def test_not_reached_at_current_pace(client, make_user, login):
    login(make_user(roles=["analyst"], locale="en"))
    html = client.get("/stats", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Not reached at the current pace" in html


def _cumulative_rows(html: str) -> list[tuple[str, ...]]:
    import re

    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        tuple(re.findall(r"<td>([^<]*)</td>", row)) for row in body.split("</tr>") if "<td>" in row
    ]


def test_cumulative_line_follows_the_tier_and_region_filters(
    client, session, make_user, make_course, complete, login, history
):
    newcomer = make_user(region="KZ-11")
    complete(newcomer, make_course("public"), at=datetime(2026, 3, 5, tzinfo=UTC))
    login(make_user(roles=["analyst"], locale="en"))

    def rows(query: str) -> list[tuple[str, ...]]:
        html = client.get("/stats" + query, headers={"Accept-Language": "en"}).get_data(
            as_text=True
        )
        assert "the region and tier filters below apply to this line" in html
        return _cumulative_rows(html)

    assert rows("") == [("2026-02", "13", "13"), ("2026-03", "14", "13")]
    assert rows("?tier=public") == [("2026-03", "1", "0")]
    assert rows("?tier=specialist") == [("2026-02", "13", "13")]
    assert rows("?region=KZ-11") == [("2026-02", "1", "1"), ("2026-03", "2", "1")]
    assert rows("?region=KZ-11&tier=public") == [("2026-03", "1", "0")]
    national = client.get("/stats/charts/cumulative.svg").data
    public = client.get("/stats/charts/cumulative.svg?tier=public").data
    assert national != public
    html = client.get("/stats?tier=public&region=KZ-11").get_data(as_text=True)
    assert "/stats/charts/cumulative.svg?" in html and "tier=public" in html


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_cumulative_note_is_translated(client, make_user, login, lang):
    login(make_user(roles=["analyst"], locale=lang))
    client.get(f"/lang/{lang}")
    html = client.get("/stats", headers={"Accept-Language": lang}).get_data(as_text=True)
    assert "the region and tier filters" not in html
