"""Every export, read by readers nobody here wrote: pandas, openpyxl, frictionless."""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from lms.stats import exports, figures
from lms.stats.figures import Period

PERIOD = "2026-Q1"
EXTRACTED = datetime(2026, 4, 2, 6, 0, tzinfo=UTC)


@pytest.fixture
def population(session, make_user, make_course, complete):
    """Forty learners over three regions, sectors, ages and languages: some cells of 10 or
    more (shown), some of 1 to 9 (suppressed)."""
    public, specialist = make_course("public"), make_course("specialist")
    small = make_course("public")
    rng = random.Random(7)
    for i in range(40):
        user = make_user(
            region=rng.choice(["KZ-75", "KZ-75", "KZ-71", "KZ-11"]),
            sector=rng.choice(["J", "J", "P", "none"]),
            sex=rng.choice(["female", "male", "not_stated"]),
            birth_year=rng.choice([1960, 1988, 1988, 2003, 2010]),
        )
        at = datetime(2026, rng.choice([1, 2, 3]), rng.randint(1, 28), 9, tzinfo=UTC)
        complete(user, public, language=rng.choice(["kk", "kk", "ru", "en"]), at=at)
        if i % 3 == 0:
            complete(user, specialist, language="ru", at=at)
        if i < 4:
            complete(user, small, language="kk", at=at)


def _blob(session, dimension: str, fmt: str) -> bytes:
    return b"".join(
        exports.stream(session, dimension=dimension, period=Period.parse(PERIOD), fmt=fmt)
    )


def _shown_from_json(blob: bytes) -> dict[tuple[str, str, str], str]:
    """(measure, value, column) -> the shown text: a count, "<10" or "x"."""
    out = {}
    for table in json.loads(blob)["tables"]:
        for row in table["rows"]:
            for column, cell in row["cells"].items():
                if cell["suppressed"]:
                    assert cell["value"] is None and cell["mark"] in ("<10", "x")
                    text = cell["mark"]
                else:
                    assert cell["mark"] is None
                    text = str(cell["value"])
                out[(table["measure"], row["value"], column)] = text
    return out


def _shown_from_frame(rows: list[list], header: list[str], dimension: str) -> dict:
    counts = [c for c in header if c in ("public", "specialist", "total")]
    out = {}
    for row in rows:
        record = dict(zip(header, row, strict=True))
        for column in counts:
            out[(str(record["measure"]), str(record[dimension]), column)] = str(record[column])
    return out


