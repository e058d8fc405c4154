"""Static files carry their content hash in the URL and are then kept for a year."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[1] / "lms" / "static"


def test_pages_link_static_files_by_content_and_those_are_kept_for_a_year(client) -> None:
    html = client.get("/").get_data(as_text=True)
    found = re.search(r'href="(/static/oqu\.css\?v=([0-9a-f]+))"', html)
    assert found, "the stylesheet is linked with its version"
    expected = hashlib.sha256((STATIC / "oqu.css").read_bytes()).hexdigest()[:12]
    assert found.group(2) == expected
    response = client.get(found.group(1))
    assert response.status_code == 200
    assert response.cache_control.max_age == 365 * 24 * 3600
    assert response.cache_control.immutable and response.cache_control.public


def test_an_unversioned_or_stale_url_is_not_kept_for_long(client) -> None:
    for url in ("/static/oqu.css", "/static/oqu.css?v=000000000000"):
        response = client.get(url)
        assert response.status_code == 200
        assert not response.cache_control.immutable
        assert (response.cache_control.max_age or 0) < 365 * 24 * 3600


def test_a_missing_file_is_a_404_and_no_version_is_invented(client) -> None:
    assert client.get("/static/nothing-here.css?v=abc").status_code == 404
