"""The in-kernel guard: how a test cell is read and run cannot be changed by learner code, and
objects that say they equal anything are found at run time; honest notebooks see no change."""

from __future__ import annotations

import time

import pytest
from nbformat import v4

from graders import tampering
from graders.release import release_notebook

from .conftest import ANSWER, by_id, code, solve, source_notebook

RIGHT = "def add(a, b):\n    return a + b"
WRONG = "def add(a, b):\n    return 0\n\n"


@pytest.fixture(scope="module")
def plain():
    return release_notebook(source_notebook(hidden=False))


@pytest.fixture(scope="module")
def hidden():
    return release_notebook(source_notebook(hidden=True))


# Each makes the wrong answer above pass every test cell when nothing stops it.
SKIP_TESTS = {
    "ast-transformer": (
        "import ast\n"
        "class Pass(ast.NodeTransformer):\n"
        "    def visit_Assert(self, node):\n"
        "        return ast.Pass()\n"
        "get_ipython().ast_transformers.append(Pass())",
        "patched-transformers",
    ),
    "input-transformer-post": (
        "get_ipython().input_transformers_post.append(\n"
        "    lambda lines: [l.replace('assert ', 'pass #') for l in lines])",
        "patched-transformers",
    ),
    "input-transformer-cleanup": (
        "get_ipython().input_transformers_cleanup.append(\n"
        "    lambda lines: [l.replace('assert ', 'pass #') for l in lines])",
        "patched-transformers",
    ),
    "transformer-manager-class": (
        "from IPython.core.inputtransformer2 import TransformerManager\n"
        "_real = TransformerManager.transform_cell\n"
        "TransformerManager.transform_cell = lambda self, cell: _real(\n"
        "    self, cell.replace('assert ', 'pass #'))",
        "patched-transformers",
    ),
    "post-run-cell-event": (
        # After the failing test: the error is wiped from the outputs and from the reply.
        "from IPython.display import clear_output\n"
        "def hide(result):\n"
        "    result.error_in_exec = None\n"
        "    clear_output()\n"
        "get_ipython().events.register('post_run_cell', hide)",
        "patched-events",
    ),
}


@pytest.mark.parametrize("attack", sorted(SKIP_TESTS))
def test_changing_how_test_cells_run_gains_nothing_and_is_flagged(plain, grade_it, attack):
    source, flag = SKIP_TESTS[attack]
    result = grade_it(plain.master, solve(plain.student, {"answer": WRONG + source}))
    assert by_id(result)["test_add"].score == 0.0
    assert flag in result.flags
    assert result.status == "graded"


def test_a_trace_function_that_jumps_over_asserts_is_removed(grade_it):
    # A trace function may jump only within one code block: a test that checks inside a
    # function of its own is one.
    check = "def check():\n    assert add(1, 2) == 3\n    return True\n\nassert check()"
    source = source_notebook(hidden=False)
    source.cells[2].source = check
    released = release_notebook(source)
    jump = (
        "import sys, linecache\n"
        "def jump(frame, event, arg):\n"
        "    if 'ipykernel_' not in frame.f_code.co_filename:\n"
        "        return None\n"
        "    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno)\n"
        "    if event == 'line' and line.lstrip().startswith('assert'):\n"
        "        try:\n"
        "            frame.f_lineno += 1\n"
        "        except ValueError:\n"
        "            pass\n"
        "    return jump\n"
        "sys.settrace(jump)"
    )
    result = grade_it(released.master, solve(released.student, {"answer": WRONG + jump}))
    assert by_id(result)["test_add"].score == 0.0
    assert "patched-tracing" in result.flags


def test_hidden_tests_are_guarded_too(hidden, grade_it):
    source, _ = SKIP_TESTS["ast-transformer"]
    result = grade_it(hidden.master, solve(hidden.student, {"answer": WRONG + source}))
    assert [by_id(result)[g].score for g in ("test_add", "test_hidden")] == [0.0, 0.0]
    assert "patched-transformers" in result.flags


def test_an_answer_cell_that_fails_after_patching_gains_nothing(plain, grade_it):
    # A failed cell's request carries no check: the grader asks for it on its own.
    source, flag = SKIP_TESTS["ast-transformer"]
    answer = WRONG + source + "\nraise ValueError('this cell fails on purpose')"
    result = grade_it(plain.master, solve(plain.student, {"answer": answer}))
    assert by_id(result)["test_add"].score == 0.0
    assert flag in result.flags


def test_patching_from_inside_a_test_does_not_reach_the_next_test(hidden, grade_it):
    source, flag = SKIP_TESTS["ast-transformer"]
    answer = (
        "def add(a, b):\n"
        "    if not get_ipython().ast_transformers:\n"
        + "".join("        " + line + "\n" for line in source.splitlines())
        + "    return 0"
    )
    result = grade_it(hidden.master, solve(hidden.student, {"answer": answer}))
    assert by_id(result)["test_hidden"].score == 0.0
    assert flag in result.flags


def test_tracing_switched_on_inside_a_test_is_flagged(plain, grade_it):
    answer = "import sys\n\ndef add(a, b):\n    sys.settrace(lambda *args: None)\n"
    answer += "    sys.settrace(None)\n    return a + b"
    result = grade_it(plain.master, solve(plain.student, {"answer": answer}))
    assert "patched-tracing" in result.flags


