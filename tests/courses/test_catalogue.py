"""The catalogue: published courses only, filters, title search, texts in the UI language."""

from __future__ import annotations

import re

import pytest
from flask_babel import refresh
from sqlalchemy.orm import Session

from lms.courses import services
from lms.courses.models import Course, Tier


@pytest.fixture
def catalogue(session: Session) -> dict[str, Course]:
    def course(slug: str, **fields) -> Course:
        values = {
            "tier": Tier.PUBLIC,
            "languages": ["kk", "ru", "en"],
            "sectors": [],
            "published": True,
            "title": {"kk": f"{slug} kk", "ru": f"{slug} ru", "en": f"{slug} en"},
            "summary": {"en": f"About {slug}"},
        }
        values.update(fields)
        made = Course(slug=slug, **values)
        session.add(made)
        return made

    made = {
        "everyone": course(
            "everyone",
            title={
                "kk": "Жасанды интеллект баршаға",
                "ru": "Искусственный интеллект для всех",
                "en": "AI for Everyone",
            },
        ),
        "mining": course(
            "mining",
            tier=Tier.SPECIALIST,
            sectors=["B"],
            languages=["ru", "en"],
            title={"ru": "ИИ в горнодобыче", "en": "AI in Mining"},
        ),
        "farming": course(
            "farming",
            tier=Tier.SPECIALIST,
            sectors=["A"],
            languages=["kk"],
            title={"kk": "Ауыл шаруашылығындағы ЖИ"},
            summary={"kk": "Егіншілерге арналған курс"},
        ),
        "draft": course("draft", published=False, title={"en": "Secret draft course"}),
    }
    session.flush()
    return made


def titles(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", t).strip()
        for t in re.findall(r'<h2 class="card-title">(.*?)</h2>', html, re.S)
    ]


def page(client, query: str = "", lang: str = "en") -> str:
    client.set_cookie("oqu_lang", lang)
    # The test's app context outlives each request, and Flask-Babel keeps the locale there.
    refresh()
    response = client.get("/courses" + query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_published_courses_only(client, catalogue) -> None:
    html = page(client)
    assert titles(html) == ["AI for Everyone", "Ауыл шаруашылығындағы ЖИ", "AI in Mining"]
    assert "Secret draft course" not in html
    assert "3 courses" in html


def test_filters_by_tier_language_and_sector(client, catalogue) -> None:
    assert titles(page(client, "?tier=specialist")) == ["Ауыл шаруашылығындағы ЖИ", "AI in Mining"]
    assert titles(page(client, "?tier=public")) == ["AI for Everyone"]
    assert titles(page(client, "?language=kk")) == ["AI for Everyone", "Ауыл шаруашылығындағы ЖИ"]
    # A course for every sector ([] sectors) is shown for any sector.
    assert titles(page(client, "?sector=B")) == ["AI for Everyone", "AI in Mining"]
    assert titles(page(client, "?tier=specialist&language=ru&sector=B")) == ["AI in Mining"]
    assert "No course matches these filters." in page(
        client, "?tier=public&sector=A&language=kk&q=mining"
    )


def test_search_by_title_in_any_language_ignoring_case(client, catalogue) -> None:
    assert titles(page(client, "?q=everyone")) == ["AI for Everyone"]
    assert titles(page(client, "?q=ГОРНОДОБЫЧЕ")) == ["AI in Mining"]
    assert titles(page(client, "?q=шаруашылығындағы")) == ["Ауыл шаруашылығындағы ЖИ"]
    assert titles(page(client, "?q=secret")) == []


def test_unknown_filter_values_show_everything(client, catalogue) -> None:
    assert len(titles(page(client, "?tier=vip&language=xx&sector=ZZ"))) == 3
    assert titles(page(client, "?tier=vip&language=kk")) == [
        "AI for Everyone",
        "Ауыл шаруашылығындағы ЖИ",
    ]


def test_texts_in_the_ui_language_with_fallback(client, catalogue) -> None:
    html = page(client, lang="kk")
    assert titles(html)[0] == "Жасанды интеллект баршаға"
    # "mining" has no Kazakh title: the course's first language (ru) is shown.
    assert "ИИ в горнодобыче" in titles(html)
    assert "<h1>Курстар</h1>" in html  # the page itself is in Kazakh
    assert '<label for="tier">Деңгей</label>' in html
    assert 'class="badge specialist">Мамандарға' in html
    assert "<h1>Курсы</h1>" in page(client, lang="ru")
    assert "Егіншілерге арналған курс" in page(client, lang="ru")


def test_cards_show_tier_and_languages(client, catalogue) -> None:
    html = page(client, "?q=mining")
    assert 'class="badge specialist">Specialist' in html
    assert '<span lang="ru">Русский</span>' in html and '<span lang="en">English</span>' in html
    assert '<span lang="kk">' not in html


def test_cards_link_to_the_course_page_when_there_is_one(app, client, catalogue) -> None:
    html = page(client, "?q=everyone")
    if "learning.course" in app.view_functions:
        with app.test_request_context():
            from flask import url_for

            target = url_for("learning.course", slug="everyone")
        assert re.search(rf'<h2 class="card-title">\s*<a href="{re.escape(target)}"', html)
    else:
        assert not re.search(r'<h2 class="card-title">\s*<a ', html)


def test_every_filter_has_a_label(client, catalogue) -> None:
    html = page(client)
    for name in ("q", "tier", "language", "sector"):
        assert re.search(rf'<label for="{name}">', html), name
        assert re.search(rf'id="{name}"', html), name


def test_service_filters_work_without_a_request(session, catalogue) -> None:
    assert [c.slug for c in services.published_courses(session)] == [
        "everyone",
        "farming",
        "mining",
    ]
    assert [
        c.slug for c in services.published_courses(session, tier="specialist", query="ai in")
    ] == ["mining"]
    assert services.get_course(session, "mining").slug == "mining"
    with pytest.raises(services.CourseNotFound):
        services.get_course(session, "draft")
    assert services.get_course(session, "draft", include_drafts=True).published is False


def test_filters_keep_the_choice_in_the_page_language(client, catalogue) -> None:
    # The filter menus are rendered once per language and choice, then reused.
    for _ in range(2):
        english = page(client, "?sector=B&tier=specialist", lang="en")
        russian = page(client, "?sector=B", lang="ru")
    assert '<option selected value="B">B: Mining and quarrying</option>' in english
    assert '<option selected value="specialist">Specialist</option>' in english
    assert '<option selected value="B">B: Горнодобывающая промышленность' in russian
    assert '<option selected value="">Все уровни</option>' in russian
    assert 'selected value="B"' not in page(client, "?sector=ZZ", lang="en")
