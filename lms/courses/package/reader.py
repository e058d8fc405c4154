"""Read a course package from disk and check everything about it that needs no database."""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lms.courses import kinds
from lms.courses.package import notebooks
from lms.courses.package.loaded import (
    LoadedItem,
    LoadedModule,
    LoadedPackage,
    LoadedQuestion,
    LoadedQuiz,
    Problem,
)
from lms.courses.package.tomltext import KeyPath, key_lines, line_of
from lms.reference import NO_SECTOR, sector_codes

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schema"
ALLOWED_SUFFIXES = (".toml", ".md", ".ipynb", ".png", ".jpg", ".gif", ".csv", ".json", ".txt")
if TYPE_CHECKING:
    import jsonschema

LANGUAGES = ("kk", "ru", "en")
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)")
_TOML_END = re.compile(r"\s*\(at end of document\)")


@cache
def validator(name: str) -> jsonschema.protocols.Validator:
    """The JSON Schema validator for ``course`` or ``quiz`` files."""
    import jsonschema  # here, not at the top: it costs seconds to import

    schema = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _fits(value: float | int, places: int) -> Decimal | None:
    """``value`` as a Decimal when it has at most ``places`` decimals (what the columns hold)."""
    exact = Decimal(str(value))
    return exact if exact == exact.quantize(Decimal(1).scaleb(-places)) else None


