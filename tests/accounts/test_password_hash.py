"""The platform hashes passwords with scrypt; only the test suite's own run is cheaper."""

from __future__ import annotations

import subprocess
import sys

from werkzeug.security import check_password_hash


def test_outside_the_suite_passwords_are_hashed_with_scrypt() -> None:
    # A fresh interpreter, as gunicorn or the flask command would be: no conftest.
    code = (
        "from lms.accounts import services; "
        "print(services.hash_password('correct horse battery staple'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert out.startswith("scrypt:"), out
    assert check_password_hash(out, "correct horse battery staple")
    assert not check_password_hash(out, "correct horse battery stapler")
