"""The flags a grade can carry: each asks an instructor to look; none changes a score.

A module of its own, with no imports, so that the platform can show them without importing
nbgrader.
"""

from __future__ import annotations

FLAGS = {
    "edited-locked-cell": "a test or read-only cell was edited (the master's was run)",
    "deleted-cell": "a graded or read-only cell was deleted (the master's was put back)",
    "unknown-grade-cell": "a cell claimed a grade id the assignment does not have (ignored)",
    "changed-cell-metadata": "nbgrader metadata (points, grade, type) was changed (ignored)",
    "always-equal-object": "the code defines an object equal to anything (or never unequal)",
    "patched-builtins": "the code replaced builtins that tests rely on",
    "shadowed-builtins": "the code defined its own assert-related names (len, isinstance...)",
    "patched-traceback": "the code replaced IPython's error display or cell running",
    "patched-kernel": "the code replaced the kernel's execution or messaging",
    "patched-output": "the code replaced sys.stdout, sys.stderr or the display hook",
    "patched-transformers": "the code changed how IPython reads test cells (input or AST "
    "transformers, prefilter, compiler); undone before each test",
    "patched-events": "the code registered its own cell event callbacks; removed before each test",
    "patched-tracing": "the code set a trace or profile function or an audit hook",
    "patched-code": "the code swapped a function's code object (__code__)",
    "patched-library": "the code replaced functions, classes or modules of the libraries tests "
    "call (numpy, pandas...); put back before each test (the names are listed)",
    "forged-messages": "the kernel sent a second 'finished' for a cell (forged messages)",
    "unconfirmed-cell": "the kernel stopped before confirming that a cell had finished; that "
    "cell scored 0",
    "probe-failed": "the grader's check of the kernel after the run did not answer",
    "kernel-stopped": "the kernel died or hung; later cells were not run",
    "run-timeout": "the notebook ran past the whole-run time limit",
    "kernel-unavailable": "no kernel could be had (the platform's fault: retry)",
    "grader-error": "the grader failed (the platform's fault: retry)",
}