class _Reader:
    def __init__(self, root: Path, label: str) -> None:
        self.root = root
        self.label = label
        self.problems: list[Problem] = []
        self.files: dict[str, Path] = {}
        self.used: set[str] = set()

    def problem(
        self, rel: str, message: str, *, line: int | None = None, key: str | None = None
    ) -> None:
        self.problems.append(Problem(self.label + rel, message, line, key))

    def at(self, rel: str, lines: dict[KeyPath, int], path: KeyPath, message: str) -> None:
        line = line_of(lines, path)
        key = ".".join(str(p) for p in path) if path and line is None else None
        self.problem(rel, message, line=line, key=key)

    # -- files -------------------------------------------------------------------------
    def scan(self) -> None:
        if self.root.is_symlink():
            self.problem("", "symbolic links are not allowed")
            return
        for dirpath, dirnames, filenames in os.walk(self.root):
            here = Path(dirpath)
            for name in sorted(dirnames):
                if (here / name).is_symlink():
                    self.problem(self.rel(here / name), "symbolic links are not allowed")
                    dirnames.remove(name)
                elif name.startswith("."):
                    # Editor and Jupyter leftovers (.ipynb_checkpoints) are not course content.
                    self.problem(self.rel(here / name) + "/", "hidden folders are not allowed")
                    dirnames.remove(name)
            dirnames.sort()
            for name in sorted(filenames):
                path = here / name
                rel = self.rel(path)
                if path.is_symlink():
                    self.problem(rel, "symbolic links are not allowed")
                elif not path.is_file():
                    self.problem(rel, "not a regular file")
                elif path.suffix.lower() not in ALLOWED_SUFFIXES or name.startswith("."):
                    self.problem(
                        rel,
                        f"file type not allowed ({path.suffix or 'no extension'});"
                        f" a package holds only {' '.join(ALLOWED_SUFFIXES)}",
                    )
                else:
                    self.files[rel] = path

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def text(self, rel: str) -> str | None:
        self.used.add(rel)
        try:
            return self.files[rel].read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            self.problem(rel, f"not UTF-8 text (byte {exc.start})")
            return None

    def toml(self, rel: str, schema: str) -> tuple[dict[str, Any] | None, dict[KeyPath, int]]:
        text = self.text(rel)
        if text is None:
            return None, {}
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            message = str(exc)
            found = _TOML_POSITION.search(message)
            line = int(found.group(1)) if found else len(text.splitlines()) or 1
            message = _TOML_END.sub("", _TOML_POSITION.sub("", message))
            if found:
                message += f" (column {found.group(2)})"
            self.problem(rel, f"TOML syntax: {message}", line=line)
            return None, {}
        lines = key_lines(text)
        errors = sorted(
            validator(schema).iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]
        )
        for error in errors:
            self._schema_problem(rel, lines, error, data)
        return (None if errors else data), lines

    def _schema_problem(
        self,
        rel: str,
        lines: dict[KeyPath, int],
        error: jsonschema.ValidationError,
        data: dict[str, Any],
    ) -> None:
        path: KeyPath = tuple(error.absolute_path)
        if error.validator is None:
            # A key forbidden by a ``false`` schema: jsonschema leaves its name off the path.
            holder: Any = data
            for part in path:
                holder = holder[part]
            names = (
                [k for k, v in holder.items() if v is error.instance]
                if isinstance(holder, dict)
                else []
            )
            if names:
                path = (*path, names[0])
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = error.schema.get("properties", {})
            for extra in sorted(k for k in error.instance if k not in known):
                self.at(rel, lines, (*path, extra), f"unknown key {extra!r}")
            return
        if error.validator == "unevaluatedProperties" and isinstance(error.instance, dict):
            allowed = _evaluated_keys(error.schema, error.instance)
            for extra in sorted(k for k in error.instance if k not in allowed):
                kind = error.instance.get("kind")
                self.at(
                    rel, lines, (*path, extra), f"key {extra!r} is not allowed for kind {kind!r}"
                )
            return
        if error.validator is None and path:
            message = f"key {path[-1]!r} is not allowed for this kind"
        elif error.validator == "required":
            message = f"missing key {error.message.split(' is a required')[0]}"
        else:
            message = error.message
        self.at(rel, lines, path, message)

    def need_first_language(
        self, rel: str, lines: dict[KeyPath, int], path: KeyPath, texts: dict[str, Any], first: str
    ) -> None:
        if not texts.get(first):
            self.at(rel, lines, path, f"no {first!r} text (the course's first language)")

    # -- the package -------------------------------------------------------------------
    def read(self) -> LoadedPackage | None:
        self.scan()
        if "course.toml" not in self.files:
            if not self.problems:
                self.problem("course.toml", "missing: a package starts with course.toml")
            return None
        course, lines = self.toml("course.toml", "course")
        if course is None:
            # Still report what is wrong with the quizzes, so one run shows everything.
            for rel in sorted(r for r in self.files if r.startswith("quizzes/")):
                if rel.endswith(".toml"):
                    self.toml(rel, "quiz")
            return None
        package = self._course(course, lines)
        self._leftovers(package)
        return None if self.problems else package

    def _course(self, course: dict[str, Any], lines: dict[KeyPath, int]) -> LoadedPackage:
        languages: list[str] = course["languages"]
        first = languages[0]
        for key in ("title", "summary"):
            self.need_first_language("course.toml", lines, (key,), course[key], first)
        valid_sectors = sector_codes() - {NO_SECTOR}
        for sector in course.get("sectors", []):
            if sector not in valid_sectors:
                self.at(
                    "course.toml",
                    lines,
                    ("sectors",),
                    f"unknown sector {sector!r} (OKED section letters A to U)",
                )
        prerequisites = sorted(course.get("prerequisites", []))
        if course["slug"] in prerequisites:
            self.at(
                "course.toml", lines, ("prerequisites",), "a course cannot be its own prerequisite"
            )
        package = LoadedPackage(
            root=self.root,
            label=self.label,
            slug=course["slug"],
            tier=course["tier"],
            languages=languages,
            sectors=sorted(course.get("sectors", [])),
            version=course.get("version", "1"),
            published=course.get("published", False),
            prerequisites=prerequisites,
            title=course["title"],
            summary=course["summary"],
            modules=[],
            prerequisite_lines={p: line_of(lines, ("prerequisites",)) for p in prerequisites},
        )
        modules_seen: set[str] = set()
        items_seen: set[str] = set()
        notebooks_seen: set[str] = set()
        for m, module in enumerate(course["modules"]):
            mpath: KeyPath = ("modules", m)
            if module["id"] in modules_seen:
                self.at(
                    "course.toml",
                    lines,
                    (*mpath, "id"),
                    f"module id {module['id']!r} is used twice",
                )
            modules_seen.add(module["id"])
            self.need_first_language(
                "course.toml", lines, (*mpath, "title"), module["title"], first
            )
            loaded = LoadedModule(key=module["id"], title=module["title"], items=[])
            package.modules.append(loaded)
            for i, item in enumerate(module["items"]):
                ipath: KeyPath = (*mpath, "items", i)
                if item["id"] in items_seen:
                    self.at(
                        "course.toml",
                        lines,
                        (*ipath, "id"),
                        f"item id {item['id']!r} is used twice",
                    )
                items_seen.add(item["id"])
                self.need_first_language(
                    "course.toml", lines, (*ipath, "title"), item["title"], first
                )
                if item["kind"] == "assignment":
                    if item["notebook"] in notebooks_seen:
                        self.at(
                            "course.toml",
                            lines,
                            (*ipath, "notebook"),
                            f"notebook {item['notebook']!r} is used by two assignments",
                        )
                    notebooks_seen.add(item["notebook"])
                loaded.items.append(self._item(item, lines, ipath, first))
        return package

    def _item(
        self, item: dict[str, Any], lines: dict[KeyPath, int], ipath: KeyPath, first: str
    ) -> LoadedItem:
        key = item["id"]
        loaded = LoadedItem(
            key=key, kind=item["kind"], required=item.get("required", True), title=item["title"]
        )
        if loaded.kind == "lesson":
            bodies = {}
            for lang in LANGUAGES:
                rel = f"lessons/{key}.{lang}.md"
                if rel in self.files and (body := self.text(rel)) is not None:
                    bodies[lang] = body
            if first not in bodies and f"lessons/{key}.{first}.md" not in self.used:
                self.at(
                    "course.toml",
                    lines,
                    (*ipath, "id"),
                    f"lesson {key!r} has no lessons/{key}.{first}.md (the course's first language)",
                )
            loaded.lesson = bodies
        elif loaded.kind == "quiz":
            rel = f"quizzes/{key}.toml"
            if rel not in self.files:
                self.at("course.toml", lines, (*ipath, "id"), f"quiz {key!r} has no {rel}")
            else:
                loaded.quiz = self._quiz(rel, first)
        else:
            loaded.assignment = notebooks.read_assignment(self, item, lines, ipath)
        return loaded

    def _quiz(self, rel: str, first: str) -> LoadedQuiz | None:
        data, lines = self.toml(rel, "quiz")
        if data is None:
            return None
        pass_mark = _fits(data["pass_mark"], 3)
        if pass_mark is None:
            self.at(rel, lines, ("pass_mark",), "use at most 3 decimal places")
        questions = []
        seen: set[str] = set()
        for q, question in enumerate(data["questions"]):
            qpath: KeyPath = ("questions", q)
            if question["id"] in seen:
                self.at(rel, lines, (*qpath, "id"), f"question id {question['id']!r} is used twice")
            seen.add(question["id"])
            self.need_first_language(rel, lines, (*qpath, "prompt"), question["prompt"], first)
            points = _fits(question.get("points", 1), 2)
            if points is None or points >= 10000:
                self.at(rel, lines, (*qpath, "points"), "points: below 10000, 2 decimals at most")
            questions.append(
                self._question(rel, lines, qpath, question, first, points or Decimal(1))
            )
        return LoadedQuiz(
            pass_mark=pass_mark or Decimal(1),
            max_attempts=data.get("max_attempts"),
            questions=questions,
            retry_hours=data.get("retry_hours", 24),
            reveal=data.get("reveal", "always"),
            exercise=data.get("exercise", False),
        )

    def _question(
        self,
        rel: str,
        lines: dict[KeyPath, int],
        qpath: KeyPath,
        question: dict[str, Any],
        first: str,
        points: Decimal,
    ) -> LoadedQuestion:
        content = kinds.get(question["kind"]).read_package(
            _QuestionReader(self, rel, lines, first), qpath, question
        )
        return LoadedQuestion(
            key=question["id"],
            kind=question["kind"],
            points=points,
            prompt=question["prompt"],
            options=content.options,
            answer=content.answer,
            explanation=question.get("explanation", {}),
            scenario=question.get("scenario", False),
        )

    def _leftovers(self, package: LoadedPackage) -> None:
        for rel in sorted(set(self.files) - self.used):
            top, _, rest = rel.partition("/")
            if top == "lessons" and rel.endswith(".md"):
                self.problem(
                    rel,
                    "no lesson item of course.toml uses this file (expected "
                    "lessons/<item-id>.<kk|ru|en>.md)",
                )
            elif top == "quizzes" and rel.endswith(".toml"):
                self.problem(rel, "no quiz item of course.toml uses this file")
            elif top == "notebooks" and rest:
                self.problem(rel, "no assignment of course.toml uses this notebook folder")
            elif rel.endswith((".toml", ".ipynb")):
                self.problem(
                    rel,
                    "unexpected file: quizzes go in quizzes/, notebooks in "
                    "notebooks/<name>/<name>.ipynb",
                )
            else:
                package.files[rel] = self.files[rel].read_bytes()


