"""Statistical disclosure control for published tables: primary and secondary suppression.

A table is a grid of counts with row totals, column totals and a grand total. Cells
counting 1..9 are suppressed and shown as ``<10`` (primary). Further cells are hidden and
shown as ``x`` (secondary); those are always 10 or more, because every cell of 1..9 is
already primary (a hidden grand total of 1..9 is shown as ``<10`` for the same reason).
So the marks themselves tell a reader something, and the protection check assumes a
reader who knows it all:

- every shown cell and total exactly, zeros included (zeros are shown, never hidden);
- a ``<10`` cell is in [1, 9], an ``x`` cell is in [10, infinity);
- each row and each column (totals included) adds up.

Protection criterion: for every hidden cell, the smallest and largest value a reader can
derive (integer linear bounds over those constraints) are at least ``MIN_RANGE - 1``
apart, i.e. the cell keeps at least ``MIN_RANGE`` (three) possible values. In particular
no hidden cell can be pinned to one value.

Method: primary cells first; then, while some hidden cell is too narrow, hide one more
cell beside it (in one of its lines; smallest non-zero first), else the smallest non-zero
cell anywhere, else the table's grand total. Narrow cells are found first line by line
(cheap interval propagation), then by linear programming over the whole table (the
constraint matrix of a table with margins is totally unimodular, so the LP bounds are
integers). Exports read only the counters, so tables are small (tens of rows).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

PRIMARY_MAX = 9
SECONDARY_MIN = PRIMARY_MAX + 1
MIN_RANGE = 3  # a hidden cell keeps at least this many values a reader cannot rule out

Cell = tuple[int, int]
Line = list[Cell]


@dataclass
class Grid:
    """Counts with margins: ``cells[r][c]``, ``row_totals``, ``col_totals``, ``total``."""

    cells: list[list[int]]
    primary: set[Cell] = field(default_factory=set)
    secondary: set[Cell] = field(default_factory=set)

    @property
    def suppressed(self) -> set[Cell]:
        return self.primary | self.secondary


def with_margins(interior: list[list[int]]) -> list[list[int]]:
    """The interior grid plus a total column and a total row (last row/column)."""
    rows = [list(r) + [sum(r)] for r in interior]
    width = len(rows[0]) if rows else 1
    rows.append([sum(r[c] for r in rows) for c in range(width)])
    return rows


def _lines(n_rows: int, n_cols: int) -> list[Line]:
    return [[(r, c) for c in range(n_cols)] for r in range(n_rows)] + [
        [(r, c) for r in range(n_rows)] for c in range(n_cols)
    ]


def table_lines(full: list[list[int]]) -> list[Line]:
    """The lines (rows, columns) whose members add up to their last member."""
    n_rows, n_cols = len(full), len(full[0]) if full else 0
    # A line of one cell (the rows of a one-column table) states nothing beyond the cell.
    return [line for line in _lines(n_rows, n_cols) if len(line) > 1]


def reader_bounds(grid: Grid, cell: Cell) -> tuple[int, int | None]:
    """What the mark of a hidden cell tells a reader: ``<10`` is 1..9, ``x`` is 10 or more."""
    return (1, PRIMARY_MAX) if cell in grid.primary else (SECONDARY_MIN, None)


def suppress(full: list[list[int]]) -> Grid:
    """Decide which cells of a grid with margins (see ``with_margins``) to hide."""
    grid = Grid(full)
    n_rows, n_cols = len(full), len(full[0]) if full else 0
    grand = (n_rows - 1, n_cols - 1)
    for r in range(n_rows):
        for c in range(n_cols):
            if 1 <= full[r][c] <= PRIMARY_MAX and (r, c) != grand:
                grid.primary.add((r, c))
    lines = table_lines(full)
    while True:
        narrow = _narrow_by_lines(grid, lines) or _narrow_by_lp(grid, lines)
        if not narrow or not _hide_one_more(grid, lines, narrow, grand):
            return grid


def feasible_ranges(grid: Grid, lines: list[Line]) -> dict[Cell, tuple[int, float]]:
    """For each hidden cell, the least and greatest value a reader can deduce."""
    import numpy as np
    from scipy.optimize import linprog

    hidden = sorted(grid.suppressed)
    if not hidden:
        return {}
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
    bounds = [reader_bounds(grid, p) for p in hidden]
    out: dict[Cell, tuple[int, float]] = {}
    for i, p in enumerate(hidden):
        cost = np.zeros(len(hidden))
        cost[i] = 1.0
        low = linprog(cost, A_eq=a_eq or None, b_eq=b_eq or None, bounds=bounds)
        high = linprog(-cost, A_eq=a_eq or None, b_eq=b_eq or None, bounds=bounds)
        top = float("inf") if high.status == 3 else round(-high.fun)  # 3: unbounded
        out[p] = (round(low.fun), top)
    return out


def _too_narrow(low: float, high: float) -> bool:
    return high - low + 1 < MIN_RANGE


def _narrow_by_lp(grid: Grid, lines: list[Line]) -> list[Cell]:
    return [p for p, (low, high) in feasible_ranges(grid, lines).items() if _too_narrow(low, high)]


def _narrow_by_lines(grid: Grid, lines: list[Line]) -> list[Cell]:
    """Hidden cells that one line alone bounds too tightly (interval propagation)."""
    inf = float("inf")
    out: list[Cell] = []
    for line in lines:
        terms: list[tuple[Cell, int, float, float]] = []  # (cell, sign, low, high), hidden
        rhs = 0.0
        for k, p in enumerate(line):
            sign = -1 if k == len(line) - 1 else 1
            if p in grid.suppressed:
                least, most = reader_bounds(grid, p)
                terms.append((p, sign, least, inf if most is None else most))
            else:
                rhs -= sign * grid.cells[p[0]][p[1]]
        # sum(sign * x) == rhs
        for p, sign, low, high in terms:
            rest_low = sum(s * (lo if s > 0 else hi) for q, s, lo, hi in terms if q != p)
            rest_high = sum(s * (hi if s > 0 else lo) for q, s, lo, hi in terms if q != p)
            # sign * x == rhs - rest
            a, b = rhs - rest_high, rhs - rest_low
            x_low, x_high = (a, b) if sign > 0 else (-b, -a)
            if _too_narrow(max(low, x_low), min(high, x_high)) and p not in out:
                out.append(p)
    return out


def _hide_one_more(grid: Grid, lines: list[Line], narrow: list[Cell], grand: Cell) -> bool:
    def shown_nonzero(cells: Iterable[Cell]) -> list[tuple[int, Cell]]:
        return sorted(
            (grid.cells[r][c], (r, c))
            for r, c in cells
            if (r, c) not in grid.suppressed and grid.cells[r][c] > 0 and (r, c) != grand
        )

    for cell in narrow:
        beside = shown_nonzero({q for line in lines if cell in line for q in line})
        if beside:
            grid.secondary.add(beside[0][1])
            return True
    anywhere = shown_nonzero({q for line in lines for q in line})
    if anywhere:
        grid.secondary.add(anywhere[0][1])
        return True
    r, c = grand
    if grand not in grid.suppressed and grid.cells[r][c] > 0:
        # Nothing else is left: the table's total goes too, marked by what it is.
        (grid.primary if grid.cells[r][c] <= PRIMARY_MAX else grid.secondary).add(grand)
        return True
    return False
