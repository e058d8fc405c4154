"""Every kind of problem in a package is reported as ``file:line: message``, nothing stored."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.courses.models import Course
from tests.courses.conftest import edit, line_number

COURSE = "course.toml"
QUIZ = "quizzes/basics-quiz.toml"
NOTEBOOK = "notebooks/first-notebook/first-notebook.ipynb"


def toml_syntax(pkg: Path) -> str:
    edit(pkg / COURSE, 'tier = "public"', "tier = public")
    return f"course.toml:{line_number(pkg / COURSE, 'tier = public')}: TOML syntax: Invalid value"


def unknown_key(pkg: Path) -> str:
    edit(pkg / COURSE, "required = false", "required = false\nrequird = true")
    return f"course.toml:{line_number(pkg / COURSE, 'requird')}: unknown key 'requird'"


def bad_kind(pkg: Path) -> str:
    edit(pkg / COURSE, 'kind = "quiz"', 'kind = "exam"')
    line = line_number(pkg / COURSE, 'kind = "exam"')
    return f"course.toml:{line}: 'exam' is not one of ['lesson', 'quiz', 'assignment']"


def missing_slug(pkg: Path) -> str:
    edit(pkg / COURSE, 'slug = "example-package"\n', "")
    return "course.toml: missing key 'slug'"


def wrong_type_in_quiz(pkg: Path) -> str:
    edit(pkg / QUIZ, "answer = 7.5", 'answer = "7.5"')
    return f"{QUIZ}:{line_number(pkg / QUIZ, 'answer =')}: '7.5' is not of type 'number'"


def key_of_another_kind(pkg: Path) -> str:
    edit(pkg / QUIZ, "tolerance = 0.05", "tolerance = 0.05\noptions = []", 1)
    return f"{QUIZ}:{line_number(pkg / QUIZ, 'options = []')}: key 'options' is not allowed"


def duplicate_item_id(pkg: Path) -> str:
    edit(pkg / COURSE, 'id = "data-and-models"', 'id = "what-is-ai"')
    edit(pkg / COURSE, "required = false", "required = false", 1)
    for lang in ("kk", "ru", "en"):
        (pkg / f"lessons/data-and-models.{lang}.md").unlink()
    line = line_number(pkg / COURSE, 'id = "what-is-ai"', 2)
    return f"course.toml:{line}: item id 'what-is-ai' is used twice"


def bad_item_id(pkg: Path) -> str:
    edit(pkg / COURSE, 'id = "basics-quiz"', 'id = "Basics Quiz"')
    line = line_number(pkg / COURSE, 'id = "Basics Quiz"')
    return f"course.toml:{line}: 'Basics Quiz' does not match"


def missing_first_language_lesson(pkg: Path) -> str:
    (pkg / "lessons/what-is-ai.kk.md").unlink()
    line = line_number(pkg / COURSE, 'id = "what-is-ai"')
    return f"course.toml:{line}: lesson 'what-is-ai' has no lessons/what-is-ai.kk.md"


def missing_quiz_file(pkg: Path) -> str:
    (pkg / QUIZ).unlink()
    line = line_number(pkg / COURSE, 'id = "basics-quiz"')
    return f"course.toml:{line}: quiz 'basics-quiz' has no quizzes/basics-quiz.toml"


def missing_notebook(pkg: Path) -> str:
    (pkg / NOTEBOOK).unlink()
    line = line_number(pkg / COURSE, 'notebook = "first-notebook"')
    return f"course.toml:{line}: assignment 'first-notebook' has no {NOTEBOOK}"


def unknown_language(pkg: Path) -> str:
    edit(pkg / COURSE, 'languages = ["kk", "ru", "en"]', 'languages = ["kk", "de"]')
    line = line_number(pkg / COURSE, "languages =")
    return f"course.toml:{line}: 'de' is not one of ['kk', 'ru', 'en']"


def unknown_sector(pkg: Path) -> str:
    edit(pkg / COURSE, "sectors = []", 'sectors = ["J", "Z"]')
    line = line_number(pkg / COURSE, "sectors =")
    return f"course.toml:{line}: unknown sector 'Z'"


def missing_prerequisite(pkg: Path) -> str:
    edit(pkg / COURSE, "prerequisites = []", 'prerequisites = ["no-such-course"]')
    line = line_number(pkg / COURSE, "prerequisites =")
    return f"course.toml:{line}: prerequisite 'no-such-course' is neither in the database"


def missing_title_language(pkg: Path) -> str:
    edit(pkg / COURSE, 'kk = "Практика"\n', "")
    line = line_number(pkg / COURSE, 'ru = "Практика"') - 1
    return f"course.toml:{line}: no 'kk' text (the course's first language)"


def two_correct_in_single(pkg: Path) -> str:
    edit(pkg / QUIZ, 'id = "programmer"\ncorrect = false', 'id = "programmer"\ncorrect = true')
    line = line_number(pkg / QUIZ, 'id = "q-learns-from"') - 1
    return f"{QUIZ}:{line}: a single-choice question needs exactly one correct option, not 2"


def duplicate_question(pkg: Path) -> str:
    edit(pkg / QUIZ, 'id = "q-mean"', 'id = "q-ml-name"')
    line = line_number(pkg / QUIZ, 'id = "q-ml-name"', 2)
    return f"{QUIZ}:{line}: question id 'q-ml-name' is used twice"


def unclosed_solution(pkg: Path) -> str:
    notebook = json.loads((pkg / NOTEBOOK).read_text(encoding="utf-8"))
    cell = notebook["cells"][2]
    cell["source"] = [line for line in cell["source"] if "END SOLUTION" not in line]
    (pkg / NOTEBOOK).write_text(json.dumps(notebook), encoding="utf-8")
    return f"{NOTEBOOK}: nbgrader: "


def not_a_notebook(pkg: Path) -> str:
    (pkg / NOTEBOOK).write_text('{"cells": [\n  1,\n', encoding="utf-8")
    return f"{NOTEBOOK}:3: not a notebook: invalid JSON"


def stray_lesson(pkg: Path) -> str:
    (pkg / "lessons/whatisai.en.md").write_text("# typo\n", encoding="utf-8")
    return "lessons/whatisai.en.md: no lesson item of course.toml uses this file"


def forbidden_type(pkg: Path) -> str:
    (pkg / "notebooks/first-notebook/helper.py").write_text("import os\n", encoding="utf-8")
    return "notebooks/first-notebook/helper.py: file type not allowed (.py)"


def symlink(pkg: Path) -> str:
    os.symlink("/etc/passwd", pkg / "lessons/passwd.txt")
    return "lessons/passwd.txt: symbolic links are not allowed"


def symlinked_folder(pkg: Path) -> str:
    os.symlink("/etc", pkg / "notebooks/first-notebook/etc")
    return "notebooks/first-notebook/etc: symbolic links are not allowed"


def checkpoints_folder(pkg: Path) -> str:
    folder = pkg / "notebooks/first-notebook/.ipynb_checkpoints"
    folder.mkdir()
    (folder / "first-notebook-checkpoint.ipynb").write_text("{}", encoding="utf-8")
    return "notebooks/first-notebook/.ipynb_checkpoints/: hidden folders are not allowed"


def steps_on_a_text_question(pkg: Path) -> str:
    edit(pkg / QUIZ, "kazakh_plain = true", "kazakh_plain = true\nitems = []")
    line = line_number(pkg / QUIZ, "items = []")
    return f"{QUIZ}:{line}: key 'items' is not allowed for kind 'text'"


def ordering_without_steps(pkg: Path) -> str:
    edit(pkg / QUIZ, 'kind = "ordering"', 'kind = "ordering"\nanswer = 1')
    line = line_number(pkg / QUIZ, "answer = 1")
    return f"{QUIZ}:{line}: key 'answer' is not allowed for kind 'ordering'"


def repeated_step(pkg: Path) -> str:
    edit(pkg / QUIZ, 'id = "split"', 'id = "collect"')
    line = line_number(pkg / QUIZ, 'id = "collect"', 2)
    return f"{QUIZ}:{line}: item id 'collect' is used twice"


def pair_without_first_language(pkg: Path) -> str:
    edit(pkg / QUIZ, 'kk = "Мысалдардан табылған ереже"\n', "")
    line = line_number(pkg / QUIZ, "[questions.pairs.right]", 3)
    return f"{QUIZ}:{line}: no 'kk' text (the course's first language)"


def bad_reveal(pkg: Path) -> str:
    edit(pkg / QUIZ, 'reveal = "after-pass-or-last-attempt"', 'reveal = "never"')
    line = line_number(pkg / QUIZ, "reveal =")
    return f"{QUIZ}:{line}: 'never' is not one of ['always', 'after-pass-or-last-attempt']"


def not_utf8(pkg: Path) -> str:
    (pkg / "lessons/what-is-ai.en.md").write_bytes(
        "# Қазақ\n".encode("cp1251", "replace") + b"\xff\n"
    )
    return "lessons/what-is-ai.en.md: not UTF-8 text"


BREAKAGES: list[Callable[[Path], str]] = [
    toml_syntax,
    unknown_key,
    bad_kind,
    missing_slug,
    wrong_type_in_quiz,
    key_of_another_kind,
    duplicate_item_id,
    bad_item_id,
    missing_first_language_lesson,
    missing_quiz_file,
    missing_notebook,
    unknown_language,
    unknown_sector,
    missing_prerequisite,
    missing_title_language,
    two_correct_in_single,
    duplicate_question,
    unclosed_solution,
    not_a_notebook,
    stray_lesson,
    forbidden_type,
    symlink,
    symlinked_folder,
    checkpoints_folder,
    not_utf8,
    steps_on_a_text_question,
    ordering_without_steps,
    repeated_step,
    pair_without_first_language,
    bad_reveal,
]


@pytest.mark.parametrize("breakage", BREAKAGES, ids=[b.__name__ for b in BREAKAGES])
def test_problem_is_reported_with_its_place(cli, session, example: Path, breakage) -> None:
    expected = breakage(example)
    result = cli("import", example)
    assert result.exit_code != 0
    assert expected in result.stderr, result.stderr
    assert "example-package: not imported" in result.stdout or "0 imported" in result.stdout
    assert session.scalar(select(func.count()).select_from(Course)) == 0


def test_every_problem_is_reported_in_one_run(cli, example: Path) -> None:
    expected = [bad_kind(example), forbidden_type(example), wrong_type_in_quiz(example)]
    result = cli("import", example)
    assert result.exit_code != 0
    for line in expected:
        assert line in result.stderr
    # Each problem is one line starting with the file name.
    assert all(
        line.startswith(("course.toml:", "quizzes/", "notebooks/"))
        for line in result.stderr.splitlines()
    )


def test_paths_are_relative_to_the_folder_given(cli, example: Path) -> None:
    (example.parent / "README.md").write_text("# Courses\n", encoding="utf-8")
    (example.parent / "notes").mkdir()
    (example.parent / "backup.zip").write_bytes(b"PK\x03\x04")
    (example / "lessons/what-is-ai.kk.md").unlink()
    result = cli("import", example.parent)
    assert result.exit_code != 0
    line = line_number(example / COURSE, 'id = "what-is-ai"')
    assert f"example-package/course.toml:{line}: lesson 'what-is-ai'" in result.stderr
    assert "notes/: not a course package (no course.toml)" in result.stderr
    assert "backup.zip: neither a course package nor a document" in result.stderr
    assert "README.md" not in result.stderr


def test_prerequisite_cycle_is_refused(cli, session, example: Path) -> None:
    other = example.parent / "other-course"
    shutil.copytree(example, other)
    edit(other / COURSE, 'slug = "example-package"', 'slug = "other-course"')
    edit(other / COURSE, "prerequisites = []", 'prerequisites = ["example-package"]')
    edit(example / COURSE, "prerequisites = []", 'prerequisites = ["other-course"]')
    result = cli("import", example.parent)
    assert result.exit_code != 0
    assert "prerequisite cycle: " in result.stderr
    assert session.scalar(select(func.count()).select_from(Course)) == 0


def test_path_must_be_a_folder(cli, example: Path) -> None:
    missing = cli("import", example / "nowhere")
    assert missing.exit_code != 0 and "no such folder" in missing.stderr
    a_file = cli("import", example / COURSE)
    assert a_file.exit_code != 0 and "not a folder" in a_file.stderr