def _evaluated_keys(schema: Mapping[str, Any], instance: Mapping[str, Any]) -> set[str]:
    """The keys a question's schema allows for its kind: the common ones and its block's."""
    allowed = set(schema.get("properties", {}))
    kind = instance.get("kind")
    for block in schema.get("allOf", []):
        condition = block.get("if", {}).get("properties", {}).get("kind", {})
        if kind == condition.get("const") or kind in condition.get("enum", []):
            allowed |= set(block.get("then", {}).get("properties", {}))
    return allowed


class _QuestionReader:
    """What a question kind sees of the reader: problems located in its quiz file."""

    def __init__(self, reader: _Reader, rel: str, lines: dict[KeyPath, int], first: str) -> None:
        self.reader, self.rel, self.lines, self.first = reader, rel, lines, first

    def at(self, path: KeyPath, message: str) -> None:
        self.reader.at(self.rel, self.lines, path, message)

    def need_first_language(self, path: KeyPath, texts: Mapping[str, Any]) -> None:
        self.reader.need_first_language(self.rel, self.lines, path, dict(texts), self.first)


def read_package(root: Path, *, label: str = "") -> tuple[LoadedPackage | None, list[Problem]]:
    """Read and check the package at ``root``; file names in problems start with ``label``."""
    reader = _Reader(root, label)
    package = reader.read()
    return package, reader.problems
