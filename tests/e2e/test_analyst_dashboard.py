"""The analyst's statistics dashboard in a real Chromium, in Russian: both targets with their
figures and progress bars, every chart drawn beside its table, and not one request leaving
127.0.0.1 (no CDN, no web font, no analytics)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from lms.db import db
from lms.stats import figures
from lms.stats.models import Milestone
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

LEARNERS = 400


@pytest.fixture(scope="module")
def seeded(live_app: Any) -> tuple[int, int]:
    """Synthetic learners with completions (the real CLI), and the people counted toward
    each target, read from the milestones (not from the counters the dashboard shows)."""
    result = live_app.test_cli_runner().invoke(
        args=["stats", "seed-synthetic", "--learners", str(LEARNERS), "--seed", "11", "--force"]
    )
    assert result.exit_code == 0, result.output
    with live_app.app_context():
        session = db.session()
        day = figures.today()
        trained = session.scalar(
            select(func.count()).select_from(Milestone).where(Milestone.first_day <= day)
        )
        specialists = session.scalar(
            select(func.count()).select_from(Milestone).where(Milestone.specialist_day <= day)
        )
    assert trained and specialists
    return int(trained), int(specialists)


@pytest.fixture
def desk_page(browser: Any) -> Iterator[tuple[Any, list[str]]]:
    """A desktop page in Russian; every request it makes is recorded, and any to another
    host is refused (so a CDN dependency fails here instead of waiting on the network)."""
    context = browser.new_context(locale="ru-RU", viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))

    def local_only(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            route.abort()

    context.route("**/*", local_only)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page, requests
    context.close()


def test_analyst_sees_progress_and_charts_without_a_cdn(
    desk_page: tuple[Any, list[str]], live_server: str, make_account: Any, seeded: tuple[int, int]
) -> None:
    page, requests = desk_page
    trained, specialists = seeded
    log_in(page, live_server, make_account(roles=("analyst",), locale="ru"))
    charts: dict[str, tuple[int, str]] = {}
    page.on(
        "response",
        lambda r: (
            charts.__setitem__(urlsplit(r.url).path, (r.status, r.headers.get("content-type", "")))
            if "/stats/charts/" in r.url
            else None
        ),
    )

    page.goto(f"{live_server}/stats")
    assert page.get_attribute("html", "lang") == "ru"
    assert page.inner_text("main h1") == "Продвижение к национальным целям"

    # The two targets: a progress bar each, with the figure, the target and the share.
    cards = page.locator("section.stats-targets .card")
    assert cards.count() == 2
    expected = [
        ("Обучены навыкам ИИ", trained, figures.TARGET_TRAINED),
        ("Отраслевые специалисты", specialists, figures.TARGET_SPECIALISTS),
    ]
    for i, (label, reached, target) in enumerate(expected):
        card = cards.nth(i)
        assert card.locator("h2").inner_text() == label
        bar = card.locator("progress")
        assert bar.get_attribute("max") == str(target)
        assert bar.get_attribute("value") == str(reached)
        assert bar.evaluate("el => el.position") == pytest.approx(reached / target)
        figure_line = card.locator("p").first.inner_text()
        assert figure_line.startswith(f"{reached:,} из {target:,}"), figure_line
        assert f"({100 * reached / target:.2f}%)" in figure_line

    # Every chart is an SVG drawn from this server, beside a table of its numbers.
    pairs = page.locator("div.stats-pair")
    assert pairs.count() == 1 + len(figures.DIMENSIONS)
    for i in range(pairs.count()):
        pair = pairs.nth(i)
        image = pair.locator("figure.chart img")
        image.scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
        assert image.get_attribute("alt")
        path = urlsplit(image.evaluate("img => img.currentSrc")).path
        status, content_type = charts.get(path, (0, ""))
        assert status == 200 and content_type.startswith("image/svg+xml"), path
        table = pair.locator("table")
        assert table.count() == 1 and table.locator("tbody tr").count() >= 1
    # The tier table agrees with the targets: people first trained, by tier, add up.
    tier_rows = page.locator("section[aria-labelledby=bd-tier] table tbody tr")
    new_trained = [
        int(tier_rows.nth(i).locator("td").nth(2).inner_text().replace(",", ""))
        for i in range(tier_rows.count())
    ]
    assert sum(new_trained) == trained

    stray = [
        url
        for url in requests
        if urlsplit(url).scheme not in ("data", "blob", "about")
        and urlsplit(url).hostname != "127.0.0.1"
    ]
    assert stray == [], f"requests left 127.0.0.1: {stray}"
    assert any("/stats/charts/" in url for url in requests)
