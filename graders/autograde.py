"""Autograde a submission against a released master, with nbgrader's scoring semantics.

Two runs, each in a single-use kernel of its own, at the same time: the *scoring* run
executes the sanitised submission with hidden tests restored, and decides every score
(nbgrader's rules, then the cell's checks, whose values are compared here, outside the
kernel: ``graders.checks``);
the *feedback* run executes the same notebook as released (hidden tests absent), and is
the only source of output a learner sees. So hidden tests' code and output cannot reach
the learner, even through learner code that inspects its callers. Without hidden tests
the scoring run is the feedback run.
"""

from __future__ import annotations

import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from typing import Any

from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import LimitOutput
from nbgrader.utils import determine_grade, is_locked

from graders import checks
from graders.checks import CheckSpec
from graders.errors import GraderError, NoSandbox
from graders.execute import Run, execute_notebook
from graders.flags import FLAGS as FLAGS  # re-exported: the platform reads it here too
from graders.kernels import KernelProvider, provider_for
from graders.overwrite import _grade_id, sanitise, student_version
from graders.release import GradedCell, graded_cells
from graders.settings import GraderSettings
from graders.tampering import TamperProbe, source_flags

log = logging.getLogger(__name__)

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
FEEDBACK_BYTES = 64 * 1024  # of one cell's output shown to the learner


@dataclass
class CellResult:
    """One grade or task cell: its score (None: a person grades it) and what to show."""

    grade_id: str
    score: float | None
    max_score: float
    needs_manual_grade: bool
    passed: bool
    kind: str  # "auto" (test cell), "manual" (graded answer), "task"
    feedback_output: str = ""
    hidden_tests: bool = False  # its output is never shown, only score and pass
    # Its declared checks, decided outside the kernel (``graders.checks``): each
    # {"id", "status", "hidden", "messages"}. What a learner may read of them (a hidden
    # check's failure, never its id or message) is the platform's choice.
    checks: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class GradeResult:
    """The outcome of grading one submission."""

    status: str  # "graded" or "failed"
    reason: str
    score: float
    max_score: float
    auto_max_score: float
    needs_manual_grade: bool
    cells: list[CellResult]
    flags: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    # For translation by the platform: "", "run-timeout", "kernel-stopped",
    # "kernel-unavailable" or "grader-error" (``reason`` is the English text).
    reason_code: str = ""
    executed: NotebookNode | None = None  # the scoring run, for instructors only
    feedback: NotebookNode | None = None  # the feedback run, safe to show the learner

    def summary(self) -> dict[str, Any]:
        """The JSON shape of the command line (and of what the platform stores)."""
        data: dict[str, Any] = {"status": self.status}
        if self.reason:
            data["reason"] = self.reason
            data["reason_code"] = self.reason_code
        data.update(
            score=self.score,
            max_score=self.max_score,
            auto_max_score=self.auto_max_score,
            needs_manual_grade=self.needs_manual_grade,
            cells=[
                {k: v for k, v in asdict(c).items() if k != "feedback_output"}
                | {"feedback_output": c.feedback_output}
                for c in self.cells
            ],
            flags=self.flags,
            timings={k: round(v, 4) for k, v in self.timings.items()},
        )
        return data


