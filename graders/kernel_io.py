"""Talking to a kernel: requests with unguessable ids, and the messages of one request.

A request's outputs are capped while they arrive (bytes per cell and per run): what is
beyond the cap is dropped, not accumulated, and a note says so. Check payloads (display
outputs of ``CHECK_MIME``, what ``oqu_check`` sends) are kept apart: neither the caps nor
``clear_output`` drop them, so a learner's printing cannot lose one; they have limits of
their own (count and bytes per cell), past which one overflow marker fails every check of
the cell. Messages that belong to a
request already finished are watched: a real kernel answers each request once, so a second
"finished" means forged messages, and what arrives late and decides scores (errors, stderr)
still goes to that cell.
"""

from __future__ import annotations

import json
import queue
import secrets
import time

from jupyter_client.session import msg_header
from nbformat.notebooknode import NotebookNode
from nbformat.v4 import output_from_msg

from graders.kernels import KernelHandle

CHECK_MIME = "application/vnd.oqu.check+json"  # as graders.checks_local sends it
MAX_CHECK_PAYLOADS = 64  # per cell
MAX_CHECK_BYTES = 8 * 1024 * 1024  # per payload
MAX_CHECK_CELL_BYTES = 32 * 1024 * 1024  # all of one cell's payloads
TRUNCATED = "\n[output truncated: more than {limit} bytes of output in {where}]\n"
ERROR_FIELD_BYTES = 4096  # kept of an error's value and of each traceback line
ALIVE_CHECK = 0.5  # seconds between checks that the kernel process lives


def error_output(ename: str, evalue: str) -> NotebookNode:
    """An error output (what a failing cell shows, and what scores it 0)."""
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


class CellOutputs:
    """The outputs of one cell, capped as they arrive."""

    def __init__(self, cell_limit: int, budget: list[int]) -> None:
        self.outputs: list[NotebookNode] = []
        self.cell_limit = cell_limit
        self.budget = budget  # remaining bytes of the whole run, shared by every cell
        self.used = 0
        self.noted: set[str] = set()
        self.clear_pending = False
        self.checks: list[NotebookNode] = []  # check payloads: no cap, no clear_output
        self.check_bytes = 0

    @property
    def all(self) -> list[NotebookNode]:
        """The outputs, then the check payloads (the order scoring and feedback read)."""
        return self.outputs + self.checks

    def _check(self, output: NotebookNode) -> None:
        payload = output.data[CHECK_MIME]
        size = len(json.dumps(payload)) if isinstance(payload, dict) else 0
        self.check_bytes += size
        overflow = (
            not isinstance(payload, dict)
            or size > MAX_CHECK_BYTES
            or self.check_bytes > MAX_CHECK_CELL_BYTES
            or len(self.checks) >= MAX_CHECK_PAYLOADS
        )
        if overflow:
            if not any(c.data[CHECK_MIME].get("overflow") for c in self.checks[-1:]):
                marker = {CHECK_MIME: {"overflow": True}}
                self.checks.append(
                    NotebookNode(output_type="display_data", data=marker, metadata={})
                )
            return
        # Only the payload is kept: whatever else the output carried is the sender's.
        output.data = {CHECK_MIME: payload}
        output.metadata = {}
        self.checks.append(output)

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
        if output.output_type == "display_data" and CHECK_MIME in output.get("data", {}):
            self._check(output)
            return
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


class Watch:
    """A real kernel answers each request once: a second idle or reply means forged messages.

    What arrives late for a finished cell and decides scores (errors, stderr, an error
    reply) is still added to that cell, so a forged early "finished" earns nothing.
    """

    def __init__(self) -> None:
        self.done: dict[str, NotebookNode] = {}  # msg_id -> its cell
        self.acked: set[str] = set()  # requests the kernel was seen to take up
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
            cell.outputs.append(error_output(ename, str(content.get("evalue"))))
        elif kind == "error" or (kind == "stream" and content.get("name") == "stderr"):
            late = output_from_msg(msg)
            if kind == "stream":
                late.text = late.text[:ERROR_FIELD_BYTES]
            else:
                late.traceback = [x[:ERROR_FIELD_BYTES] for x in late.traceback[:100]]
            cell.outputs.append(late)


def drain_shell(
    handle: KernelHandle, msg_id: str, timeout: float, watch: Watch | None = None
) -> dict | None:
    """The content of ``msg_id``'s execute_reply, or None if it does not come in time."""
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


def wait_idle(
    handle: KernelHandle,
    msg_id: str,
    sink: CellOutputs | None,
    timeout: float,
    watch: Watch | None = None,
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
        if watch is not None:
            watch.acked.add(msg_id)
        kind, content = msg["msg_type"], msg["content"]
        if kind == "status" and content.get("execution_state") == "idle":
            return True
        if sink is None:
            continue
        if kind == "clear_output":
            sink.clear(bool(content.get("wait")))
        elif kind in ("stream", "display_data", "execute_result", "error"):
            sink.add(output_from_msg(msg))


def send_execute(
    handle: KernelHandle, code: str, *, silent: bool, expressions: dict[str, str]
) -> str:
    """Send an execute_request whose msg_id is random; return that id.

    jupyter_client numbers its messages (``<session>_<pid>_<n>``), so code in the kernel
    that sees one request's id could name the next one and forge its acknowledgement.
    """
    kc = handle.kc
    content = {
        "code": code,
        "silent": silent,
        "store_history": not silent,
        "user_expressions": expressions,
        "allow_stdin": False,
        "stop_on_error": False,
    }
    header = msg_header(
        secrets.token_hex(16), "execute_request", kc.session.username, kc.session.session
    )
    msg = kc.session.msg("execute_request", content, header=header)
    kc.shell_channel.send(msg)
    return str(msg["header"]["msg_id"])


def reply_of(
    handle: KernelHandle, msg_id: str, timeout: float, watch: Watch | None = None
) -> dict | None:
    """The execute_reply content of a grader request whose output is not kept."""
    if not wait_idle(handle, msg_id, None, timeout, watch):
        return None
    return drain_shell(handle, msg_id, 1.0, watch)
