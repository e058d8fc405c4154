"""Every notebook shipped in courses/, graded as learners' uploads are: its reference
solution scores every auto-graded point, its blank student version scores zero, and every
alternative solution in ``tests/course_solutions/<course>/<name>/*.ipynb`` scores every
point too; the reference run stays under 15 s of CPU.

Grading runs in the sandbox with the production limits (the default
``LMS_GRADER_CELL_TIMEOUT`` and ``LMS_GRADER_RUN_TIMEOUT``); on a machine that cannot have
the sandbox, the same engine runs plain local kernels with the same limits. It takes
minutes of CPU, so it runs only when ``LMS_TEST_COURSE_NOTEBOOKS=1`` (CI sets it in one of
its two database passes).

Until the grader binds ``oqu_check`` in the kernel (``graders.checks``), a locked set-up
cell defining a no-op ``oqu_check`` is put in front of each source for these runs only;
the plain asserts of every check cell then decide the score on their own.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbformat.notebooknode import NotebookNode

from graders.autograde import GradeResult, grade
from graders.kernels import KernelProvider, LocalKernelProvider
from graders.release import release_notebook
from graders.settings import GraderSettings

ROOT = Path(__file__).resolve().parents[2]
COURSES = ROOT / "courses"
SOLUTIONS = ROOT / "tests" / "course_solutions"
NOTEBOOKS = sorted(p for p in COURSES.glob("*/notebooks/*/*.ipynb") if p.stem == p.parent.name)
CPU_BUDGET = 15.0  # seconds of kernel CPU for the reference run of one notebook
PROBE = "oqu-cpu-probe"
PROBE_SOURCE = """\
import resource as _resource
_self = _resource.getrusage(_resource.RUSAGE_SELF)
_kids = _resource.getrusage(_resource.RUSAGE_CHILDREN)
print("kernel-cpu-seconds", _self.ru_utime + _self.ru_stime + _kids.ru_utime + _kids.ru_stime)
"""
SHIM_SOURCE = "def oqu_check(check_id, value):\n    pass\n"

pytestmark = [
    pytest.mark.course_notebooks,
    pytest.mark.xdist_group("course-notebooks"),
    pytest.mark.skipif(
        os.environ.get("LMS_TEST_COURSE_NOTEBOOKS") != "1",
        reason="grades every course notebook in the sandbox (minutes of CPU): "
        "set LMS_TEST_COURSE_NOTEBOOKS=1 to run",
    ),
]


def _locked(source: str, grade_id: str, *, points: int | None = None) -> NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {
        "grade": points is not None,
        "grade_id": grade_id,
        "locked": True,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    if points is not None:
        cell.metadata["nbgrader"]["points"] = points
    return cell


def prepared_source(notebook: Path) -> NotebookNode:
    """The source as shipped, plus (for these runs only) the shim and the CPU probe."""
    source = nbformat.read(notebook, as_version=4)
    if importlib.util.find_spec("graders.checks") is None:
        source.cells.insert(0, _locked(SHIM_SOURCE, "oqu-check-shim"))
    source.cells.append(_locked(PROBE_SOURCE, PROBE, points=1))
    return source


def alternatives(notebook: Path) -> list[Path]:
    course, name = notebook.parts[-4], notebook.parent.name
    return sorted((SOLUTIONS / course / name).glob("*.ipynb"))


@pytest.fixture(scope="module")
def provider() -> Iterator[tuple[KernelProvider, GraderSettings]]:
    defaults = GraderSettings()
    settings = GraderSettings.from_env().with_(
        cell_timeout=defaults.cell_timeout, run_timeout=defaults.run_timeout, sandbox="on"
    )
    try:
        if os.geteuid() != 0:
            raise RuntimeError("the sandbox needs root here")
        from graders.sandbox import SandboxKernelProvider, check_sandbox

        check_sandbox(settings)
        sandboxed = SandboxKernelProvider(settings)
    except Exception:  # no sandbox on this machine: the same engine on local kernels
        local = settings.with_(sandbox="off")
        yield LocalKernelProvider(local), local
        return
    yield sandboxed, settings
    sandboxed.close()


def data_files(notebook: Path) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes()
        for p in sorted(notebook.parent.iterdir())
        if p.is_file() and p.suffix != ".ipynb" and not p.name.startswith(".")
    }


def scores(result: GradeResult) -> dict[str, float | None]:
    return {c.grade_id: c.score for c in result.cells if c.grade_id != PROBE}


def short_failures(result: GradeResult) -> list[tuple[str, str]]:
    return [
        (c.grade_id, c.feedback_output[-400:])
        for c in result.cells
        if c.grade_id != PROBE and c.score is not None and c.score != c.max_score
    ]


def kernel_cpu_seconds(result: GradeResult) -> float:
    probe = next(c for c in result.cells if c.grade_id == PROBE)
    found = re.search(r"kernel-cpu-seconds ([0-9.]+)", probe.feedback_output)
    assert found, f"the CPU probe printed nothing: {probe.feedback_output[-300:]!r}"
    return float(found.group(1))


def test_every_course_notebook_is_found() -> None:
    assert {p.parts[-4] for p in NOTEBOOKS} >= {"ai-for-everyone", "applied-ml-for-industry"}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: f"{p.parts[-4]}/{p.stem}")
def test_reference_full_blank_zero_alternatives_full(notebook: Path, provider) -> None:
    kernels, settings = provider
    source = prepared_source(notebook)
    release = release_notebook(source)
    assert release.auto_points > 1  # more than the probe's point
    files = data_files(notebook)
    submissions = [source, release.student] + [
        nbformat.read(path, as_version=4) for path in alternatives(notebook)
    ]
    # One after another: each grading already runs two kernels (feedback and scoring).
    results = [
        grade(release.master, submission, settings=settings, kernel_provider=kernels, files=files)
        for submission in submissions
    ]
    reference, blank, *others = results

    assert reference.status == "graded", reference.reason
    assert not short_failures(reference), short_failures(reference)
    cpu = kernel_cpu_seconds(reference)
    print(f"{notebook.parts[-4]}/{notebook.stem}: reference run {cpu:.2f} s of kernel CPU")
    assert cpu < CPU_BUDGET, f"the reference run took {cpu:.1f} s of CPU"

    assert blank.status == "graded", blank.reason
    assert not any(scores(blank).values()), scores(blank)

    for path, result in zip(alternatives(notebook), others, strict=True):
        assert result.status == "graded", (path.name, result.reason)
        assert not short_failures(result), (path.name, short_failures(result))
