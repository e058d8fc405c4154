"""A workspace Run: cells 1..i of a learner's draft, run as grading runs a submission.

The notebook is prepared exactly as grading prepares the learner's feedback run
(``graders.overwrite.sanitise``: locked cells restored from the master, the released text
of test cells, so hidden tests are absent and never run), cut after the cell the learner
ran. It executes in a single-use kernel from the same provider as grading (same sandbox,
pre-imports, data files and limits), with the scoring run's in-kernel guard before every
locked cell, so a trick that grading undoes is undone here too and what a learner sees at
Run is what Submit scores. ``keep_going`` is asked before each cell: a newer Run of the
same learner cancels this one between cells, never by killing anything.

Outputs come back as the kernel sent them (capped while they arrive), without check
payloads; making them safe to show (HTML allow-list, ANSI colours, images) is the
platform's job. The visible checks of each test cell that ran are compared here, as
grading compares them (``graders.checks``), and come back as ``CellRun.checks``; hidden
checks never run (their calls sit in hidden tests) and their payloads, if any, are ignored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from nbformat.notebooknode import NotebookNode

from graders import checks
from graders.autograde import _dispose as dispose_later
from graders.errors import GraderError, NoSandbox
from graders.execute import execute_notebook
from graders.kernels import KernelProvider, provider_for
from graders.overwrite import sanitise, student_version
from graders.settings import GraderSettings
from graders.tampering import TamperProbe

__all__ = ["CellRun", "RunResult", "UnknownCell", "prepare", "run_cells"]

log = logging.getLogger(__name__)


class UnknownCell(ValueError):
    """The cell to run up to is not a code cell of the prepared notebook."""


@dataclass
class CellRun:
    """One executed cell of the draft: its id, outputs (nbformat dicts) and count."""

    cell_id: str
    outputs: list[dict[str, Any]]
    execution_count: int | None = None
    # Its visible checks: each {"id", "status", "messages"} (``graders.checks.CheckOutcome``).
    checks: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class RunResult:
    """How a Run went. ``reason_code`` is "", "cancelled", "run-timeout", "kernel-stopped",
    "kernel-unavailable" or "grader-error" (``reason`` is the English text)."""

    status: str  # "completed", "cancelled", "timeout", "stopped" or "failed"
    reason: str
    reason_code: str
    cells: list[CellRun]
    flags: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def prepare(master: NotebookNode, draft: NotebookNode, *, upto: str) -> NotebookNode:
    """The notebook a Run of cell ``upto`` (a cell id of ``draft``) executes: the draft
    sanitised against the master as for feedback (hidden tests absent, locked cells put
    back), with every cell after ``upto`` left out."""
    prepared = checks.strip(sanitise(master, draft, student_version(master)).feedback)
    position = next(
        (i for i, c in enumerate(prepared.cells) if c.get("id") == upto and c.cell_type == "code"),
        None,
    )
    if position is None:
        raise UnknownCell(upto)
    prepared.cells = prepared.cells[: position + 1]
    return prepared


def _visible_checks(
    declared: dict[str, dict[str, checks.CheckSpec]], cell: NotebookNode
) -> list[dict[str, Any]]:
    """The visible checks of a test cell that ran, compared as grading compares them."""
    meta = cell.get("metadata", {}).get("nbgrader") or {}
    specs = declared.get(str(meta.get("grade_id"))) if meta.get("grade") else None
    if not specs or cell.get("execution_count") is None:
        return []
    return [
        {"id": o.check_id, "status": o.status, "messages": o.messages}
        for o in checks.judge(specs, cell, visible_only=True)
    ]


def run_cells(
    master: NotebookNode,
    draft: NotebookNode,
    *,
    upto: str,
    settings: GraderSettings,
    kernel_provider: KernelProvider | None = None,
    files: Mapping[str, bytes] | None = None,
    keep_going: Callable[[], bool] | None = None,
) -> RunResult:
    """Run the draft's cells up to ``upto`` in a fresh kernel; outputs per cell of the draft."""
    started = time.monotonic()
    nb = prepare(master, draft, upto=upto)
    ids = {c.get("id") for c in draft.cells}
    timings = {"prepare": time.monotonic() - started}
    probe = TamperProbe()
    try:
        provider = kernel_provider or provider_for(settings)
        with ExitStack() as stack:
            handle = stack.enter_context(
                provider.acquire(timeout=settings.run_timeout, files=files)
            )
            acquired = time.monotonic()
            timings["acquire"] = acquired - started - timings["prepare"]
            try:
                run = execute_notebook(
                    nb,
                    handle,
                    settings=settings,
                    deadline=acquired + settings.run_timeout,
                    probe=probe,
                    keep_going=keep_going,
                )
            finally:
                # The used kernel is killed off the learner's path, as grading does.
                dispose_later(stack.pop_all())
            timings["run"] = run.seconds
    except NoSandbox:
        raise
    except Exception as error:  # noqa: BLE001 - the platform's fault: say so, never hang
        timings["total"] = time.monotonic() - started
        if isinstance(error, GraderError):
            code, reason = "kernel-unavailable", f"no kernel could be had ({error})"
        else:
            log.exception("a workspace run failed")
            code, reason = "grader-error", "the run failed on the platform's side"
        return RunResult("failed", reason, code, [], timings=timings)
    timings["total"] = time.monotonic() - started
    declared = checks.declared(master)
    cells = [
        CellRun(
            cell_id=str(cell.get("id")),
            outputs=[dict(o) for o in cell.get("outputs", []) if not checks.is_payload(o)],
            execution_count=cell.get("execution_count"),
            checks=_visible_checks(declared, cell),
        )
        for cell in run.notebook.cells
        if cell.cell_type == "code" and cell.get("id") in ids
    ]
    codes = {"cancelled": "cancelled", "timeout": "run-timeout", "stopped": "kernel-stopped"}
    return RunResult(
        status=run.status,
        reason=run.reason,
        reason_code=codes.get(run.status, ""),
        cells=cells,
        flags=probe.flags(completed=run.status == "completed"),
        timings=timings,
    )
