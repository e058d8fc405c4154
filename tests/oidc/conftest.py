"""A real OpenID provider, a proxy in front of it, a mail server and a live Oqu that uses them.

The provider is node ``oidc-provider`` (pinned in ``provider/package.json``; install it with
``(cd tests/oidc/provider && npm ci)``), run with the ``node`` on PATH. Everything reaches it
through ``TamperingProxy``, whose address is the issuer, so a test can alter what the
token endpoint answers on its way to Oqu. Mail goes to an ``aiosmtpd`` server on this
machine. These tests run only with ``LMS_TEST_OIDC=1`` (their own step in .ci/run).
"""

from __future__ import annotations

import base64
import email
import http.client
import json
import os
import re
import secrets
import select
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from lms import create_app
from tests.conftest import migrated_database, test_settings
from tests.e2e.conftest import CHROMIUM, browser, make_account  # noqa: F401 - fixtures

PROVIDER_DIR = Path(__file__).resolve().parent / "provider"
CLIENT_ID = "oqu-tests"
NAME = "idp"
LABEL = "Test ID"


@pytest.fixture(scope="session")
def node() -> str:
    if not os.environ.get("LMS_TEST_OIDC"):
        pytest.skip("single sign-on tests against a real provider run with LMS_TEST_OIDC=1")
    found = shutil.which("node")
    if found is None:
        pytest.skip("node is absent: the single sign-on tests need node on PATH")
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.skip("oidc-provider is not installed: run (cd tests/oidc/provider && npm ci)")
    if not os.path.exists(CHROMIUM):
        pytest.skip("no Chromium at /usr/bin/chromium")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TamperingProxy:
    """Passes every request to the provider; ``tamper`` may rewrite the token endpoint's
    JSON answer (the ID token, as a man in the middle would), and ``hold`` keeps the
    provider's redirect back to Oqu (``held``) instead of letting the browser follow it."""

    def __init__(self) -> None:
        self.target_port = 0
        self.tamper: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        self.hold = False
        self.held: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                proxy.forward(self)

            do_POST = do_GET

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def forward(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else None
        skip = {"connection", "keep-alive", "accept-encoding"}
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in skip}
        upstream = http.client.HTTPConnection("127.0.0.1", self.target_port, timeout=15)
        upstream.request(handler.command, handler.path, body=body, headers=headers)
        answer = upstream.getresponse()
        data = answer.read()
        upstream.close()
        tamper = self.tamper
        if tamper is not None and handler.path.split("?")[0] == "/token" and answer.status == 200:
            data = json.dumps(tamper(json.loads(data))).encode()
        location = answer.getheader("Location") or ""
        if self.hold and "/callback?" in location:
            self.held.append(location)
            answer.status, data = 200, b"held by the test"
        handler.send_response(answer.status)
        drop = {"content-length", "connection", "transfer-encoding", "keep-alive", "date", "server"}
        for key, value in answer.getheaders():
            if key.lower() not in drop and not (key.lower() == "location" and answer.status == 200):
                handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(data)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class People:
    """The provider's accounts: login -> the claims it asserts (read at every sign-in)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.write_text("{}")

    def add(self, **claims: Any) -> str:
        login = f"person-{uuid.uuid4().hex[:10]}"
        people = json.loads(self.path.read_text())
        people[login] = {"email_verified": True, **claims}
        self.path.write_text(json.dumps(people))
        return login


class Mailbox:
    """A local SMTP server (aiosmtpd) keeping every message it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[email.message.EmailMessage] = []
        mailbox = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                message = email.message_from_bytes(envelope.content, policy=default_policy)
                mailbox.messages.append(message)  # type: ignore[arg-type]
                return "250 Message accepted"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def wait_for(self, to: str, timeout: float = 15) -> email.message.EmailMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.messages:
                if message["To"] == to:
                    return message
            time.sleep(0.1)
        raise AssertionError(f"no mail to {to} within {timeout} s")

    def close(self) -> None:
        self.controller.stop()


@pytest.fixture(scope="module")
def proxy(node: str) -> Iterator[TamperingProxy]:
    running = TamperingProxy()
    yield running
    running.close()


@pytest.fixture(scope="module")
def mailbox(node: str) -> Iterator[Mailbox]:
    box = Mailbox()
    yield box
    box.close()


