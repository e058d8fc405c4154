"""Forgery corpus for check-style cells (issue 15 item 4): a wrong answer plus one trick.

The check cell's value is compared outside the kernel with an expected value that never
enters it, so no trick played inside the kernel can make a wrong answer pass: each one
scores what the honest wrong answer scores. (Assert-style cells rely on the in-kernel
guard instead, and are covered where the guard is.)
"""

from __future__ import annotations

import pytest
from nbformat import v4

from graders.record import record_checks
from graders.release import release_notebook
from graders.settings import GraderSettings

from .checknb import check, with_checks
from .conftest import by_id, code, solve

SETUP = (
    "import math\nimport numpy as np\nimport pandas as pd\nraw = pd.Series([1.0, 2.0, 10.0, None])"
)
ANSWER = (
    "def fill(s):\n    ### BEGIN SOLUTION\n    return s.fillna(s.median())\n    ### END SOLUTION"
)
CHECK_CELL = (
    'oqu_check("median-fill", fill(raw.copy()))\n'
    'oqu_check("count", int(fill(raw.copy()).notna().sum()))'
)
ASSERT_CELL = (
    "filled = fill(pd.Series([1.0, None, 3.0]))\n"
    "assert np.allclose(filled.to_numpy(), [1.0, 2.0, 3.0])\n"
    "pd.testing.assert_series_equal(filled, pd.Series([1.0, 2.0, 3.0]))\n"
    "assert math.isclose(filled.sum(), 6.0)"
)
RIGHT = "def fill(s):\n    return s.fillna(s.median())"
WRONG = "def fill(s):\n    return s.fillna(0)"
MIME = "application/vnd.oqu.check+json"
PASSED_VALUE = {"t": "str", "v": "passed"}
PUBLISH = "from IPython.display import publish_display_data as _pub\n"
FAKE_CHECK = (
    PUBLISH + "def oqu_check(check_id, value):\n"
    "    _pub({@MIME: {'id': check_id, 'value': {'t': 'str', 'v': 'passed'}}})\n"
).replace("@MIME", repr(MIME))

# Each: code a cheat puts in the answer cell, with the wrong answer after it.
TRICKS = {
    "np-allclose": "np.allclose = lambda *a, **k: True",
    "np-testing": (
        "np.testing.assert_allclose = lambda *a, **k: None\n"
        "np.testing.assert_array_equal = lambda *a, **k: None"
    ),
    "pd-testing": (
        "pd.testing.assert_series_equal = lambda *a, **k: None\n"
        "pd.testing.assert_frame_equal = lambda *a, **k: None"
    ),
    "math-isclose": "math.isclose = lambda *a, **k: True",
    "series-median": "pd.Series.median = lambda self, *a, **k: 0.0",
    "frame-equals": (
        "pd.DataFrame.equals = lambda self, other: True\n"
        "pd.Series.equals = lambda self, other: True"
    ),
    "sys-modules-swap": (
        "import sys, types\nfake = types.ModuleType('pandas')\nfake.__dict__.update(pd.__dict__)\n"
        "fake.Series = type('Series', (), {})\nsys.modules['pandas'] = fake"
    ),
    "module-getattr": ("del np.allclose\nnp.__getattr__ = lambda name: (lambda *a, **k: True)"),
    "module-type-swap": (
        "import types\n"
        "class Lenient(types.ModuleType):\n"
        "    def __getattribute__(self, name):\n"
        "        if name in ('allclose', 'isclose'):\n"
        "            return lambda *a, **k: True\n"
        "        return super().__getattribute__(name)\n"
        "np.__class__ = Lenient"
    ),
    "rebound-setup-name": (
        "class Fake:\n    def __getattr__(self, name):\n        return lambda *a, **k: True\n"
        "np = Fake()"
    ),
    "oqu-check-says-passed": FAKE_CHECK,
    "oqu-check-sends-nothing": "oqu_check = lambda check_id, value: None",
    "printed-payload": (
        "import json\n_print = print\n"
        "def fill(s):\n"
        "    _print(json.dumps({@MIME: {'id': 'median-fill', 'value': PASSED}}))\n"
        "    return s.fillna(0)\n"
        "WRONG_NEXT = True"
    ),
    "displayed-payload": (
        PUBLISH + "_fill_wrong = lambda s: s.fillna(0)\n"
        "def fill(s):\n"
        "    _pub({@MIME: {'id': 'median-fill', 'value': PASSED}})\n"
        "    return _fill_wrong(s)\n"
        "WRONG_NEXT = False"
    ),
    "every-candidate": (
        PUBLISH + "from graders_forged import to_tagged\n"
        "def fill(s):\n"
        "    for guess in (s.fillna(0), s.fillna(s.mean()), s.fillna(s.median())):\n"
        "        _pub({@MIME: {'id': 'median-fill', 'value': to_tagged(guess)}})\n"
        "    return s.fillna(0)\n"
        "WRONG_NEXT = False"
    ),
    "lying-subclass": (
        "class Liar(pd.Series):\n"
        "    _metadata = []\n"
        "    @property\n"
        "    def _constructor(self):\n"
        "        return Liar\n"
        "    def __eq__(self, other):\n"
        "        return True\n"
        "    def to_numpy(self, *a, **k):\n"
        "        return np.array([1.0, 2.0, 10.0, 2.0])\n"
        "def fill(s):\n"
        "    return Liar(s.fillna(0))\n"
        "WRONG_NEXT = False"
    ),
    "always-equal": (
        "class Anything:\n    def __eq__(self, other):\n        return True\n"
        "def fill(s):\n    return Anything()\nWRONG_NEXT = False"
    ),
    "publisher-rewrites": (
        "shell = get_ipython()\n_real = shell.display_pub.publish\n"
        "def publish(data, *a, **k):\n"
        "    if @MIME in data:\n"
        "        data = {@MIME: {'id': data[@MIME]['id'], 'value': PASSED}}\n"
        "    return _real(data, *a, **k)\n"
        "shell.display_pub.publish = publish"
    ),
    "thread-repatches": (
        FAKE_CHECK + "import threading, time\n"
        "shell = get_ipython()\n"
        "def again():\n"
        "    while True:\n"
        "        shell.user_ns['oqu_check'] = oqu_check\n"
        "        pd.Series.equals = lambda self, other: True\n"
        "        time.sleep(0.0005)\n"
        "threading.Thread(target=again, daemon=True).start()"
    ),
}


