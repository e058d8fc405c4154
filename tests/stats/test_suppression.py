"""No suppressed value can be recovered, or narrowed to fewer than three values, from its table.

The attacker reads the published marks: every shown cell and total exactly (zeros are
shown), a "<10" cell is in [1, 9], an "x" cell is 10 or more (every 1..9 cell is "<10").
For each hidden cell we minimise and maximise it under those bounds and the row and
column sums (the constraint matrix of a table with margins is totally unimodular, so the
LP bounds are integers). The attacker is written here from the marks, not from the module.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from lms.stats.exports import shown
from lms.stats.suppression import suppress, with_margins

COUNTS = [0, 0, 1, 2, 3, 5, 8, 9, 10, 11, 12, 15, 20, 30, 60]


def published(full: list[list[int]]) -> list[list[int | str]]:
    grid = suppress(full)
    return [[shown(grid, r, c) for c in range(len(full[0]))] for r in range(len(full))]


def attacker_lines(n_rows: int, n_cols: int):
    lines = [[(r, c) for c in range(n_cols)] for r in range(n_rows)] + [
        [(r, c) for r in range(n_rows)] for c in range(n_cols)
    ]
    return [line for line in lines if len(line) > 1]


def ranges(table: list[list[int | str]]) -> dict[tuple[int, int], tuple[float, float]]:
    """What the attacker can deduce about each hidden cell: (least, greatest)."""
    n_rows, n_cols = len(table), len(table[0])
    hidden = [(r, c) for r in range(n_rows) for c in range(n_cols) if isinstance(table[r][c], str)]
    if not hidden:
        return {}
    index = {p: i for i, p in enumerate(hidden)}
    a_eq, b_eq = [], []
    for line in attacker_lines(n_rows, n_cols):
        row, rhs = np.zeros(len(hidden)), 0.0
        for k, (r, c) in enumerate(line):
            sign = -1.0 if k == len(line) - 1 else 1.0  # members add up to the last
            if (r, c) in index:
                row[index[(r, c)]] += sign
            else:
                rhs -= sign * table[r][c]
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)
    mark_bounds = {"<10": (1, 9), "x": (10, None)}
    bounds = [mark_bounds[table[r][c]] for r, c in hidden]
    out = {}
    for i, p in enumerate(hidden):
        cost = np.zeros(len(hidden))
        cost[i] = 1
        low = linprog(cost, A_eq=a_eq or None, b_eq=b_eq or None, bounds=bounds)
        high = linprog(-cost, A_eq=a_eq or None, b_eq=b_eq or None, bounds=bounds)
        assert low.status == 0, "the marks contradict the totals"
        out[p] = (low.fun, float("inf") if high.status == 3 else -high.fun)
    return out


def recoverable(full: list[list[int]]) -> list[tuple[int, int]]:
    """Hidden cells the attacker pins to one value."""
    return [p for p, (low, high) in ranges(published(full)).items() if high - low < 0.5]


def too_narrow(full: list[list[int]]) -> list[tuple[int, int]]:
    """Hidden cells the attacker narrows to fewer than three values."""
    return [p for p, (low, high) in ranges(published(full)).items() if high - low < 1.5]


def check_marks(full: list[list[int]]) -> None:
    table = published(full)
    for r, line in enumerate(full):
        for c, v in enumerate(line):
            if v == 0:
                assert table[r][c] == 0
            elif table[r][c] == "<10":
                assert 1 <= v <= 9
            elif table[r][c] == "x":
                assert v >= 10
            else:
                assert table[r][c] == v
                # A small cell may be shown only if it is the table's grand total.
                assert v >= 10 or (r, c) == (len(full) - 1, len(line) - 1)


def column(values: list[int]) -> list[list[int]]:
    return [[v] for v in values] + [[sum(values)]]


@pytest.mark.parametrize(
    "values",
    [
        [120, 3, 45, 60],  # one small cell: the next smallest is hidden too
        [1, 1, 50, 70],  # two ones: a third cell is needed, else both are 1
        [9, 9, 200],  # two nines marked <10 would be pinned: a third is hidden
        [0, 5, 0, 40, 33],  # zeros shown, never used to hide
        [4, 0, 0],  # nothing else to hide: the table's total is hidden too
        [1, 10],  # the auditor's case: "<10" + "x" = 11 gave 1 and 10
        [3, 12, 500],
    ],
)
def test_one_dimensional_tables(values):
    full = column(values)
    check_marks(full)
    assert recoverable(full) == []
    assert too_narrow(full) == []
    if values == [4, 0, 0]:
        assert published(full)[3][0] == "<10"


def test_auditor_one_dimensional_counter_example():
    # Before: ["<10"], ["x"], [11]: the reader knew public = 1 and specialist = 10.
    full = [[1], [10], [11]]
    assert published(full)[2][0] != 11
    assert recoverable(full) == [] and too_narrow(full) == []


def test_auditor_two_dimensional_counter_example():
    # Before: [["x", "<10", 12], ["x", "<10", 29], [30, 11, 41]] gave every hidden cell.
    for interior in (
        [[10, 2], [20, 9]],
        [[1, 0], [10, 3], [25, 30]],
        [[20, 10], [1, 0], [15, 0], [0, 1], [1, 1]],
    ):
        full = with_margins(interior)
        check_marks(full)
        assert recoverable(full) == [], (interior, published(full))
        assert too_narrow(full) == [], (interior, published(full))


def test_zero_is_shown_and_the_total_never_hidden():
    full = column([0, 0, 3, 80])
    table = published(full)
    assert table[4][0] == 83 and table[0][0] == 0


def test_two_dimensional_tables_random():
    rng = random.Random(7)
    for _ in range(60):
        rows, cols = rng.randint(2, 5), rng.randint(2, 4)
        interior = [[rng.choice(COUNTS) for _ in range(cols)] for _ in range(rows)]
        full = with_margins(interior)
        check_marks(full)
        assert too_narrow(full) == [], (interior, published(full))


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    st.integers(1, 6).flatmap(
        lambda rows: st.integers(1, 3).flatmap(
            lambda cols: st.lists(
                st.lists(st.sampled_from(COUNTS), min_size=cols, max_size=cols),
                min_size=rows,
                max_size=rows,
            )
        )
    )
)
def test_no_hidden_cell_can_be_pinned_or_narrowed(interior):
    full = column([r[0] for r in interior]) if len(interior[0]) == 1 else with_margins(interior)
    check_marks(full)
    assert recoverable(full) == []
    assert too_narrow(full) == []


def test_every_line_has_none_or_at_least_two_hidden_cells():
    full = with_margins([[5, 40, 0], [30, 2, 70], [12, 13, 14]])
    table = published(full)
    for r in range(len(full)):
        assert sum(isinstance(table[r][c], str) for c in range(len(full[0]))) != 1
    for c in range(len(full[0])):
        assert sum(isinstance(table[r][c], str) for r in range(len(full))) != 1
    assert recoverable(full) == []