def output_text(cell: NotebookNode) -> str:
    """A code cell's outputs as plain text (tracebacks without colour codes)."""
    parts = []
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if checks.is_payload(output):
            continue  # a check's value: compared by the grader, never shown
        if kind == "stream":
            parts.append(output.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            text = output.get("data", {}).get("text/plain", "")
            parts.append(("".join(text) if isinstance(text, list) else text) + "\n")
        elif kind == "error":
            lines = output.get("traceback") or [f"{output.get('ename')}: {output.get('evalue')}"]
            parts.append(ANSI.sub("", "\n".join(lines)) + "\n")
    return "".join(parts)[:FEEDBACK_BYTES]


def _score(cell: NotebookNode) -> float | None:
    try:
        score, _ = determine_grade(cell)
    except (ValueError, KeyError, TypeError):
        # nbgrader itself stops on these (a partial grade above the points, an execute
        # result without text); here they are no credit rather than a stuck grade.
        return 0.0
    return None if score is None else float(score)


def _checked(
    specs: dict[str, CheckSpec], cell: NotebookNode, score: float | None
) -> tuple[float | None, list[dict[str, Any]]]:
    """A test cell's score after its checks (0 if one did not pass), and their outcomes."""
    outcomes = checks.judge(specs, cell)
    if any(not o.passed for o in outcomes):
        score = 0.0
    return score, [
        {"id": o.check_id, "status": o.status, "hidden": o.hidden, "messages": o.messages}
        for o in outcomes
    ]


def _cell_results(
    spec: list[GradedCell],
    scoring: NotebookNode | None,
    feedback: NotebookNode | None,
    declared: dict[str, dict[str, CheckSpec]] | None = None,
) -> list[CellResult]:
    by_id = {_grade_id(c): c for c in scoring.cells} if scoring is not None else {}
    shown = {_grade_id(c): c for c in feedback.cells} if feedback is not None else {}
    results = []
    for item in spec:
        manual = item.kind in ("manual", "task")
        if scoring is None:  # failed: nothing ran
            score = None if manual else 0.0
        elif item.kind == "task":
            score = None
        else:
            score = _score(by_id[item.grade_id])
        outcomes: list[dict[str, Any]] = []
        specs = (declared or {}).get(item.grade_id)
        if scoring is not None and item.kind == "auto" and specs:
            score, outcomes = _checked(specs, by_id[item.grade_id], score)
        text = ""
        if item.cell_type == "code" and not item.has_hidden_tests and item.grade_id in shown:
            text = output_text(shown[item.grade_id])
        results.append(
            CellResult(
                grade_id=item.grade_id,
                score=score,
                max_score=item.points,
                needs_manual_grade=score is None,
                passed=score is not None and abs(score - item.points) < 1e-9,
                kind=item.kind,
                feedback_output=text,
                hidden_tests=item.has_hidden_tests,
                checks=outcomes,
            )
        )
    return results


def _result(
    spec: list[GradedCell],
    cells: list[CellResult],
    *,
    status: str,
    reason: str,
    flags: list[str],
    timings: dict[str, float],
) -> GradeResult:
    return GradeResult(
        status=status,
        reason=reason,
        score=0.0 if status == "failed" else sum(c.score or 0.0 for c in cells),
        max_score=sum(c.points for c in spec),
        auto_max_score=sum(c.points for c in spec if c.kind == "auto"),
        needs_manual_grade=any(c.needs_manual_grade for c in cells),
        cells=cells,
        flags=sorted(set(flags)),
        timings=timings,
    )


# Killing a used kernel takes a while (process exit, socket clean-up) and decides nothing:
# it happens off the path to the learner's score, on a few background threads.
_DISPOSER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="oqu-kernel-disposal")


def _dispose(stack: ExitStack) -> None:
    try:
        _DISPOSER.submit(stack.close)
    except RuntimeError:  # interpreter shutting down: close here
        stack.close()


def _run(
    provider: KernelProvider,
    nb: NotebookNode,
    settings: GraderSettings,
    files: dict[str, bytes] | None,
    probe: TamperProbe | None,
) -> Run:
    started = time.monotonic()
    with ExitStack() as stack:
        handle = stack.enter_context(provider.acquire(timeout=settings.run_timeout, files=files))
        acquired = time.monotonic()
        try:
            run = execute_notebook(
                nb, handle, settings=settings, deadline=acquired + settings.run_timeout, probe=probe
            )
        finally:
            _dispose(stack.pop_all())
    run.probes["acquire_seconds"] = acquired - started
    return run


@dataclass
class Prepared:
    """A submission made ready to run: the step before any kernel is asked for."""

    spec: list[GradedCell]
    scoring: NotebookNode  # the sanitised submission, hidden tests in
    feedback: NotebookNode  # the same as released (hidden tests absent), no declarations
    checks: dict[str, dict[str, CheckSpec]]  # the master's checks, by grade id
    flags: list[str]
    hidden: bool  # a test holds hidden tests: the feedback run is a run of its own
    probe: TamperProbe  # the scoring run's in-kernel guard
    timings: dict[str, float] = field(default_factory=dict)


def prepare(master: NotebookNode, submission: NotebookNode) -> Prepared:
    """Step 1: the submission sanitised against the master, the flags its source earns."""
    started = time.monotonic()
    spec = graded_cells(master)
    sanitised = sanitise(master, submission, student_version(master))
    learner_code = NotebookNode(
        cells=[c for c in sanitised.graded.cells if c.cell_type == "code" and not is_locked(c)]
    )
    return Prepared(
        spec=spec,
        scoring=sanitised.graded,
        feedback=checks.strip(sanitised.feedback),
        checks=checks.declared(master),
        flags=list(sanitised.flags) + source_flags(learner_code),
        hidden=any(c.has_hidden_tests for c in spec),
        probe=TamperProbe(),
        timings={"prepare": time.monotonic() - started},
    )


