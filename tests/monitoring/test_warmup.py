"""A web worker imports the notebook machinery before its first request."""

from __future__ import annotations

import subprocess
import sys


def test_warmup_loads_nbformat_in_a_fresh_process() -> None:
    code = (
        "import sys; import lms; assert 'nbformat' not in sys.modules; "
        "from lms import warmup; warmup.run(); assert 'nbformat' in sys.modules; print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_gunicorns_worker_hook_does_the_warm_up() -> None:
    code = (
        "import sys; from lms.monitoring import gunicorn_conf; "
        "assert 'nbformat' not in sys.modules; gunicorn_conf.post_worker_init(None); "
        "assert 'nbformat' in sys.modules; print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
