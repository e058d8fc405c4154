"""``record-checks``: the expected values of a source's checks, from its own solutions.

The source notebook is run as written (solutions in, hidden tests in) in a kernel from the
same provider as grading, with its data files. Every value its check cells send becomes
the ``expected`` of that check in ``metadata.oqu.checks``; messages and tolerances stay as
the author wrote them. It fails, changing nothing, when a declared check is not sent or
is sent twice, a check is sent that its cell does not declare (or from a cell that is not
a test cell), a value cannot be read, or a cell of the source fails.
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from collections.abc import Mapping

from nbformat.notebooknode import NotebookNode

from graders import checks
from graders.errors import InvalidSource, RecordFailed
from graders.execute import execute_notebook
from graders.kernels import KernelProvider, provider_for
from graders.release import validate_source
from graders.settings import GraderSettings


def _place(index: int, cell: NotebookNode) -> str:
    meta = cell.get("metadata", {}).get("nbgrader")
    grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
    return f"cell {index + 1}" + (f" ('{grade_id}')" if grade_id else "")


def record_checks(
    source: NotebookNode,
    *,
    settings: GraderSettings,
    kernel_provider: KernelProvider | None = None,
    files: Mapping[str, bytes] | None = None,
) -> NotebookNode:
    """``source`` with every check's ``expected`` recorded from running it."""
    problems = validate_source(source, need_expected=False)
    if problems:
        raise InvalidSource(problems)
    nb = checks.without_expected(source)
    runnable = checks.strip(copy.deepcopy(nb))
    provider = kernel_provider or provider_for(settings)
    with provider.acquire(timeout=settings.run_timeout, files=files) as handle:
        run = execute_notebook(
            runnable, handle, settings=settings, deadline=time.monotonic() + settings.run_timeout
        )
    messages = []
    if run.status != "completed":
        messages.append(f"the source did not run to its end: {run.reason}")
    for index, (cell, ran) in enumerate(zip(nb.cells, run.notebook.cells, strict=True)):
        if cell.cell_type != "code":
            continue
        where = _place(index, cell)
        for output in ran.get("outputs", []):
            if output.get("output_type") == "error" and run.status == "completed":
                messages.append(f"{where}: {output.get('ename')}: {output.get('evalue')}")
        sent = list(checks.payloads(ran))
        declared = (cell.metadata.get("oqu") or {}).get("checks") or {}
        if any(p.get("overflow") for p in sent):
            messages.append(f"{where}: sent more check values than a cell may")
            continue
        counts = Counter(str(p.get("id")) for p in sent)
        for check_id in sorted(set(counts) - set(declared)):
            messages.append(f"{where}: check '{check_id}' was sent but is not declared here")
        for check_id, data in declared.items():
            if counts[check_id] == 0 and run.status == "completed":
                messages.append(f"{where}: check '{check_id}' was declared but never sent")
            elif counts[check_id] > 1:
                messages.append(f"{where}: check '{check_id}' was sent {counts[check_id]} times")
            elif counts[check_id] == 1:
                value = next(p.get("value") for p in sent if p.get("id") == check_id)
                if not isinstance(value, dict) or value.get("t") == "unreadable":
                    why = value.get("why") if isinstance(value, dict) else "?"
                    kind = value.get("type") if isinstance(value, dict) else ""
                    messages.append(
                        f"{where}: check '{check_id}' sent a value it cannot read "
                        f"({why}{': ' + kind if kind else ''})"
                    )
                else:
                    data["expected"] = value
    if messages:
        raise RecordFailed(messages)
    problems = validate_source(nb)  # e.g. an expected value over the size limit
    if problems:
        raise InvalidSource(problems)
    return nb
