"""Run a notebook's code cells in a kernel, as nbgrader's Execute does, but never hang.

Outputs are capped while they arrive (bytes per cell and per run): what is beyond the cap
is dropped, not accumulated, and a note says so. A cell that runs too long is interrupted
and errors (``CellTimeoutError``), and the next cells run if the kernel lives. A kernel that
dies or ignores the interrupt ends the run: the cells not run get an error output, so no
test cell can pass without having run.
"""

from __future__ import annotations

import contextlib
import json
import queue
import time
from dataclasses import dataclass, field
from typing import Any

from nbformat.notebooknode import NotebookNode
from nbformat.v4 import output_from_msg

from graders.kernels import KernelHandle
from graders.settings import GraderSettings

TRUNCATED = "\n[output truncated: more than {limit} bytes of output in {where}]\n"
INTERRUPT_GRACE = 2.0  # seconds a kernel gets to answer an interrupt
ERROR_FIELD_BYTES = 4096  # kept of an error's value and of each traceback line
ALIVE_CHECK = 0.5
SKIP_TAG = "skip-execution"  # seconds between checks that the kernel process lives


@dataclass
class Run:
    """How a run went: ``status`` is completed, timeout (whole run), or stopped (kernel)."""

    notebook: NotebookNode
    status: str = "completed"
    reason: str = ""
    probes: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    forged: bool = False  # the kernel answered a request twice


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(
        output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"]
    )


def _size(output: NotebookNode) -> int:
    if output.output_type == "stream":
        return len(output.get("text", ""))
    if output.output_type == "error":
        return len(output.get("evalue", "")) + sum(len(x) for x in output.get("traceback", []))
    data = output.get("data", {}).values()
    return sum(len(v) if isinstance(v, str) else len(json.dumps(v)) for v in data)


class _CellOutputs:
    """The outputs of one cell, capped as they arrive."""

    def __init__(self, cell_limit: int, budget: list[int]) -> None:
        self.outputs: list[NotebookNode] = []
        self.cell_limit = cell_limit
        self.budget = budget  # remaining bytes of the whole run, shared by every cell
        self.used = 0
        self.noted: set[str] = set()
        self.clear_pending = False

    def _room(self) -> int:
        return max(0, min(self.cell_limit - self.used, self.budget[0]))

    def _take(self, n: int) -> None:
        self.used += n
        self.budget[0] -= n

    def _note(self, name: str = "stdout") -> None:
        if name in self.noted:
            return
        self.noted.add(name)
        where = "this cell" if self.used >= self.cell_limit else "this run"
        limit = self.cell_limit if where == "this cell" else "the run's"
        text = TRUNCATED.format(limit=limit, where=where)
        self.outputs.append(NotebookNode(output_type="stream", name=name, text=text))

    def add(self, output: NotebookNode) -> None:
        if self.clear_pending:
            self.outputs, self.clear_pending = [], False
        if output.output_type == "error":
            # Errors decide scores: always kept, but trimmed.
            output.evalue = output.get("evalue", "")[:ERROR_FIELD_BYTES]
            output.traceback = [x[:ERROR_FIELD_BYTES] for x in output.get("traceback", [])[:100]]
            self.outputs.append(output)
            return
        if output.output_type == "execute_result":
            # A test's last value can be partial credit: it is kept (short), whatever the cap.
            text = output.get("data", {}).get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else str(text)
            if _size(output) > self._room():
                output.data = {"text/plain": text[:ERROR_FIELD_BYTES]}
            self._take(min(self._room(), _size(output)))
            self.outputs.append(output)
            return
        size, room = _size(output), self._room()
        if output.output_type == "stream":
            text = output.get("text", "")
            kept = text[:room]
            self._take(len(kept))
            if kept:
                last = self.outputs[-1] if self.outputs else None
                if last is not None and last.output_type == "stream" and last.name == output.name:
                    last.text += kept
                else:
                    output.text = kept
                    self.outputs.append(output)
            if len(kept) < len(text):
                # stderr must stay visible to scoring even when its text is dropped.
                self._note(output.name)
            return
        if size > room:
            self._note()
            return
        self._take(size)
        self.outputs.append(output)

    def clear(self, wait: bool) -> None:
        if wait:
            self.clear_pending = True
        else:
            self.outputs = []


class _Watch:
    """A real kernel answers each request once: a second idle or reply means forged messages.

    What arrives late for a finished cell and decides scores (errors, stderr, an error
    reply) is still added to that cell, so a forged early "finished" earns nothing.
    """

    def __init__(self) -> None:
        self.done: dict[str, NotebookNode] = {}  # msg_id -> its cell
        self.forged = False

    def late(self, msg: dict, *, shell: bool) -> None:
        cell = self.done.get(msg["parent_header"].get("msg_id"))
        if cell is None:
            return
        kind, content = msg["msg_type"], msg["content"]
        if shell or (kind == "status" and content.get("execution_state") == "idle"):
            self.forged = True
        ename = str(content.get("ename"))
        shown = any(o.output_type == "error" and o.get("ename") == ename for o in cell.outputs)
        if shell and content.get("status") == "error" and not shown:
            cell.outputs.append(_error(ename, str(content.get("evalue"))))
        elif kind == "error" or (kind == "stream" and content.get("name") == "stderr"):
            late = output_from_msg(msg)
            if kind == "stream":
                late.text = late.text[:ERROR_FIELD_BYTES]
            else:
                late.traceback = [x[:ERROR_FIELD_BYTES] for x in late.traceback[:100]]
            cell.outputs.append(late)


