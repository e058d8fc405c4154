"""With CSRF protection on, as in production: a beacon's save carries its token in the body
(it cannot send headers), a fetch in ``X-CSRFToken``; a request without one changes nothing;
after signing in again the page gets a fresh token."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import PASSWORD

from .conftest import draft_of, with_answer


@pytest.fixture
def app_settings(app_settings):
    return {**app_settings, "WTF_CSRF_ENABLED": True}


def sign_in(client, user):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code in (302, 303)


def page_token(client, url):
    html = client.get(url).get_data(as_text=True)
    return json.loads(html.split('id="ws-config">')[1].split("</script>")[0])["csrf"]


def test_a_beacon_save_carries_the_token_in_its_body(setup, client, url):
    sign_in(client, setup.learner)
    token = page_token(client, url)
    cells = with_answer(draft_of(client, setup)["cells"], "# sent on pagehide")
    payload = json.dumps({"base": 0, "cells": cells})
    refused = client.post(url + "/draft", data={"payload": payload})
    assert refused.status_code == 400 and refused.get_json()["error"] == "csrf"
    assert draft_of(client, setup)["revision"] == 0  # nothing saved without the token
    saved = client.post(url + "/draft", data={"payload": payload, "csrf_token": token})
    assert saved.status_code == 200 and saved.get_json()["revision"] == 1
    fetched = client.post(
        url + "/draft",
        json={"base": 1, "cells": with_answer(cells, "# by fetch")},
        headers={"X-CSRFToken": token},
    )
    assert fetched.get_json()["revision"] == 2


def test_after_signing_in_again_the_page_fetches_a_fresh_token(setup, client, url):
    sign_in(client, setup.learner)
    old = page_token(client, url)
    cells = with_answer(draft_of(client, setup)["cells"], "# kept")
    client.post("/logout", data={"csrf_token": old})
    response = client.post(
        url + "/draft", json={"base": 0, "cells": cells}, headers={"X-CSRFToken": old}
    )
    assert response.status_code == 401  # signed out: JSON, no redirect
    assert client.get(url + "/token").status_code == 401
    sign_in(client, setup.learner)
    fresh = client.get(url + "/token").get_json()["csrf_token"]
    saved = client.post(
        url + "/draft", json={"base": 0, "cells": cells}, headers={"X-CSRFToken": fresh}
    )
    assert saved.status_code == 200 and saved.get_json()["saved"] is True


def test_signing_out_tells_the_browser_to_wipe_what_it_kept(setup, client):
    sign_in(client, setup.learner)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").get_data(as_text=True))
    response = client.post("/logout", data={"csrf_token": token.group(1)})
    assert response.headers["Clear-Site-Data"] == '"storage"'