def test_a_kernel_of_another_python_compiles_the_guard_from_source(plain, grade_it, monkeypatch):
    source, bytecode, _ = tampering._guard_code()
    monkeypatch.setattr(tampering, "_guard_code", lambda: (source, bytecode, "not-this-python"))
    attack, flag = SKIP_TESTS["ast-transformer"]
    result = grade_it(plain.master, solve(plain.student, {"answer": WRONG + attack}))
    assert by_id(result)["test_add"].score == 0.0
    assert flag in result.flags


def test_removing_the_guard_stops_the_run(plain, grade_it):
    attack, _ = SKIP_TESTS["ast-transformer"]
    remove = "\nimport sys\nfor name in [n for n in vars(sys) if n.startswith('_oqu')]:\n"
    remove += "    delattr(sys, name)"
    result = grade_it(plain.master, solve(plain.student, {"answer": WRONG + attack + remove}))
    assert by_id(result)["test_add"].score == 0.0
    assert {"probe-failed", "kernel-stopped"} <= set(result.flags)


def test_set_up_before_the_first_answer_stays_in_force(grade_it):
    # An instructor's transformer (as ipytest installs one) and event, set up before the
    # first answer cell, keep applying to the tests; learner magics change nothing.
    setup = (
        "import ast\n"
        "class Expected(ast.NodeTransformer):\n"
        "    def visit_Name(self, node):\n"
        "        return ast.Constant(3) if node.id == 'EXPECTED' else node\n"
        "get_ipython().ast_transformers.append(Expected())\n"
        "runs = []\n"
        "get_ipython().events.register('pre_run_cell', lambda info: runs.append(1))"
    )
    source = v4.new_notebook(
        cells=[
            code(setup, grade_id="setup", locked=True),
            code(ANSWER, grade_id="answer", solution=True),
            code(
                "assert add(1, 2) == EXPECTED\nassert len(runs) >= 2",
                grade_id="test_add",
                grade=True,
                points=1,
            ),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )
    released = release_notebook(source)
    honest = "%load_ext autoreload\n%autoreload 2\n%matplotlib inline\n" + RIGHT
    result = grade_it(released.master, solve(released.student, {"answer": honest}))
    assert by_id(result)["test_add"].score == 1.0
    assert result.flags == []


# --- objects equal to everything, found at run time -----------------------------------------

# (definitions, what add returns): none of them is caught by reading the source.
ALWAYS_EQUAL = {
    "type-call": ("X = type('X', (), {'__eq__': lambda s, o: 1, '__hash__': lambda s: 0})", "X()"),
    "not-false": (
        "class X:\n    def __eq__(self, o):\n        return not False\n"
        "    __hash__ = object.__hash__",
        "X()",
    ),
    "never-unequal": (
        "class X:\n"
        "    def __eq__(self, o):\n        return NotImplemented\n"
        "    def __ne__(self, o):\n        return 0",
        "X()",
    ),
    "inherited-from-stdlib": (
        "from unittest import mock\nclass X(type(mock.ANY)):\n    pass",
        "X()",
    ),
    "metaclass": (
        "class Meta(type):\n    def __eq__(cls, o):\n        return 'yes'\n"
        "    __hash__ = type.__hash__\nclass X(metaclass=Meta):\n    pass",
        "X",
    ),
    "claims-a-library-module": (
        "class X:\n    __module__ = 'collections'\n    def __eq__(self, o):\n        return [1]",
        "X()",
    ),
}


@pytest.mark.parametrize("cheat", sorted(ALWAYS_EQUAL))
def test_an_object_equal_to_everything_is_found_at_run_time(plain, grade_it, cheat):
    definitions, returned = ALWAYS_EQUAL[cheat]
    answer = f"{definitions}\n\ndef add(a, b):\n    return {returned}"
    assert tampering.always_equal_classes(answer) == []  # the source check misses them
    result = grade_it(plain.master, solve(plain.student, {"answer": answer}))
    assert "always-equal-object" in result.flags
    assert result.status == "graded"


HONEST_CLASSES = """
import dataclasses, enum, fractions, collections

@dataclasses.dataclass
class Point:
    x: int
    y: int

class Money:
    def __init__(self, cents):
        self.cents = cents
    def __eq__(self, other):
        return isinstance(other, Money) and self.cents == other.cents
    __hash__ = None

class Grade(enum.Enum):
    A = 1

class Big(int):
    pass

Pair = collections.namedtuple('Pair', 'a b')

class Hangs:
    def __eq__(self, other):
        while True:
            pass

class Fails:
    def __eq__(self, other):
        raise RuntimeError('no')

class Exits:
    def __ne__(self, other):
        raise SystemExit(3)

values = [Point(1, 2), Money(5), Grade.A, Big(3), Pair(1, 2), fractions.Fraction(1, 3)]
"""


def test_honest_classes_and_odd_ones_are_not_flagged_and_never_hang(plain, grade_it):
    started = time.monotonic()
    answer = HONEST_CLASSES + "\n" + RIGHT
    result = grade_it(plain.master, solve(plain.student, {"answer": answer}))
    assert time.monotonic() - started < 15
    assert result.flags == []
    assert by_id(result)["test_add"].score == 1.0


def test_the_guard_leaves_an_honest_notebook_as_nbgrader_would(plain, grade_it):
    extra = [v4.new_code_cell("print('after the tests')")]
    nb = solve(plain.student, {"answer": RIGHT})
    nb.cells[-1:-1] = extra
    result = grade_it(plain.master, nb)
    assert result.flags == [] and result.reason == ""
    assert by_id(result)["test_add"].passed
