"""/metrics in the web app: who may read it, what a request adds, the request id, JSON logs."""

from __future__ import annotations

import json
import logging

import pytest

from lms import create_app
from lms.db import db
from lms.monitoring import logs
from tests.monitoring.conftest import value

OUTSIDE = "203.0.113.9"
TOKEN = "metrics-token-0123456789abcdef"


@pytest.fixture
def metrics_app(app_settings, session):
    application = create_app({**app_settings, "METRICS_TOKEN": TOKEN, "PROXY_HOPS": 1})
    db.use_session(application, session)
    return application


def test_metrics_answer_the_machine_itself_and_the_token_holder_only(metrics_app):
    client = metrics_app.test_client()
    local = client.get("/metrics")
    assert local.status_code == 200
    assert local.headers["Content-Type"].startswith("text/plain; version=")
    assert "oqu_http_requests_total" in local.get_data(as_text=True)
    assert local.headers["Cache-Control"] == "no-store"

    outside = {"REMOTE_ADDR": OUTSIDE}
    assert client.get("/metrics", environ_base=outside).status_code == 404
    wrong = client.get("/metrics", environ_base=outside, headers={"Authorization": "Bearer x"})
    assert wrong.status_code == 404
    assert "oqu_" not in wrong.get_data(as_text=True)
    good = client.get(
        "/metrics", environ_base=outside, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert good.status_code == 200 and "oqu_http_requests_total" in good.get_data(as_text=True)


def test_behind_one_proxy_the_visitor_address_decides_not_the_proxy(metrics_app):
    client = metrics_app.test_client()
    # nginx on this machine forwards a visitor from outside: not the machine itself.
    relayed = client.get(
        "/metrics",
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
        headers={"X-Forwarded-For": OUTSIDE},
    )
    assert relayed.status_code == 404
    # A visitor who claims to be the loopback address is only the second hop: not trusted.
    forged = client.get(
        "/metrics",
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
        headers={"X-Forwarded-For": f"127.0.0.1, {OUTSIDE}"},
    )
    assert forged.status_code == 404


def test_without_a_token_setting_no_token_opens_it(app_settings, session):
    application = create_app({**app_settings, "METRICS_TOKEN": ""})
    db.use_session(application, session)
    response = application.test_client().get(
        "/metrics", environ_base={"REMOTE_ADDR": OUTSIDE}, headers={"Authorization": "Bearer "}
    )
    assert response.status_code == 404


def test_requests_are_counted_by_endpoint_and_status(client):
    before = client.get("/metrics").get_data(as_text=True)
    for _ in range(3):
        assert client.get("/courses").status_code == 200
    assert client.get("/no-such-page").status_code == 404
    after = client.get("/metrics").get_data(as_text=True)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    labels = {"endpoint": "courses.catalogue", "method": "GET", "status": "200"}
    assert grew("oqu_http_requests_total", **labels) == 3
    assert grew("oqu_http_request_duration_seconds_count", endpoint="courses.catalogue") == 3
    unmatched = {"endpoint": "unmatched", "method": "GET", "status": "404"}
    assert grew("oqu_http_requests_total", **unmatched) == 1
    # Each scrape counts itself; the requests before it have all ended.
    assert value(after, "oqu_http_requests_in_progress") >= 1
    assert grew("oqu_http_requests_in_progress") == 0


def test_each_response_carries_a_request_id_and_a_forged_one_is_replaced(client):
    own = client.get("/courses")
    assert len(own.headers["X-Request-Id"]) == 32
    assert client.get("/courses").headers["X-Request-Id"] != own.headers["X-Request-Id"]
    kept = client.get("/courses", headers={"X-Request-Id": "nginx-4f1c2a9b77e0"})
    assert kept.headers["X-Request-Id"] == "nginx-4f1c2a9b77e0"
    for forged in ('"><script>alert(1)</script>', "short", "x" * 65, "a b c d e f g h"):
        replaced = client.get("/courses", headers={"X-Request-Id": forged})
        assert replaced.headers["X-Request-Id"] != forged
        assert len(replaced.headers["X-Request-Id"]) == 32


def test_access_log_is_one_json_line_per_request_with_its_id(client, caplog):
    caplog.set_level(logging.INFO, logger="oqu.access")
    response = client.get("/courses?q=ai", headers={"X-Request-Id": "trace-0000aaaa"})
    records = [r for r in caplog.records if r.name == "oqu.access"]
    assert len(records) == 1
    line = logs.formatter("json").format(records[0])
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["request_id"] == "trace-0000aaaa" == response.headers["X-Request-Id"]
    assert entry["status"] == 200 and entry["endpoint"] == "courses.catalogue"
    assert entry["path"] == "/courses" and "q=ai" not in line  # queries may hold searches
    assert entry["level"] == "INFO" and entry["time"].endswith("+00:00")