def execute_runs(
    prepared: Prepared,
    provider: KernelProvider,
    settings: GraderSettings,
    files: dict[str, bytes] | None,
) -> tuple[Run, Run]:
    """Step 2: the scoring run and (with hidden tests) the feedback run, side by side."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        shown = (
            pool.submit(_run, provider, prepared.feedback, settings, files, None)
            if prepared.hidden
            else None
        )
        scoring = _run(provider, prepared.scoring, settings, files, prepared.probe)
        feedback = shown.result() if shown is not None else scoring
    return scoring, feedback


def not_run(prepared: Prepared, error: Exception, started: float) -> GradeResult:
    """Step 2, failed: no kernel, or the grader broke; every cell scores 0 (or waits)."""
    timings = prepared.timings | {"total": time.monotonic() - started}
    if isinstance(error, GraderError):
        reason = f"The grader could not start a kernel for your notebook ({error})."
    else:
        log.exception("grading failed", exc_info=error)
        reason = "The grader failed while running your notebook; it will be looked into."
    code = "kernel-unavailable" if isinstance(error, GraderError) else "grader-error"
    flags = [*prepared.flags, code]
    cells = _cell_results(prepared.spec, None, None)
    result = _result(
        prepared.spec, cells, status="failed", reason=reason, flags=flags, timings=timings
    )
    result.reason_code = code
    return result


def observe_runs(prepared: Prepared, scoring: Run, feedback: Run) -> list[str]:
    """Step 3: nbgrader's output limits applied, the runs' timings kept, every flag."""
    hidden, timings = prepared.hidden, prepared.timings
    for run in (scoring, feedback) if hidden else (scoring,):
        LimitOutput().preprocess(run.notebook, {})  # nbgrader's line and traceback limits
    timings["acquire"] = scoring.probes.pop("acquire_seconds", 0.0)
    timings["run"] = scoring.seconds
    if hidden:
        feedback.probes.pop("acquire_seconds", None)
        timings["feedback_run"] = feedback.seconds
    flags = list(prepared.flags)
    if scoring.forged or (hidden and feedback.forged):
        flags.append("forged-messages")
    if scoring.unconfirmed:
        flags.append("unconfirmed-cell")
    flags += prepared.probe.flags(completed=scoring.status == "completed")
    if scoring.status != "completed":
        flags.append("kernel-stopped" if scoring.status == "stopped" else "run-timeout")
    return flags


def decide(
    prepared: Prepared,
    scoring: Run,
    feedback: Run,
    *,
    flags: list[str],
    settings: GraderSettings,
    started: float,
) -> GradeResult:
    """Step 4: the scores (nbgrader's rules, then the checks) and what the learner reads."""
    spec, timings = prepared.spec, prepared.timings
    timings["total"] = time.monotonic() - started
    if scoring.status == "timeout":
        reason = (
            f"Your notebook did not finish within {settings.run_timeout:g} seconds; "
            "look for a loop that never ends or work that takes too long."
        )
        cells = _cell_results(spec, None, None)
        result = _result(spec, cells, status="failed", reason=reason, flags=flags, timings=timings)
        result.reason_code = "run-timeout"
        result.executed = scoring.notebook
        return result
    reason = ""
    if scoring.status == "stopped":
        reason = (
            f"Grading stopped early: {scoring.reason}; the cells after it were not run and score 0."
        )
    cells = _cell_results(spec, scoring.notebook, feedback.notebook, prepared.checks)
    result = _result(spec, cells, status="graded", reason=reason, flags=flags, timings=timings)
    result.reason_code = "kernel-stopped" if reason else ""
    result.executed = scoring.notebook
    result.feedback = feedback.notebook
    return result


def grade(
    master: NotebookNode,
    submission: NotebookNode,
    *,
    settings: GraderSettings,
    kernel_provider: KernelProvider | None = None,
    files: dict[str, bytes] | None = None,
) -> GradeResult:
    """Grade ``submission`` against the released ``master``; ``files`` go beside it."""
    started = time.monotonic()
    prepared = prepare(master, submission)
    provider = kernel_provider or provider_for(settings)
    try:
        scoring, feedback = execute_runs(prepared, provider, settings, files)
    except NoSandbox:
        raise
    except Exception as error:  # noqa: BLE001 - the platform's fault, never a stuck grade
        return not_run(prepared, error, started)
    flags = observe_runs(prepared, scoring, feedback)
    return decide(prepared, scoring, feedback, flags=flags, settings=settings, started=started)
