"""Code that patches the test machinery is flagged for review, and honest code is not."""

from __future__ import annotations

import pytest

from graders.release import release_notebook
from graders.tampering import always_equal_classes

from .conftest import by_id, solve, source_notebook

RIGHT = "def add(a, b):\n    return a + b"


@pytest.fixture(scope="module")
def plain():
    return release_notebook(source_notebook(hidden=False))


@pytest.mark.parametrize(
    ("attack", "flag"),
    [
        ("import builtins\nbuiltins.abs = lambda x: 3", "patched-builtins"),
        (
            "import builtins\nclass Never(Exception): pass\nbuiltins.AssertionError = Never",
            "patched-builtins",
        ),
        ("get_ipython().showtraceback = lambda *a, **k: None", "patched-traceback"),
        (
            "from IPython.core.interactiveshell import InteractiveShell\n"
            "InteractiveShell.showtraceback = lambda *a, **k: None",
            "patched-traceback",
        ),
        ("import sys, io\nsys.stderr = io.StringIO()", "patched-output"),
        ("def isinstance(a, b):\n    return True", "shadowed-builtins"),
    ],
)
def test_patching_the_test_machinery_is_flagged(plain, grade_it, attack, flag):
    result = grade_it(plain.master, solve(plain.student, {"answer": RIGHT + "\n\n" + attack}))
    assert flag in result.flags
    assert result.status == "graded"


def test_an_object_equal_to_everything_is_flagged(plain, grade_it):
    cheat = (
        "class Anything:\n    def __eq__(self, other):\n        return True\n\n"
        "def add(a, b):\n    return Anything()"
    )
    result = grade_it(plain.master, solve(plain.student, {"answer": cheat}))
    assert "always-equal-object" in result.flags
    assert by_id(result)["test_add"].passed  # nbgrader's score stands; a person reviews


def test_a_solution_cell_marked_locked_is_still_the_learners_code(grade_it):
    # nbgrader never locks a solution cell, whatever its "locked" flag says: the learner
    # writes it, so it is read for tricks like any other answer.
    source = source_notebook(hidden=False)
    source.cells[1].metadata.nbgrader["locked"] = True
    released = release_notebook(source)
    cheat = (
        "class Anything:\n    def __eq__(self, other):\n        return True\n\n"
        "def add(a, b):\n    return Anything()"
    )
    result = grade_it(released.master, solve(released.student, {"answer": cheat}))
    assert "always-equal-object" in result.flags


def test_honest_code_raises_no_flag(plain, grade_it):
    honest = RIGHT + "\n\nimport math\nprint(math.sqrt(4))\nvalues = [len('abc'), abs(-1)]"
    result = grade_it(plain.master, solve(plain.student, {"answer": honest}))
    assert result.flags == []


def test_always_equal_detection_reads_the_source():
    assert always_equal_classes("class A:\n    __eq__ = lambda self, o: True") == ["A"]
    assert always_equal_classes("class B:\n    def __ne__(self, o):\n        return False") == ["B"]
    honest = "class P:\n    def __eq__(self, o):\n        return self.x == o.x"
    assert always_equal_classes(honest) == []


@pytest.mark.parametrize(
    "attack",
    [
        # Test cells would "run" without running: no output, so full points.
        "ip = get_ipython()\n_real = ip.run_cell\n"
        "def run_cell(raw_cell, *a, **k):\n"
        "    return _real('pass' if 'assert' in raw_cell else raw_cell, *a, **k)\n"
        "ip.run_cell = run_cell",
        "import ipykernel.ipkernel as k\n_real = k.IPythonKernel.do_execute\n"
        "async def do_execute(self, code, *a, **kw):\n"
        "    return await _real(self, 'pass' if 'assert' in code else code, *a, **kw)\n"
        "k.IPythonKernel.do_execute = do_execute",
    ],
)
def test_skipping_tests_inside_the_kernel_is_flagged(plain, grade_it, attack):
    wrong = "def add(a, b):\n    return 0\n\n" + attack
    result = grade_it(plain.master, solve(plain.student, {"answer": wrong}))
    assert {"patched-traceback", "patched-kernel"} & set(result.flags)


FORGE = """def add(a, b):
    if (a, b) == (1, 2):
        # Tell the grader "finished, all well" before the failing assertion really ends.
        k = get_ipython().kernel
        parent = k.get_parent("shell")
        k.session.send(k.iopub_socket, "status", {"execution_state": "idle"}, parent=parent)
        k.session.send(k.shell_stream, "execute_reply", {"status": "ok",
                       "execution_count": 1, "user_expressions": {}, "payload": []},
                       parent=parent, ident=k._parent_ident.get("shell"))
        import time
        time.sleep(0.3)
    return a - b"""


def test_forged_finished_messages_earn_nothing_and_are_flagged(plain, grade_it):
    result = grade_it(plain.master, solve(plain.student, {"answer": FORGE}))
    assert by_id(result)["test_add"].score == 0.0
    assert "forged-messages" in result.flags