@pytest.mark.parametrize("dimension", figures.DIMENSIONS)
def test_every_reader_sees_the_numbers_of_the_json(session, population, dimension, tmp_path):
    expected = _shown_from_json(_blob(session, dimension, "json"))
    # Small cells to hide in the wider tables (the tier's has two big cells).
    assert dimension not in ("region", "sector", "course") or "<10" in expected.values()
    assert any(v.isdigit() and int(v) >= 10 for v in expected.values())

    # CSV: a byte-order mark, then the header on the first line; pandas with its defaults.
    csv_bytes = _blob(session, dimension, "csv")
    assert csv_bytes.startswith(b"\xef\xbb\xbfmeasure,")
    frame = pd.read_csv(io.BytesIO(csv_bytes))
    assert list(frame.columns)[:2] == ["measure", dimension]
    assert _shown_from_frame(frame.values.tolist(), list(frame.columns), dimension) == expected

    # XLSX: counts are numbers, suppressed cells text; frozen header, readable widths.
    book = openpyxl.load_workbook(io.BytesIO(_blob(session, dimension, "xlsx")))
    sheet = book["data"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = [str(h) for h in rows[0]]
    assert _shown_from_frame(rows[1:], header, dimension) == expected
    counts = [r[header.index("total")] for r in rows[1:]]
    assert all(isinstance(v, int) or v in ("<10", "x") for v in counts)
    assert sheet.freeze_panes == "A2"
    longest = max(len(str(r[header.index("label_ru")])) for r in rows)
    assert _width(sheet, header.index("label_ru") + 1) >= min(longest, 60)
    assert book["metadata"].max_row > 10

    # Data package: the CSV inside is byte for byte the .csv export; frictionless passes it.
    with zipfile.ZipFile(io.BytesIO(_blob(session, dimension, "zip"))) as archive:
        assert sorted(archive.namelist()) == sorted(
            ["datapackage.json", f"oqu-{dimension}-{PERIOD}.csv"]
        )
        assert archive.read(f"oqu-{dimension}-{PERIOD}.csv") == csv_bytes
        archive.extractall(tmp_path)
    report = _frictionless_validate(tmp_path / "datapackage.json")
    assert report["valid"], json.dumps(report["tasks"][0]["errors"][:3], ensure_ascii=False)
    assert report["tasks"][0]["stats"]["rows"] == len(frame)


def _width(sheet, column: int) -> float:
    """A column's width (openpyxl files adjacent columns of one width under the first)."""
    for dimension in sheet.column_dimensions.values():
        if dimension.min and dimension.min <= column <= dimension.max:
            return dimension.width
    return 0


def _frictionless_validate(path: Path) -> dict:
    command = Path(sys.executable).parent / "frictionless"
    done = subprocess.run(
        [str(command), "validate", "--json", str(path)],
        capture_output=True,
        text=True,
        cwd=path.parent,
        check=False,
    )
    return json.loads(done.stdout)


def test_data_package_says_what_a_reader_needs(session, population, tmp_path):
    with zipfile.ZipFile(io.BytesIO(_blob(session, "sex", "zip"))) as archive:
        descriptor = json.loads(archive.read("datapackage.json"))
    assert descriptor["$schema"] == "https://datapackage.org/profiles/2.0/datapackage.json"
    assert "by sex" in descriptor["title"] and descriptor["period"] == PERIOD
    assert "пол" in descriptor["titles"]["ru"] and "жынысы" in descriptor["titles"]["kk"]
    assert "10 or more" in descriptor["description"]
    assert "10 или больше" in descriptor["descriptions"]["ru"]
    assert descriptor["licenses"][0]["name"] == "CC-BY-4.0"
    assert descriptor["extracted_at"] and descriptor["sources"]
    resource = descriptor["resources"][0]
    assert resource["encoding"] == "utf-8" and resource["path"] == f"oqu-sex-{PERIOD}.csv"
    schema = resource["schema"]
    assert schema["missingValues"] == ["<10", "x"]
    assert schema["primaryKey"] == ["measure", "sex"]
    total = next(f for f in schema["fields"] if f["name"] == "total")
    assert total["type"] == "integer" and '"<10": 1 to 9' in total["description"]
    assert "от 1 до 9" in total["descriptions"]["ru"]
    # The JSON export carries the same Table Schema.
    assert json.loads(_blob(session, "sex", "json"))["schema"] == schema
    # A schema-aware reader takes the marks as missing values, not as bad integers.
    from frictionless import Package

    (tmp_path / "p").mkdir()
    with zipfile.ZipFile(io.BytesIO(_blob(session, "sex", "zip"))) as archive:
        archive.extractall(tmp_path / "p")
    rows = Package(str(tmp_path / "p" / "datapackage.json")).resources[0].read_rows()
    assert any(row["public"] is None for row in rows)
    assert all(isinstance(row["total"], int | None) for row in rows)


def test_api_and_dashboard_offer_the_data_package(client, session, make_user, login, population):
    from lms.api import services as api

    token = api.create_token(session, user=make_user(roles=["analyst"])).secret
    headers = {"Authorization": f"Bearer {token}"}
    csv_response = client.get(f"/api/v1/stats/exports/region.csv?period={PERIOD}", headers=headers)
    assert csv_response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert csv_response.data.startswith(b"\xef\xbb\xbfmeasure,region,")
    package = client.get(f"/api/v1/stats/exports/region.zip?period={PERIOD}", headers=headers)
    assert package.status_code == 200 and package.headers["Content-Type"] == "application/zip"
    assert f"oqu-region-{PERIOD}.zip" in package.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(package.data)) as archive:
        assert archive.read(f"oqu-region-{PERIOD}.csv") == csv_response.data
    login(make_user(roles=["analyst"]))
    html = client.get(f"/stats?period={PERIOD}").get_data(as_text=True)
    assert f"/stats/exports/region.zip?period={PERIOD}" in html
    dashboard_csv = client.get(f"/stats/exports/region.csv?period={PERIOD}")
    assert dashboard_csv.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_export_command_writes_a_data_package(app, session, population, tmp_path):
    out = tmp_path / "sector.zip"
    args = ["stats", "export", "--dimension", "sector", "--period", PERIOD, "--format", "zip"]
    result = app.test_cli_runner().invoke(args=[*args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        assert json.loads(archive.read("datapackage.json"))["name"] == "oqu-sector-2026-q1"