def _drain_shell(
    handle: KernelHandle, msg_id: str, timeout: float, watch: _Watch | None = None
) -> dict | None:
    end = time.monotonic() + timeout
    while True:
        remaining = end - time.monotonic()
        if remaining <= 0:
            return None
        try:
            msg = handle.kc.get_shell_msg(timeout=remaining)
        except queue.Empty:
            return None
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg["content"]
        if watch is not None:
            watch.late(msg, shell=True)


def _wait_idle(
    handle: KernelHandle,
    msg_id: str,
    sink: _CellOutputs | None,
    timeout: float,
    watch: _Watch | None = None,
) -> bool:
    """Collect iopub messages of ``msg_id`` until the kernel is idle; False on timeout/death."""
    end = time.monotonic() + timeout
    next_alive_check = time.monotonic() + ALIVE_CHECK
    while True:
        now = time.monotonic()
        if now >= end:
            return False
        try:
            msg = handle.kc.get_iopub_msg(timeout=min(end - now, ALIVE_CHECK))
        except queue.Empty:
            msg = None
        if time.monotonic() >= next_alive_check:
            next_alive_check = time.monotonic() + ALIVE_CHECK
            if not handle.km.is_alive():
                return False
        if msg is None:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            if watch is not None:
                watch.late(msg, shell=False)
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "status" and content.get("execution_state") == "idle":
            return True
        if sink is None:
            continue
        if kind == "clear_output":
            sink.clear(bool(content.get("wait")))
        elif kind in ("stream", "display_data", "execute_result", "error"):
            sink.add(output_from_msg(msg))


def reply_of(
    handle: KernelHandle, msg_id: str, timeout: float, watch: _Watch | None = None
) -> dict | None:
    """The execute_reply content of a grader request whose output is not kept."""
    if not _wait_idle(handle, msg_id, None, timeout, watch):
        return None
    return _drain_shell(handle, msg_id, 1.0, watch)


def execute_notebook(
    nb: NotebookNode,
    handle: KernelHandle,
    *,
    settings: GraderSettings,
    deadline: float,
    probe: Any = None,
) -> Run:
    """Execute every code cell of ``nb`` in place; ``probe`` (if given) runs before and after."""
    started = time.monotonic()
    run = Run(notebook=nb)
    budget = [settings.output_total_bytes]
    watch = _Watch()
    if probe is not None:
        run.probes["before"] = probe.collect(handle, timeout=max(0.1, deadline - time.monotonic()))
    for position, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        cell.outputs = []
        cell.execution_count = None
        if run.status != "completed":
            cell.outputs.append(_error("CellNotRun", run.reason))
            continue
        if not cell.source.strip() or SKIP_TAG in cell.get("metadata", {}).get("tags", []):
            continue  # as nbclient (and so nbgrader) does
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            run.status, run.reason = "timeout", "whole-run time limit reached"
            cell.outputs.append(_error("CellNotRun", run.reason))
            continue
        limit = min(settings.cell_timeout, remaining)
        sink = _CellOutputs(settings.output_cell_bytes, budget)
        msg_id = handle.kc.execute(
            cell.source, store_history=True, allow_stdin=False, stop_on_error=False
        )
        cell_end = time.monotonic() + limit
        finished = _wait_idle(handle, msg_id, sink, limit, watch)
        if not finished and handle.km.is_alive():
            timed_out_whole = limit < settings.cell_timeout
            with contextlib.suppress(Exception):  # as if the kernel ignored it
                handle.km.interrupt_kernel()
            finished = _wait_idle(handle, msg_id, sink, INTERRUPT_GRACE, watch)
            sink.outputs.append(
                _error(
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
            sink.outputs.append(_error("DeadKernelError", "the kernel died running this cell"))
            run.status = "stopped"
            run.reason = (
                f"the kernel died while running cell {position + 1} (out of memory, "
                "or the code ended its own process)"
            )
        if finished:
            # Idle is not enough: the cell is over when the kernel replies (the reply says
            # whether it failed), within the cell's time.
            wait = max(1.0, cell_end - time.monotonic())
            reply = _drain_shell(handle, msg_id, wait, watch) or {
                "status": "error",
                "ename": "NoReply",
                "evalue": "the kernel did not confirm that this cell finished",
            }
            watch.done[msg_id] = cell
            cell.execution_count = reply.get("execution_count")
            if reply.get("status") == "error":
                # As nbgrader's Execute: an error the kernel did not display still counts.
                recorded = any(
                    o.output_type == "error" and o.get("ename") == reply.get("ename")
                    for o in sink.outputs
                )
                if not recorded:
                    sink.add(_error(str(reply.get("ename", "Error")), str(reply.get("evalue", ""))))
        cell.outputs = sink.outputs
    if probe is not None and run.status == "completed":
        remaining = max(1.0, deadline - time.monotonic())
        run.probes["after"] = probe.collect(handle, timeout=min(remaining, 5.0), watch=watch)
    run.forged = watch.forged
    run.seconds = time.monotonic() - started
    return run
