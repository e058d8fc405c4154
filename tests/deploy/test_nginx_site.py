"""deploy/nginx: Debian's nginx with the rendered site, in front of gunicorn, on loopback
ports: TLS, the request id, /metrics refused, static files, the upload cap, one proxy hop."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.monitoring.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(NGINX), reason="nginx is absent (apt-get install nginx)"),
]


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _get(url: str, data: bytes | None = None, headers: dict | None = None):
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), _NoRedirect)
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with opener.open(request, timeout=15) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_the_site_in_front_of_gunicorn(tmp_path, fresh_database):
    web, http, https = free_port(), free_port(), free_port()
    cert, key = _certificate(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LMS_", "PROMETHEUS_"))}
    env.update(
        LMS_DATABASE_URL=fresh_database,
        LMS_INSTANCE_PATH=str(tmp_path / "instance"),
        LMS_SECRET_KEY="test-secret-key",
        LMS_BROKER_URL=f"filesystem://{tmp_path / 'broker'}",
        LMS_PROXY_HOPS="1",
        LMS_MAX_UPLOAD_BYTES="100000",
    )
    site = subprocess.run(
        [str(ROOT / "deploy" / "nginx" / "render")],
        env={
            **env,
            "OQU_UPSTREAM": f"127.0.0.1:{web}",
            "OQU_HTTP_LISTEN": f"127.0.0.1:{http}",
            "OQU_HTTPS_LISTEN": f"127.0.0.1:{https}",
            "OQU_TLS_CERT": str(cert),
            "OQU_TLS_KEY": str(key),
        },
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "client_max_body_size 162k;" in site  # (100000 + 65536) bytes, rounded up
    (tmp_path / "oqu.conf").write_text(site)
    # Debian's main nginx.conf, reduced to what a test may use (files in tmp_path).
    (tmp_path / "nginx.conf").write_text(
        f"user root;\nworker_processes 1;\npid {tmp_path}/nginx.pid;\n"
        f"error_log {tmp_path}/error.log;\nevents {{ worker_connections 64; }}\n"
        "http {\n  include /etc/nginx/mime.types;\n  default_type application/octet-stream;\n"
        f"  access_log {tmp_path}/access.log;\n  client_body_temp_path {tmp_path}/body;\n"
        f"  proxy_temp_path {tmp_path}/proxy;\n  include {tmp_path}/oqu.conf;\n}}\n"
    )
    checked = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:lms.monitoring.gunicorn_conf",
             "wsgi:app", "--bind", f"127.0.0.1:{web}", "--workers", "1"],
            cwd=ROOT, env=env, stdout=out, stderr=out,
        )  # fmt: skip
    nginx = subprocess.Popen(
        [NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"]
    )
    base = f"https://127.0.0.1:{https}"
    try:
        deadline = time.monotonic() + 60
        while _get(f"{base}/healthz")[0] != 200:
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.3)
        status, headers, _ = _get(f"{base}/healthz")
        request_id = headers["X-Request-Id"]
        assert len(request_id) == 32 and "max-age" in headers["Strict-Transport-Security"]

        # /metrics: refused through the site even from this machine; direct it answers.
        assert _get(f"{base}/metrics")[0] == 404
        assert _get(f"http://127.0.0.1:{web}/metrics")[0] == 200

        status, headers, body = _get(f"{base}/static/oqu.css")
        assert status == 200 and headers["Server"].startswith("nginx") and "Expires" in headers
        assert body == (ROOT / "lms" / "static" / "oqu.css").read_bytes()

        status, headers, _ = _get(f"http://127.0.0.1:{http}/courses")
        assert status == 301 and headers["Location"].startswith("https://")

        big = b"x" * 200_000
        assert _get(f"{base}/login", data=big)[0] == 413  # stopped by nginx

        # A visitor's forged X-Forwarded-For is replaced by the address nginx saw.
        forged = _get(f"{base}/courses", headers={"X-Forwarded-For": "203.0.113.9"})
        assert forged[0] == 200
    finally:
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(timeout=20)
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=30)
    lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
    served = [x for x in lines if x.get("endpoint") == "courses.catalogue"]
    assert served and all(x["remote_addr"] == "127.0.0.1" for x in served)
    assert any(x.get("request_id") == request_id for x in lines)
    assert not [x for x in lines if x.get("path", "").startswith("/static/")]
