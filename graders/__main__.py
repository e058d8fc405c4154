"""Command line: ``python -m graders release ...``, ``python -m graders record-checks ...``
and ``python -m graders grade ... --json``.

Exit codes: 0 a result was produced (graded or failed); 2 an input is not a valid notebook,
the source's nbgrader metadata is invalid, or an ``LMS_GRADER_*`` setting is not usable;
3 no sandbox can be had. With ``--json``
standard output carries one JSON object and nothing else: everything any library or
kernel might print goes to standard error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

from graders.errors import InvalidNotebook, InvalidSetting, InvalidSource, NoSandbox, RecordFailed
from graders.settings import GraderSettings

DATA_FILE_LIMIT = 64 * 1024 * 1024  # bytes of data files copied beside a notebook
GRADE_HELP = f"""\
data files: every file beside SOURCE.ipynb (same folder, not sub-folders) that is
not a notebook and whose name does not start with a dot is copied into the kernel's
working directory, in name order, up to {DATA_FILE_LIMIT >> 20} MiB in all (later files are left
out). Learner code can read every one of them: keep answer keys, solutions and
other instructor-only files out of that folder.

settings: LMS_GRADER_* variables (see graders/README.md); a value that cannot be
used exits with code 2, as an invalid notebook does.
"""


def read_notebook(path: str) -> NotebookNode:
    """A notebook from ``path``, validated, else ``InvalidNotebook`` saying why."""
    try:
        with open(path, encoding="utf-8") as handle:
            nb = nbformat.read(handle, as_version=4)
        nbformat.validate(nb)
    except OSError as error:
        raise InvalidNotebook(f"{path}: cannot be read ({error.strerror})") from error
    except Exception as error:  # noqa: BLE001 - JSON, schema or encoding errors alike
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InvalidNotebook(f"{path}: not a valid Jupyter notebook ({first})") from error
    return nb


def data_files(source: str) -> dict[str, bytes]:
    """The files beside a source notebook (not notebooks, not hidden): its data.

    Learner code can read all of them (see ``GRADE_HELP``).
    """
    files, total = {}, 0
    for path in sorted(Path(source).resolve().parent.iterdir()):
        if not path.is_file() or path.suffix == ".ipynb" or path.name.startswith("."):
            continue
        total += path.stat().st_size
        if total > DATA_FILE_LIMIT:
            break
        files[path.name] = path.read_bytes()
    return files


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[int]:
    """Send file descriptor 1 to standard error; yield a descriptor of the real stdout."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield saved
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _release(args: argparse.Namespace) -> int:
    from graders.release import release_notebook

    header = read_notebook(args.header) if args.header else None
    released = release_notebook(read_notebook(args.source), header=header)
    with open(args.output, "w", encoding="utf-8") as out:
        nbformat.write(released.student, out)
    print(
        f"{args.output}: {len(released.cells)} graded cells, {released.total_points:g} points "
        f"({released.auto_points:g} graded automatically)",
        file=sys.stderr,
    )
    return 0


def _record(args: argparse.Namespace) -> int:
    from graders.kernels import provider_for
    from graders.record import record_checks

    settings = GraderSettings.from_env()
    recorded = record_checks(
        read_notebook(args.source),
        settings=settings,
        kernel_provider=provider_for(settings),
        files=data_files(args.source),
    )
    output = args.output or args.source
    with open(output, "w", encoding="utf-8") as out:
        nbformat.write(recorded, out)
    count = sum(len((c.metadata.get("oqu") or {}).get("checks") or {}) for c in recorded.cells)
    print(f"{output}: {count} checks recorded", file=sys.stderr)
    return 0


def _grade(args: argparse.Namespace, real_stdout: int) -> int:
    from graders.autograde import grade
    from graders.kernels import provider_for
    from graders.release import release_notebook

    settings = GraderSettings.from_env()
    header = read_notebook(args.header) if args.header else None
    source = read_notebook(args.source)
    submission = read_notebook(args.submission)
    released = release_notebook(source, header=header)
    provider = provider_for(settings)
    result = grade(
        released.master,
        submission,
        settings=settings,
        kernel_provider=provider,
        files=data_files(args.source),
    )
    if args.json:
        text = json.dumps(result.summary(), ensure_ascii=False) + "\n"
    else:
        lines = [f"{result.status}: {result.score:g} of {result.max_score:g}"]
        if result.reason:
            lines.append(result.reason)
        for cell in result.cells:
            score = "manual" if cell.score is None else f"{cell.score:g}"
            lines.append(f"  {cell.grade_id}: {score} / {cell.max_score:g}")
        if result.flags:
            lines.append("flags: " + ", ".join(result.flags))
        text = "\n".join(lines) + "\n"
    os.write(real_stdout, text.encode("utf-8"))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m graders", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    release = commands.add_parser("release", help="write the student version of a source")
    release.add_argument("source", metavar="SOURCE.ipynb")
    release.add_argument("-o", "--output", required=True, metavar="STUDENT.ipynb")
    release.add_argument("--header", metavar="HEADER.ipynb")
    record = commands.add_parser(
        "record-checks",
        help="run a source and write its checks' expected values",
        description="Run SOURCE (solutions as written, with the files beside it) in the "
        "sandbox and write each check's value as its expected value in metadata.oqu.checks. "
        "Fails, writing nothing, when a declared check is not sent or sent twice, an "
        "undeclared one is sent, a value cannot be read or a cell fails.",
    )
    record.add_argument("source", metavar="SOURCE.ipynb")
    record.add_argument("-o", "--output", metavar="OUT.ipynb", help="default: SOURCE itself")
    grade = commands.add_parser(
        "grade",
        help="autograde a submission against a source",
        description="Autograde SUBMISSION against the nbgrader source SOURCE.",
        epilog=GRADE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    grade.add_argument(
        "--source",
        required=True,
        metavar="SOURCE.ipynb",
        help="the nbgrader source notebook; the files beside it go with it (see below)",
    )
    grade.add_argument("--submission", required=True, metavar="SUBMISSION.ipynb")
    grade.add_argument("--header", metavar="HEADER.ipynb")
    grade.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    with stdout_to_stderr() as real_stdout:
        try:
            if args.command == "release":
                return _release(args)
            if args.command == "record-checks":
                return _record(args)
            return _grade(args, real_stdout)
        except (InvalidNotebook, InvalidSetting) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        except InvalidSource as error:
            print("error: the source notebook's nbgrader metadata is invalid:", file=sys.stderr)
            for message in error.messages:
                print(f"  {message}", file=sys.stderr)
            return 2
        except RecordFailed as error:
            print("error: the source's checks could not be recorded:", file=sys.stderr)
            for message in error.messages:
                print(f"  {message}", file=sys.stderr)
            return 2
        except NoSandbox as error:
            print(f"error: {error}", file=sys.stderr)
            return 3


if __name__ == "__main__":
    sys.exit(main())
