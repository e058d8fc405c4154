"""No suppressed value can be recovered from the row and column totals of its table.

A reader knows every shown cell, every total, that hidden cells are at least 1 (zeros
are shown) and that cells marked "<10" are at most 9. For each hidden cell we minimise
and maximise it under those constraints (the constraint matrix of a table with margins
is totally unimodular, so the LP bounds are integers): recoverable iff min == max.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy.optimize import linprog

from lms.stats.suppression import suppress, with_margins


def recoverable(full: list[list[int]], grid) -> list[tuple[int, int]]:
    hidden = sorted(grid.suppressed)
    if not hidden:
        return []
    index = {p: i for i, p in enumerate(hidden)}
    n_rows, n_cols = len(full), len(full[0])
    a_eq, b_eq = [], []
    lines = [[(r, c) for c in range(n_cols)] for r in range(n_rows)] + [
        [(r, c) for r in range(n_rows)] for c in range(n_cols)]
    for line in lines:
        if len(line) < 2:
            continue
        # Each line: the interior members sum to its last member (the total).
        row = np.zeros(len(hidden))
        rhs = 0.0
        for k, (r, c) in enumerate(line):
            sign = -1.0 if k == len(line) - 1 else 1.0
            if (r, c) in index:
                row[index[(r, c)]] += sign
            else:
                rhs -= sign * full[r][c]
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)
    bounds = [(1, 9) if p in grid.primary else (1, None) for p in hidden]
    exposed = []
    for i, p in enumerate(hidden):
        cost = np.zeros(len(hidden))
        cost[i] = 1
        low = linprog(cost, A_eq=a_eq or None, b_eq=b_eq or None, bounds=bounds)
        high = linprog(-cost, A_eq=a_eq or None, b_eq=b_eq or None, bounds=bounds)
        assert low.status == 0
        if high.status == 0 and abs(low.fun + high.fun) < 1e-6:
            exposed.append(p)
    return exposed


def column(values: list[int]) -> list[list[int]]:
    return [[v] for v in values] + [[sum(values)]]


@pytest.mark.parametrize("values", [
    [120, 3, 45, 60],  # one small cell: the next smallest is hidden too
    [1, 1, 50, 70],  # two ones: a third cell is needed, else both are 1
    [9, 9, 200],  # two nines marked <10 would be pinned: a third is hidden
    [0, 5, 0, 40, 33],  # zeros shown, never used to hide
    [4, 0, 0],  # nothing else to hide: the table's total is hidden too
])
def test_one_dimensional_tables(values):
    full = column(values)
    grid = suppress(full)
    assert all((r, 0) in grid.primary for r, v in enumerate(values) if 1 <= v <= 9)
    assert all((r, 0) not in grid.suppressed for r, v in enumerate(values) if v == 0)
    assert recoverable(full, grid) == []
    if values == [4, 0, 0]:
        assert (3, 0) in grid.suppressed


def test_zero_is_shown_and_the_total_never_hidden():
    full = column([0, 0, 3, 80])
    grid = suppress(full)
    assert (4, 0) not in grid.suppressed and (0, 0) not in grid.suppressed


def test_two_dimensional_tables_random():
    rng = random.Random(7)
    checked = 0
    for _ in range(60):
        rows, cols = rng.randint(2, 5), rng.randint(2, 4)
        interior = [[rng.choice([0, 0, 1, 2, 3, 5, 8, 9, 12, 15, 30, 60]) for _ in range(cols)]
                    for _ in range(rows)]
        full = with_margins(interior)
        grid = suppress(full)
        for r, line in enumerate(full):
            for c, v in enumerate(line):
                if 1 <= v <= 9 and (r, c) != (len(full) - 1, len(line) - 1):
                    assert (r, c) in grid.suppressed
        assert recoverable(full, grid) == [], (interior, sorted(grid.suppressed))
        checked += 1
    assert checked > 40


def test_every_line_has_none_or_at_least_two_hidden_cells():
    full = with_margins([[5, 40, 0], [30, 2, 70], [12, 13, 14]])
    grid = suppress(full)
    for r in range(len(full)):
        assert sum((r, c) in grid.suppressed for c in range(len(full[0]))) != 1
    for c in range(len(full[0])):
        assert sum((r, c) in grid.suppressed for r in range(len(full))) != 1
    assert recoverable(full, grid) == []