@pytest.fixture(scope="module")
def live_database(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[str]:
    with migrated_database(tmp_path_factory.mktemp("oidc"), f"oidc_{worker_id}") as url:
        yield url


@pytest.fixture(scope="module")
def live_app(
    live_database: str, proxy: TamperingProxy, mailbox: Mailbox, tmp_path_factory: Any
) -> Any:
    provider = {
        "name": NAME,
        "issuer": f"http://127.0.0.1:{proxy.port}",
        "client_id": CLIENT_ID,
        "client_secret": "a-client-secret-for-tests-only",
        "label": LABEL,
        "iin_claim": "iin",
    }
    return create_app(
        test_settings(
            live_database,
            tmp_path_factory.mktemp("oidc-instance"),
            WTF_CSRF_ENABLED=True,
            TESTING=False,
            OIDC_PROVIDERS=json.dumps([provider]),
            MAIL_HOST="127.0.0.1",
            MAIL_PORT=mailbox.port,
            MAIL_USE_TLS=False,
        )
    )


@pytest.fixture(scope="module")
def live_server(live_app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    address = f"http://127.0.0.1:{server.server_port}"
    live_app.config["BASE_URL"] = address
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield address
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> People:
    return People(tmp_path_factory.mktemp("oidc-people") / "people.json")


@pytest.fixture(scope="module")
def provider(
    node: str,
    proxy: TamperingProxy,
    live_app: Any,
    live_server: str,
    people: People,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """The running provider; returns its issuer (the proxy's address)."""
    folder = tmp_path_factory.mktemp("oidc-provider")
    port = free_port()
    issuer = f"http://127.0.0.1:{proxy.port}"
    config = {
        "issuer": issuer,
        "port": port,
        "cookie_key": secrets.token_hex(16),
        "accounts": str(people.path),
        "clients": [
            {
                "client_id": CLIENT_ID,
                "client_secret": "a-client-secret-for-tests-only",
                "redirect_uris": [f"{live_server}/login/oidc/{NAME}/callback"],
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
            }
        ],
    }
    (folder / "config.json").write_text(json.dumps(config))
    log = (folder / "provider.log").open("w")
    process = subprocess.Popen(
        [node, str(PROVIDER_DIR / "server.mjs"), str(folder / "config.json")],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    assert process.stdout is not None
    # "listening PORT" once it accepts connections; nothing within 30 s is a failure too.
    ready, _, _ = select.select([process.stdout], [], [], 30)
    line = process.stdout.readline() if ready else ""
    if not line.startswith("listening"):
        process.kill()
        log.close()
        raise AssertionError(f"the provider did not start: {(folder / 'provider.log').read_text()}")
    proxy.target_port = port
    yield issuer
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:  # noqa: F811 - the e2e fixture
    contexts: list[Any] = []

    def make(locale: str = "en-US") -> Any:
        context = browser.new_context(locale=locale, viewport={"width": 390, "height": 844})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        return page

    yield make
    for context in contexts:
        context.close()


def start_sign_in(page: Any, server: str, login: str, *, back: str | None = None) -> None:
    """From Oqu's login page through the provider's sign-in page back to Oqu (or to
    ``back``, an address that starts the page where the flow ends)."""
    back = back or server + "/"
    page.goto(f"{server}/login")
    page.click(f'a[href^="/login/oidc/{NAME}"]')
    page.wait_for_url(lambda url: "/interaction/" in url or url.startswith(back))
    if "/interaction/" in page.url:
        page.fill("#login", login)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: url.startswith(back) and "/interaction/" not in url)
        page.wait_for_load_state()


def signed_in_as(page: Any, server: str) -> str | None:
    """The e-mail on the profile page, or None when the browser is not signed in."""
    page.goto(f"{server}/profile")
    if "/profile" not in page.url:
        return None
    found = re.search(r"[\w.+-]+@[\w.-]+", page.inner_text("main"))
    return found.group(0) if found else None


def alter_id_token(token: dict[str, Any], **claims: Any) -> dict[str, Any]:
    """The token answer with claims of the ID token changed, its signature kept."""
    header, payload, signature = token["id_token"].split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(claims)
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return {**token, "id_token": f"{header}.{forged}.{signature}"}
