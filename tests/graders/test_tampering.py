"""Code that patches the test machinery is flagged for review, and honest code is not."""

from __future__ import annotations

import pytest
from nbformat import v4

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
        ("def other(a, b):\n    return 0\n\nother.__code__ = add.__code__", "patched-code"),
        ("import sys\nsys.addaudithook(lambda event, args: None)", "patched-tracing"),
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


FORGE_AND_DIE = """def _done_and_die():
    import os, time
    k = get_ipython().kernel
    parent = k.get_parent()
    # "Finished, all well" for the request being run, though the test has not ended.
    k.session.send(k.iopub_socket, "status", {{"execution_state": "idle"}}, parent=parent,
                   ident=k._topic("status"))
    k.session.send(k.shell_stream, "execute_reply", {{"status": "ok", "execution_count": 7,
                   "user_expressions": {{}}, "payload": []}}, parent=parent,
                   ident=k._parent_ident["shell"])
    # And "busy" for the requests that come next, if their ids can be guessed.
    prefix, _, number = parent["header"]["msg_id"].rpartition("_")
    for step in range(1, 8) if number.isdigit() else ():
        header = dict(parent["header"], msg_id=f"{{prefix}}_{{int(number) + step}}")
        k.session.send(k.iopub_socket, "status", {{"execution_state": "busy"}},
                       parent={{"header": header}}, ident=k._topic("status"))
    time.sleep({sleep})
    os._exit(0)

def add(a, b):
    if {cannot_answer}:
        _done_and_die()
    return {answer}
"""


def forge_and_die(*, cannot_answer: str, answer: str = "a + b", sleep: float = 1.0) -> str:
    return FORGE_AND_DIE.format(cannot_answer=cannot_answer, answer=answer, sleep=sleep)


def test_a_forged_finish_then_death_earns_nothing(plain, grade_it):
    # The kernel never takes up the next request, so the forged "finished" is not trusted.
    wrong = forge_and_die(cannot_answer="(a, b) == (1, 2)", answer="a - b")
    result = grade_it(plain.master, solve(plain.student, {"answer": wrong}))
    assert by_id(result)["test_add"].score == 0.0
    assert {"unconfirmed-cell", "kernel-stopped"} <= set(result.flags)


def test_a_forged_finish_in_the_last_cell_earns_nothing(grade_it):
    released = release_notebook(source_notebook(hidden=True))
    partial = forge_and_die(cannot_answer="a + b not in (3, 4)")
    result = grade_it(released.master, solve(released.student, {"answer": partial}))
    assert by_id(result)["test_add"].score == 1.0  # really passed, and confirmed
    assert by_id(result)["test_hidden"].score == 0.0  # the last code cell
    assert "unconfirmed-cell" in result.flags


def test_a_forged_finish_and_a_kernel_that_stays_busy_earns_nothing(plain, grade_it):
    wrong = forge_and_die(cannot_answer="(a, b) == (1, 2)", answer="a - b", sleep=60)
    result = grade_it(plain.master, solve(plain.student, {"answer": wrong}))
    assert by_id(result)["test_add"].score == 0.0
    assert "unconfirmed-cell" in result.flags


def test_a_crash_in_a_later_cell_keeps_the_points_earned_before_it(plain, grade_it):
    nb = solve(plain.student, {"answer": RIGHT})
    nb.cells.insert(3, v4.new_code_cell("import os\nos._exit(1)"))  # after test_add
    result = grade_it(plain.master, nb)
    assert by_id(result)["test_add"].score == 1.0
    assert "kernel-stopped" in result.flags and "unconfirmed-cell" not in result.flags
