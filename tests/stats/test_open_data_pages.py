"""The public open-data page, its files and catalogue: no account, no cookies, cacheable."""

from __future__ import annotations

import html as html_lib
import io
import re
import zipfile
from datetime import UTC, date, datetime

import pytest

from lms.stats import dimensions, opendata

TODAY = date(2026, 12, 7)


@pytest.fixture
def snapshots(session, make_user, make_course, complete):
    course = make_course("specialist")
    for i in range(14):
        user = make_user(region="KZ-75" if i < 12 else "KZ-11")
        complete(user, course, at=datetime(2026, 2, 10, tzinfo=UTC))
    made = opendata.publish(session, today=TODAY)
    assert made
    return made


def _main(page: str) -> str:
    main = page.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    text = re.sub(r"<[^>]+>", " ", main.split(">", 1)[1])
    return html_lib.unescape(text)


def test_page_in_kazakh_has_no_untranslated_word(client, snapshots):
    response = client.get("/open-data", headers={"Accept-Language": "kk"})
    assert response.status_code == 200
    text = _main(response.get_data(as_text=True))
    assert "Ашық деректер" in text and "Өңір" in text and "2026-Q1" in text
    latin = set(re.findall(r"[A-Za-z]{2,}", text)) - {"UTC", "CC", "BY", "Q"}
    assert not latin, f"untranslated: {sorted(latin)}"
    # Every dimension's latest package is linked.
    for dimension in dimensions.NAMES:
        assert f"/open-data/{dimension}-2026-Q1-v1.zip" in response.get_data(as_text=True)


@pytest.mark.parametrize("lang,words", [("ru", "Открытые данные"), ("en", "Open data")])
def test_page_speaks_russian_and_english(client, snapshots, lang, words):
    html = client.get("/open-data", headers={"Accept-Language": lang}).get_data(as_text=True)
    assert words in html and "5,000,000" in html


def test_page_answers_without_an_account_or_a_session_cookie(client, snapshots):
    response = client.get("/open-data")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert 'max="5000000" value="14"' in response.get_data(as_text=True)


def test_files_are_sent_without_cookies_even_to_a_signed_in_visitor(
    client, login, make_user, snapshots
):
    login(make_user())
    for path in ("/open-data/region-2026-Q1.zip", "/open-data/catalog.json"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Set-Cookie" not in response.headers, path
        assert "Cookie" not in response.headers.get("Vary", ""), path
        assert response.headers["Cache-Control"].startswith("public, max-age=")


def test_a_versioned_file_is_cached_for_a_year_and_revalidates(client, snapshots):
    response = client.get("/open-data/region-2026-Q1-v1.zip")
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Content-Type"] == "application/zip"
    assert "oqu-region-2026-Q1-v1.zip" in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        body = archive.read("oqu-region-2026-Q1.csv").decode("utf-8-sig")
    # 12 completions in Almaty show as 10; Astana's 2 as <10; the total 14 as 10 on its own.
    assert "completions,KZ-75," in body and ",0,10,10\r\n" in body
    assert re.search(r"completions,KZ-11,[^\r]*,0,<10,<10\r\n", body)
    again = client.get(
        "/open-data/region-2026-Q1-v1.zip", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


@pytest.mark.parametrize(
    "name", ["region-2026-Q4", "region-2026-Q1-v9", "nothing-2026-Q1", "region-2026"]
)
def test_unknown_files_are_404(client, snapshots, name):
    assert client.get(f"/open-data/{name}.zip").status_code == 404


def test_catalogue_is_dcat_json_ld(client, snapshots):
    response = client.get("/open-data/catalog.json")
    assert response.headers["Content-Type"].startswith("application/ld+json")
    body = response.json
    assert body["@context"]["dcat"] == "http://www.w3.org/ns/dcat#"
    assert body["@type"] == "dcat:Catalog"
    assert body["dct:license"]["@id"] == "https://creativecommons.org/licenses/by/4.0/"
    datasets = body["dcat:dataset"]
    # Every completed quarter since the first completion (2026-Q1 .. Q3), every dimension.
    assert len(datasets) == 3 * len(dimensions.NAMES)
    region = next(d for d in datasets if d["dct:identifier"] == "oqu-region-2026-Q1")
    assert region["dct:temporal"]["dcat:endDate"]["@value"] == "2026-03-31"
    url = region["dcat:distribution"][0]["dcat:downloadURL"]["@id"]
    assert url.endswith("/open-data/region-2026-Q1-v1.zip")
    assert client.get(url[url.index("/open-data/") :]).status_code == 200


def test_licence_setting_reaches_the_catalogue(app, client, snapshots):
    app.config["OPEN_DATA_LICENSE"] = "CC0-1.0"
    body = client.get("/open-data/catalog.json").json
    assert body["dct:license"]["@id"] == "https://creativecommons.org/publicdomain/zero/1.0/"


def test_home_page_shows_national_progress(client, snapshots):
    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "14 of 5,000,000 people trained in AI skills" in html
    assert 'href="/open-data"' in html


def test_open_data_has_its_own_rate_limit(app_settings, request):
    app_settings.update(RATELIMIT_ENABLED=True, RATELIMIT_OPEN_DATA="2 per day")
    client = request.getfixturevalue("client")
    assert client.get("/open-data/catalog.json").status_code == 200
    assert client.get("/open-data/catalog.json").status_code == 200
    assert client.get("/open-data/catalog.json").status_code == 429


def test_the_worker_publishes_daily(app, session, make_user, make_course, complete):
    from lms.assignments.tasks import make_celery
    from lms.stats import tasks

    celery = make_celery(app)
    tasks.schedule(celery)
    entry = celery.conf.beat_schedule["oqu-publish-open-data"]
    assert entry["task"] == tasks.PUBLISH_TASK
    assert "oqu-sweep-stuck-submissions" in celery.conf.beat_schedule  # kept
    complete(make_user(), make_course("public"), at=datetime(2026, 2, 10, tzinfo=UTC))
    made = tasks.publish_open_data.run.__func__(type("Task", (), {"app": celery})())
    assert made >= len(dimensions.NAMES)
