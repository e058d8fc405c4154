"""LMS_GRADER_PRELOAD: a pooled kernel imports the heavy modules before any learner code,
and leaves no trace a learner's code could tell apart from its own import (no name in the
namespace, the execution count not moved)."""

from __future__ import annotations

import pytest

from tests.sandbox.conftest import execute

pytestmark = [pytest.mark.sandbox, pytest.mark.xdist_group("sandbox")]


def test_a_preloaded_kernel_has_the_modules_and_nothing_else(kernel_factory):
    kernel = kernel_factory(preload="decimal,email.mime.text")
    result = execute(
        kernel,
        "import sys\n"
        "names = sorted(n for n in dir() if not n.startswith('_') and n not in "
        "('In', 'Out', 'exit', 'quit', 'get_ipython', 'open', 'sys'))\n"
        "print('decimal' in sys.modules, 'email.mime.text' in sys.modules, names)",
    )
    assert result.error is None
    assert result.stdout.strip() == "True True []"


def test_a_kernel_without_preload_has_not_imported_them(kernel_factory):
    kernel = kernel_factory()
    result = execute(kernel, "import sys\nprint('email.mime.text' in sys.modules)")
    assert result.stdout.strip() == "False"
