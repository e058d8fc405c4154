"""Statistical disclosure control for published tables: primary and secondary suppression.

A table is a grid of counts with row totals, column totals and a grand total, all
published. Cells counting 1..9 are suppressed (primary). Then, line by line (every row
and column, totals included as members of their line), more cells are suppressed until
no line holds exactly one suppressed cell, and no line's suppressed cells could be
pinned by what a reader knows: suppressed cells are at least 1 (zeros are shown) and
primary ones at most 9, so a line whose hidden sum equals its count of hidden cells
(all ones) or nine times it (all nines) gets one more. Further cells are taken smallest
first, never zeros; the table's grand total only when nothing else is left (the national
totals toward the targets are published elsewhere and never suppressed).

The line rules are necessary, not sufficient: several lines together can still pin a
cell. So a final audit bounds each hidden cell by linear programming over everything a
reader knows (the constraint matrix of a table with margins is totally unimodular, so
the bounds are integers) and hides one more cell beside any cell it can pin.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PRIMARY_MAX = 9


@dataclass
class Grid:
    """Counts with margins: ``cells[r][c]``, ``row_totals``, ``col_totals``, ``total``."""

    cells: list[list[int]]
    primary: set[tuple[int, int]] = field(default_factory=set)
    secondary: set[tuple[int, int]] = field(default_factory=set)

    @property
    def suppressed(self) -> set[tuple[int, int]]:
        return self.primary | self.secondary


def with_margins(interior: list[list[int]]) -> list[list[int]]:
    """The interior grid plus a total column and a total row (last row/column)."""
    rows = [list(r) + [sum(r)] for r in interior]
    width = len(rows[0]) if rows else 1
    rows.append([sum(r[c] for r in rows) for c in range(width)])
    return rows


def _lines(n_rows: int, n_cols: int) -> list[list[tuple[int, int]]]:
    return ([[(r, c) for c in range(n_cols)] for r in range(n_rows)]
            + [[(r, c) for r in range(n_rows)] for c in range(n_cols)])


def suppress(full: list[list[int]]) -> Grid:
    """Decide which cells of a grid with margins (see ``with_margins``) to hide."""
    grid = Grid(full)
    n_rows, n_cols = len(full), len(full[0]) if full else 0
    grand = (n_rows - 1, n_cols - 1)
    for r in range(n_rows):
        for c in range(n_cols):
            if 1 <= full[r][c] <= PRIMARY_MAX and (r, c) != grand:
                grid.primary.add((r, c))
    # A line of one cell (the rows of a one-column table) states nothing beyond the cell.
    lines = [line for line in _lines(n_rows, n_cols) if len(line) > 1]
    changed = True
    while changed:
        changed = False
        for line in lines:
            hidden = [p for p in line if p in grid.suppressed]
            if not hidden or not _exposed(grid, hidden):
                continue
            candidates = sorted((full[r][c], (r, c)) for (r, c) in line
                                if (r, c) not in grid.suppressed and full[r][c] > 0
                                and (r, c) != grand)
            if candidates:
                grid.secondary.add(candidates[0][1])
                changed = True
            elif grand in line and grand not in grid.suppressed:
                grid.secondary.add(grand)  # nothing else left: the table's total goes too
                changed = True
        if not changed:
            changed = _audit(grid, lines, grand)
    return grid


def pinned(grid: Grid, lines: list[list[tuple[int, int]]]) -> list[tuple[int, int]]:
    """Hidden cells whose value a reader can deduce from the shown cells and totals."""
    import numpy as np
    from scipy.optimize import linprog

    hidden = sorted(grid.suppressed)
    if not hidden:
        return []
    index = {p: i for i, p in enumerate(hidden)}
    a_eq, b_eq = [], []
    for line in lines:
        row, rhs = np.zeros(len(hidden)), 0.0
        for k, (r, c) in enumerate(line):
            sign = -1.0 if k == len(line) - 1 else 1.0  # members sum to the last (total)
            if (r, c) in index:
                row[index[(r, c)]] += sign
            else:
                rhs -= sign * grid.cells[r][c]
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)
    bounds = [(1, PRIMARY_MAX) if p in grid.primary else (1, None) for p in hidden]
    out = []
    for i, p in enumerate(hidden):
        cost = np.zeros(len(hidden))
        cost[i] = 1.0
        low = linprog(cost, A_eq=a_eq or None, b_eq=b_eq or None, bounds=bounds)
        high = linprog(-cost, A_eq=a_eq or None, b_eq=b_eq or None, bounds=bounds)
        if low.status == 0 and high.status == 0 and abs(low.fun + high.fun) < 1e-6:
            out.append(p)
    return out


def _audit(grid: Grid, lines: list[list[tuple[int, int]]], grand: tuple[int, int]) -> bool:
    for r, c in pinned(grid, lines):
        candidates = sorted((grid.cells[rr][cc], (rr, cc)) for line in lines
                            if (r, c) in line for (rr, cc) in line
                            if (rr, cc) not in grid.suppressed and grid.cells[rr][cc] > 0
                            and (rr, cc) != grand)
        if candidates:
            grid.secondary.add(candidates[0][1])
            return True
        if grand not in grid.suppressed:
            grid.secondary.add(grand)
            return True
    return False


def _exposed(grid: Grid, hidden: list[tuple[int, int]]) -> bool:
    if len(hidden) == 1:
        return True
    values = [grid.cells[r][c] for r, c in hidden]
    if sum(values) == len(values):
        return True
    return all(p in grid.primary for p in hidden) and sum(values) == PRIMARY_MAX * len(values)
