"""``python -m graders``: exit codes 0/2/3, and standard output that is pure JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest

from graders.__main__ import main
from graders.release import release_notebook

from .conftest import solve, source_notebook

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LMS_GRADER_")}
    environ.update(LMS_GRADER_SANDBOX="off", LMS_GRADER_CELL_TIMEOUT="5", **env)
    return subprocess.run(
        [sys.executable, "-m", "graders", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    source = source_notebook()
    released = release_notebook(source)
    answer = (
        "def add(a, b):\n    print('noise on stdout')\n    with open('data.txt') as f:\n"
        "        assert f.read() == 'beside'\n    return a + b"
    )
    paths = {"source": tmp_path / "source" / "add.ipynb", "submission": tmp_path / "sub.ipynb"}
    paths["source"].parent.mkdir()
    nbformat.write(source, paths["source"])
    (paths["source"].parent / "data.txt").write_text("beside")
    nbformat.write(solve(released.student, {"answer": answer}), paths["submission"])
    return paths


def test_grade_prints_one_json_object_and_exits_0(files):
    done = cli(
        "grade",
        "--source",
        str(files["source"]),
        "--submission",
        str(files["submission"]),
        "--json",
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.strip().splitlines()) == 1
    data = json.loads(done.stdout)
    assert data["status"] == "graded"
    assert (data["score"], data["max_score"], data["needs_manual_grade"]) == (3.0, 4.0, False)
    assert [(c["grade_id"], c["score"], c["passed"]) for c in data["cells"]] == [
        ("test_add", 1.0, True),
        ("test_hidden", 2.0, True),
        ("explain", 0.0, False),
    ]
    assert "timings" in data and "flags" in data


def inprocess(monkeypatch, capfd, *args: str, **env: str) -> tuple[int, str, str]:
    """``main`` in this process (quicker than a new interpreter), standard streams captured."""
    monkeypatch.setenv("LMS_GRADER_SANDBOX", "off")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code = main(list(args))
    out, err = capfd.readouterr()
    return code, out, err


def test_a_failed_grade_still_exits_0_with_a_reason(files, monkeypatch, capfd):
    nb = nbformat.read(files["submission"], as_version=4)
    # A cell far longer than the run's limit; the limit leaves a loaded machine time to start
    # the kernel, so only the sleeping cell can be what runs out of it.
    nb.cells.insert(2, nbformat.v4.new_code_cell("import time\ntime.sleep(60)"))
    nbformat.write(nb, files["submission"])
    args = ("grade", "--source", str(files["source"]), "--submission", str(files["submission"]))
    code, out, err = inprocess(monkeypatch, capfd, *args, "--json", LMS_GRADER_RUN_TIMEOUT="4")
    assert code == 0, err
    data = json.loads(out)
    assert data["status"] == "failed" and data["score"] == 0
    assert "did not finish" in data["reason"]
    assert data["reason_code"] == "run-timeout"
    assert [c["score"] for c in data["cells"]] == [0, 0, None]


def test_an_invalid_notebook_exits_2(files, tmp_path, monkeypatch, capfd):
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json")
    args = ("grade", "--source", str(files["source"]), "--submission", str(broken), "--json")
    code, out, err = inprocess(monkeypatch, capfd, *args)
    assert code == 2
    assert out == ""
    assert "not a valid Jupyter notebook" in err


def test_invalid_nbgrader_metadata_exits_2_with_the_message(tmp_path, monkeypatch, capfd):
    source = source_notebook()
    del source.cells[2].metadata["nbgrader"]["points"]
    nbformat.write(source, tmp_path / "bad.ipynb")
    args = ("release", str(tmp_path / "bad.ipynb"), "-o", str(tmp_path / "out.ipynb"))
    code, out, err = inprocess(monkeypatch, capfd, *args)
    assert code == 2
    assert "cell 3 ('test_add'): a grade cell needs points" in err
    assert not (tmp_path / "out.ipynb").exists()


def test_release_writes_the_student_version(files, tmp_path, monkeypatch, capfd):
    target = tmp_path / "student.ipynb"
    code, out, err = inprocess(
        monkeypatch, capfd, "release", str(files["source"]), "-o", str(target)
    )
    assert code == 0 and out == ""
    assert "hidden-marker" not in target.read_text()
    assert "4 points (3 graded automatically)" in err


def test_no_sandbox_exits_3_with_how_to_fix_it(files, monkeypatch, capsys):
    broken = types.ModuleType("graders.sandbox")

    class SandboxUnavailable(Exception):
        pass

    class SandboxKernelProvider:
        def __init__(self, settings):
            raise SandboxUnavailable("bwrap not found")

    broken.SandboxUnavailable = SandboxUnavailable  # type: ignore[attr-defined]
    broken.SandboxKernelProvider = SandboxKernelProvider  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "graders.sandbox", broken)
    monkeypatch.setenv("LMS_GRADER_SANDBOX", "on")
    code = main(
        [
            "grade",
            "--source",
            str(files["source"]),
            "--submission",
            str(files["submission"]),
            "--json",
        ]
    )
    assert code == 3
    err = capsys.readouterr().err
    assert "apt-get install bubblewrap" in err and "LMS_GRADER_SANDBOX=off" in err


def test_an_unusable_setting_exits_2_naming_it(files):
    args = ("grade", "--source", str(files["source"]), "--submission", str(files["submission"]))
    done = cli(*args, "--json", LMS_GRADER_MEMORY_MB="lots")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "LMS_GRADER_MEMORY_MB must be a whole number, not 'lots'" in done.stderr
    assert "Traceback" not in done.stderr


def test_grade_help_says_the_files_beside_the_source_reach_the_learner(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["grade", "--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "every file beside SOURCE.ipynb" in text
    assert "Learner code can read every one of them" in text
    assert "instructor-only files out of that folder" in text
