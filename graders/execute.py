"""Run a notebook's code cells in a kernel, as nbgrader's Execute does, but never hang.

Outputs are capped while they arrive (``graders.kernel_io``). A cell that runs too long is
interrupted and errors (``CellTimeoutError``), and the next cells run if the kernel lives. A
kernel that dies or ignores the interrupt ends the run: the cells not run get an error
output, so no test cell can pass without having run.

In the scoring run (the one with a guard), a test cell's result counts only once the kernel
has answered the grader's next request (sent with an id learner code cannot guess): code in
the kernel can forge a cell's "finished" messages and then end its process, but it cannot
answer a request it has not seen. The guard's checks go with those requests.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from nbformat.notebooknode import NotebookNode
from nbgrader.utils import is_grade, is_solution

from graders.kernel_io import (
    CellOutputs,
    Watch,
    drain_shell,
    error_output,
    reply_of,
    send_execute,
    wait_idle,
)
from graders.kernels import KernelHandle
from graders.settings import GraderSettings

__all__ = ["Guard", "Run", "execute_notebook", "reply_of"]

log = logging.getLogger(__name__)

INTERRUPT_GRACE = 2.0  # seconds a kernel gets to answer an interrupt
SKIP_TAG = "skip-execution"
CANCELLED = "a newer run replaced this one"
UNCONFIRMED = (
    "the kernel stopped before it confirmed that this cell had finished (it never took up "
    "the next request), so the cell's result is not trusted"
)


@dataclass
class Run:
    """How a run went: ``status`` is completed, timeout (whole run), stopped (kernel), or
    cancelled (``keep_going`` said no)."""

    notebook: NotebookNode
    status: str = "completed"
    reason: str = ""
    probes: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    forged: bool = False  # the kernel answered a request twice
    unconfirmed: bool = False  # a cell's result was dropped: the kernel never went on


def _autograded(cell: NotebookNode) -> bool:
    """A test cell: its outputs decide a score."""
    return bool(is_grade(cell)) and not is_solution(cell)


def _runnable(cell: NotebookNode) -> bool:
    """A code cell that gets a request (as nbclient, and so nbgrader, decides)."""
    tags = cell.get("metadata", {}).get("tags", [])
    return cell.cell_type == "code" and bool(cell.source.strip()) and SKIP_TAG not in tags


class Guard(Protocol):
    """The in-kernel checks of the scoring run (``graders.tampering.TamperProbe``)."""

    failed: bool
    before_print: dict[str, str] | None

    @property
    def install(self) -> str: ...  # expression evaluated with the first request
    @property
    def install_from_source(self) -> str: ...  # the same, for a kernel of another Python
    @property
    def finish(self) -> str: ...  # expression evaluated after the last cell

    def before(self, cell: NotebookNode) -> str | None: ...
    def took(self, result: Any) -> bool: ...
    def took_install(self, result: Any) -> None: ...
    def took_finish(self, result: Any) -> None: ...


# ``graders/checks_local.py`` run in a private namespace of the kernel, before any cell:
# ``oqu_check`` bound in the notebook's namespace (left out of ``%who``).
_BIND_CHECKS = (
    "(lambda ns, shell: (exec(compile(%r, '<oqu-check>', 'exec'), ns), "
    "ns['bind'](shell.user_ns, shell.user_ns_hidden), 'bound')[-1])"
    "({'__name__': '_oqu_checks'}, __import__('IPython').get_ipython())"
)


@functools.cache
def bind_checks() -> str:
    """The expression that binds ``oqu_check`` in a fresh kernel."""
    source = (Path(__file__).parent / "checks_local.py").read_text(encoding="utf-8")
    return _BIND_CHECKS % source


class _Runner:
    """One run: the cells in order, each result trusted only once the kernel took up a later
    request (learner code can forge a cell's "finished" messages, but cannot know the id of
    the request that comes next), and the guard's checks evaluated between cells."""

    def __init__(
        self,
        nb: NotebookNode,
        handle: KernelHandle,
        settings: GraderSettings,
        deadline: float,
        guard: Guard | None,
        keep_going: Callable[[], bool] | None = None,
    ) -> None:
        self.handle, self.settings, self.deadline, self.guard = handle, settings, deadline, guard
        self.keep_going = keep_going  # asked before each cell (a workspace Run's cancel flag)
        self.confirming = guard is not None  # the scoring run: results must be confirmed
        self.run = Run(notebook=nb)
        self.budget = [settings.output_total_bytes]
        self.watch = Watch()
        self.pending: tuple[int, NotebookNode] | None = None  # scored, not yet confirmed
        self.owed: str | None = None  # a check that must answer before the next cell runs
        self.checks: dict[int, str] = {}  # cell position -> expression evaluated before it

    def _request(self, code: str, *, silent: bool, expressions: dict[str, str]) -> str:
        return send_execute(self.handle, code, silent=silent, expressions=expressions)

    def _confirm(self, msg_id: str) -> None:
        if self.pending is not None and msg_id in self.watch.acked:
            self.pending = None

    def _side_request(self, expressions: dict[str, str], timeout: float) -> dict[str, Any]:
        """An empty, silent request; its user_expressions results ({} if it did not answer)."""
        msg_id = self._request("", silent=True, expressions=expressions)
        reply = reply_of(self.handle, msg_id, timeout, self.watch)
        self._confirm(msg_id)
        return (reply or {}).get("user_expressions") or {}

    def _left(self, cap: float) -> float:
        return min(cap, max(0.1, self.deadline - time.monotonic()))

    def execute(self) -> Run:
        started = time.monotonic()
        cells = self.run.notebook.cells
        order = [i for i, c in enumerate(cells) if _runnable(c)]
        runnable = set(order)
        following = dict(zip(order, order[1:], strict=False))
        self._bind_checks()
        if self.guard is not None:
            self._install(cells, order)
        for position, cell in enumerate(cells):
            if cell.cell_type != "code":
                continue
            cell.outputs = []
            cell.execution_count = None
            if self.run.status != "completed":
                cell.outputs.append(error_output("CellNotRun", self.run.reason))
                continue
            if position not in runnable:
                continue  # empty or skip-execution: not run, as nbclient does
            if self.deadline - time.monotonic() <= 0:
                self.run.status, self.run.reason = "timeout", "whole-run time limit reached"
                cell.outputs.append(error_output("CellNotRun", self.run.reason))
                continue
            if self.keep_going is not None and not self.keep_going():
                self.run.status, self.run.reason = "cancelled", CANCELLED
                cell.outputs.append(error_output("CellNotRun", self.run.reason))
                continue
            if (self.owed is not None or self.pending is not None) and not self._between(position):
                cell.outputs.append(error_output("CellNotRun", self.run.reason))
                continue
            check = self.checks.get(following.get(position, -1))
            if self.confirming and _autograded(cell):
                # Its score counts: the request after it, answered before the next cell is
                # sent, proves it was over (and carries the check for the next cell).
                if self._cell(position, cell, None):
                    self.pending, self.owed = (position, cell), check
            else:
                self._cell(position, cell, check)
        self._finish()
        self.run.forged = self.watch.forged
        self.run.seconds = time.monotonic() - started
        return self.run

    def _bind_checks(self) -> None:
        """``oqu_check`` in the notebook's namespace, before any cell (every run)."""
        results = self._side_request(
            {"bind": bind_checks()}, self._left(self.settings.cell_timeout)
        )
        if (results.get("bind") or {}).get("status") != "ok":
            # Every check of the run is then missing, and its cell scores 0.
            log.warning("oqu_check could not be bound in the kernel: %s", results.get("bind"))

    def _install(self, cells: list[NotebookNode], order: list[int]) -> None:
        assert self.guard is not None
        checks = {i: self.guard.before(cells[i]) for i in order}
        first = checks.get(order[0]) if order else None
        expressions = {"install": self.guard.install} | ({"check": first} if first else {})
        results = self._side_request(expressions, self._left(self.settings.cell_timeout))
        self.guard.took_install(results.get("install"))
        if self.guard.before_print is None:
            expressions["install"] = self.guard.install_from_source
            results = self._side_request(expressions, self._left(self.settings.cell_timeout))
            self.guard.took_install(results.get("install"))
        if self.guard.before_print is None:
            # Nothing of the learner's has run yet: the platform's fault, not the learner's.
            log.warning("the grader's guard could not be installed in the kernel")
            self.guard = None
            return
        self.checks = {i: e for i, e in checks.items() if e}
        if first and not self.guard.took(results.get("check")):
            self.owed = first

    def _between(self, position: int) -> bool:
        """The request owed before cell ``position``: the guard's check, and the proof that the
        last scored cell was over. False stops the run (and that cell's result goes)."""
        owed, self.owed = self.owed, None
        results = self._side_request(
            {"check": owed} if owed else {}, self._left(self.settings.cell_timeout)
        )
        checked = owed is None or (self.guard is not None and self.guard.took(results.get("check")))
        if checked and self.pending is None:
            return True
        self.run.status = "stopped"
        if not self.handle.km.is_alive():
            self.run.reason = (
                f"the kernel died before cell {position + 1} (out of memory, or the code "
                "ended its own process)"
            )
        elif not checked:
            if self.guard is not None:
                self.guard.failed = True
            self.run.reason = (
                f"the kernel did not answer the grader's check before cell {position + 1}"
            )
        else:
            self.run.reason = f"the kernel did not take up the request before cell {position + 1}"
        return False

    def _cell(self, position: int, cell: NotebookNode, check: str | None) -> bool:
        """Run one cell; True when the kernel said it finished (idle and a reply)."""
        settings, handle, run = self.settings, self.handle, self.run
        limit = min(settings.cell_timeout, self.deadline - time.monotonic())
        sink = CellOutputs(settings.output_cell_bytes, self.budget)
        msg_id = self._request(
            cell.source, silent=False, expressions={"check": check} if check else {}
        )
        cell_end = time.monotonic() + limit
        finished = wait_idle(handle, msg_id, sink, limit, self.watch)
        if not finished and handle.km.is_alive():
            timed_out_whole = limit < settings.cell_timeout
            with contextlib.suppress(Exception):  # as if the kernel ignored it
                handle.km.interrupt_kernel()
            finished = wait_idle(handle, msg_id, sink, INTERRUPT_GRACE, self.watch)
            sink.outputs.append(
                error_output(
                    "CellTimeoutError",
                    f"the cell ran longer than {settings.cell_timeout:g} seconds and was stopped",
                )
            )
            if timed_out_whole:
                run.status = "timeout"
                run.reason = "whole-run time limit reached"
            elif not finished:
                run.status = "stopped"
                run.reason = (
                    f"cell {position + 1} ran past its time limit and ignored the interrupt"
                )
        elif not finished:
            sink.outputs.append(
                error_output("DeadKernelError", "the kernel died running this cell")
            )
            run.status = "stopped"
            run.reason = (
                f"the kernel died while running cell {position + 1} (out of memory, "
                "or the code ended its own process)"
            )
        if finished:
            # Idle is not enough: the cell is over when the kernel replies (the reply says
            # whether it failed), within the cell's time.
            wait = max(1.0, cell_end - time.monotonic())
            reply = drain_shell(handle, msg_id, wait, self.watch) or {
                "status": "error",
                "ename": "NoReply",
                "evalue": "the kernel did not confirm that this cell finished",
            }
            self.watch.done[msg_id] = cell
            cell.execution_count = reply.get("execution_count")
            if reply.get("status") == "error":
                # As nbgrader's Execute: an error the kernel did not display still counts.
                recorded = any(
                    o.output_type == "error" and o.get("ename") == reply.get("ename")
                    for o in sink.outputs
                )
                if not recorded:
                    sink.add(
                        error_output(str(reply.get("ename", "Error")), str(reply.get("evalue", "")))
                    )
            answer = (reply.get("user_expressions") or {}).get("check")
            if check and self.guard is not None and not self.guard.took(answer):
                self.owed = check  # e.g. the cell failed: its user_expressions are skipped
        cell.outputs = sink.all
        return finished

    def _finish(self) -> None:
        """A last round trip: the guard's final look, and proof the last scored cell was over."""
        if not self.confirming:
            return
        if self.run.status == "completed":
            expressions = {"finish": self.guard.finish} if self.guard is not None else {}
            results = self._side_request(expressions, self._left(5.0))
            # A dead kernel is reported as such, not also as a check that did not answer.
            if self.guard is not None and (results or self.handle.km.is_alive()):
                self.guard.took_finish(results.get("finish"))
        if self.pending is None or self.run.status == "timeout":
            return  # a run past its time limit scores nothing anyway
        position, cell = self.pending
        cell.outputs.append(error_output("UnconfirmedCellError", UNCONFIRMED))
        self.run.unconfirmed = True
        self.run.status = "stopped"
        self.run.reason = (
            f"the kernel stopped before it confirmed that cell {position + 1} had finished"
        )


def execute_notebook(
    nb: NotebookNode,
    handle: KernelHandle,
    *,
    settings: GraderSettings,
    deadline: float,
    probe: Guard | None = None,
    keep_going: Callable[[], bool] | None = None,
) -> Run:
    """Execute every code cell of ``nb`` in place; ``probe`` (if given) guards the run;
    ``keep_going`` (if given) is asked before each cell, and False ends the run
    ("cancelled")."""
    return _Runner(nb, handle, settings, deadline, probe, keep_going).execute()
