"""Real servers for the accounts tests: gunicorn processes over one committed database, and
a small browser (cookies, the CSRF token, no redirects followed)."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Browser:
    """Cookies kept per browser; answers as (status, headers, text)."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def request(
        self, url: str, data: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(url, data=body, headers={"Accept-Language": "en"})
        try:
            with self.opener.open(req, timeout=30) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def csrf(self, url: str) -> str:
        status, _headers, html = self.request(url)
        assert status == 200, html[:300]
        found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
        assert found, html[:300]
        return found.group(1)

    def post_form(self, url: str, data: dict[str, str]) -> tuple[int, dict[str, str], str]:
        """GET the form (its CSRF token), then POST it."""
        return self.request(url, {**data, "csrf_token": self.csrf(url)})


@contextmanager
def servers(
    database_url: str, folder: Path, count: int = 2, **settings: str
) -> Iterator[tuple[list[str], Path]]:
    """``count`` gunicorn servers (a worker each: separate processes) on one database;
    their base URLs and the log they share."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LMS_", "PROMETHEUS_"))}
    env.update(
        LMS_DATABASE_URL=database_url,
        LMS_INSTANCE_PATH=str(folder),
        LMS_SECRET_KEY="test-secret-key",
        LMS_BROKER_URL=f"filesystem://{folder / 'broker'}",
        LMS_METRICS_ENABLED="false",
        LMS_LOG_FORMAT="text",
        LMS_GRADER_SANDBOX="off",
    )
    env.update({f"LMS_{k}": v for k, v in settings.items()})
    log = folder / "servers.log"
    processes: list[subprocess.Popen[bytes]] = []
    bases: list[str] = []
    with open(log, "ab") as out:
        for _ in range(count):
            port = free_port()
            command = [
                sys.executable, "-m", "gunicorn", "wsgi:app",
                "--bind", f"127.0.0.1:{port}", "--workers", "1",
            ]  # fmt: skip
            processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out))
            bases.append(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 90
        for base, process in zip(bases, processes, strict=True):
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/healthz", timeout=5) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                assert time.monotonic() < deadline and process.poll() is None, log.read_text()
                time.sleep(0.2)
        yield bases, log
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)