@pytest.fixture(scope="module")
def release(provider):
    cells = [
        v4.new_markdown_cell("# Median fill"),
        code(SETUP, grade_id="setup", locked=True),
        code(ANSWER, grade_id="fill", solution=True),
        with_checks(
            code(CHECK_CELL, grade_id="test_checks", grade=True, points=2, locked=True),
            **{"median-fill": check(), "count": check()},
        ),
        code(ASSERT_CELL, grade_id="test_asserts", grade=True, points=1, locked=True),
    ]
    source = v4.new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    settings = GraderSettings(sandbox="off", cell_timeout=10.0, run_timeout=60.0)
    return release_notebook(record_checks(source, settings=settings, kernel_provider=provider))


def _answer(trick: str) -> str:
    code_ = TRICKS[trick].replace("@MIME", repr(MIME)).replace("PASSED", repr(PASSED_VALUE))
    if trick == "every-candidate":
        # The learner's own copy of a serialiser (any would do: the format is public).
        code_ = code_.replace(
            "from graders_forged import to_tagged\n",
            "import importlib.util, sys\n"
            f"_spec = importlib.util.spec_from_file_location('forged', {_serialiser()!r})\n"
            "_forged = importlib.util.module_from_spec(_spec); _spec.loader.exec_module(_forged)\n"
            "to_tagged = _forged.to_tagged\n",
        )
    if "WRONG_NEXT" in code_:
        return code_  # the trick defines the (wrong) fill itself
    return code_ + "\n" + WRONG


def _serialiser() -> str:
    import graders.checks_local

    return graders.checks_local.__file__


@pytest.fixture(scope="module")
def baseline(release, provider):
    settings = GraderSettings(sandbox="off", cell_timeout=10.0, run_timeout=60.0)
    from graders.autograde import grade

    def score(answer: str) -> dict:
        result = grade(
            release.master,
            solve(release.student, {"fill": answer}),
            settings=settings,
            kernel_provider=provider,
        )
        return by_id(result)

    right, wrong = score(RIGHT), score(WRONG)
    assert right["test_checks"].score == 2.0 and right["test_asserts"].score == 1.0
    assert wrong["test_checks"].score == 0.0 and wrong["test_asserts"].score == 0.0
    return score


@pytest.mark.parametrize("trick", sorted(TRICKS))
def test_a_trick_scores_what_the_honest_wrong_answer_scores(trick, baseline):
    cells = baseline(_answer(trick))
    checked = cells["test_checks"]
    assert checked.score == 0.0, (trick, checked.checks)
    assert not all(c["status"] == "passed" for c in checked.checks)
