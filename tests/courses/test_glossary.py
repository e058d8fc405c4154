"""Every shipped course text uses the glossary's terms (docs/glossary.toml).

A variant the glossary says to ``avoid`` is flagged when it starts a word, in any case, in a
text of its language: lessons (outside code), the texts of course.toml and of quizzes (by
their ``kk``/``ru``/``en`` key), and the Markdown cells and check messages of notebooks
(a line's language told by its letters). Each finding names file, line and the term to use.
"""

from __future__ import annotations

import io
import json
import re
import tokenize
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COURSES = ROOT / "courses"
GLOSSARY = ROOT / "docs" / "glossary.toml"
LANGUAGES = ("kk", "ru", "en")
KAZAKH_LETTERS = re.compile(r"[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")
CYRILLIC = re.compile(r"[а-яёА-ЯЁ]")
TEXT_KEY = re.compile(r"^\s*(kk|ru|en)\s*=\s*(.+)$")
FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"`[^`]*`")


@dataclass(frozen=True)
class Rule:
    variant: str
    preferred: str
    concept: str
    pattern: re.Pattern[str]


def rules() -> dict[str, list[Rule]]:
    """The avoided variants per language, each matching the start of a word."""
    found: dict[str, list[Rule]] = {lang: [] for lang in LANGUAGES}
    for term in tomllib.loads(GLOSSARY.read_text("utf-8"))["terms"]:
        for lang, variants in term.get("avoid", {}).items():
            for variant in variants:
                words = r"\s+".join(re.escape(w) for w in variant.split())
                pattern = re.compile(rf"(?<!\w){words}", re.IGNORECASE)
                found[lang].append(Rule(variant, term[lang], term["en"], pattern))
    return found


RULES = rules()


def line_language(text: str) -> str:
    if KAZAKH_LETTERS.search(text):
        return "kk"
    return "ru" if CYRILLIC.search(text) else "en"


def findings(path: Path, line: int, lang: str, text: str) -> Iterator[str]:
    rel = path.relative_to(ROOT)
    for rule in RULES[lang]:
        for match in rule.pattern.finditer(text):
            yield (
                f"{rel}:{line}: «{match.group(0)}» ({lang}, avoid «{rule.variant}») → use "
                f"«{rule.preferred}» ({rule.concept})"
            )


def prose_lines(lines: list[str]) -> Iterator[tuple[int, str]]:
    """Markdown lines outside fenced code, inline code removed, numbered from 1."""
    in_code = False
    for number, line in enumerate(lines, start=1):
        if FENCE.match(line):
            in_code = not in_code
            continue
        if not in_code:
            yield number, INLINE_CODE.sub(" ", line)


def lesson_findings(path: Path) -> Iterator[str]:
    lang = path.name.split(".")[-2]
    for number, line in prose_lines(path.read_text("utf-8").splitlines()):
        yield from findings(path, number, lang, line)


def toml_findings(path: Path) -> Iterator[str]:
    """course.toml and quiz files: every ``kk``/``ru``/``en`` value is a text of that language."""
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        found = TEXT_KEY.match(line)
        if found:
            yield from findings(path, number, found.group(1), found.group(2))


def _messages(source: str) -> Iterator[tuple[int, str]]:
    """String literals that are prose (check messages, printed hints) in a code cell."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return
    for token in tokens:
        if token.type == tokenize.STRING and re.search(r"\w\s+\w", token.string):
            yield token.start[0], token.string


def notebook_findings(path: Path) -> Iterator[str]:
    raw = path.read_text("utf-8").splitlines()
    cursor = 0

    def file_line(text: str) -> int:
        """The line of the .ipynb file holding this source line (nbformat writes one a line)."""
        nonlocal cursor
        needle = json.dumps(text, ensure_ascii=False)
        for index in range(cursor, len(raw)):
            if needle.rstrip('"') in raw[index]:
                cursor = index
                return index + 1
        return cursor + 1

    for cell in json.loads("\n".join(raw))["cells"]:
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        lines = source.splitlines()
        if cell["cell_type"] == "markdown":
            for number, line in prose_lines(lines):
                at = file_line(lines[number - 1])
                yield from findings(path, at, line_language(line), line)
        elif cell["cell_type"] == "code":
            for number, message in _messages(source):
                at = file_line(lines[number - 1])
                yield from findings(path, at, line_language(message), message)


def course_texts(package: Path) -> Iterator[str]:
    yield from toml_findings(package / "course.toml")
    for path in sorted((package / "quizzes").glob("*.toml")):
        yield from toml_findings(path)
    for path in sorted((package / "lessons").glob("*.md")):
        yield from lesson_findings(path)
    for path in sorted((package / "notebooks").glob("*/*.ipynb")):
        yield from notebook_findings(path)


PACKAGES = sorted(p.parent for p in COURSES.glob("*/course.toml"))


@pytest.mark.parametrize("package", PACKAGES, ids=[p.name for p in PACKAGES])
def test_course_texts_use_the_glossarys_terms(package: Path) -> None:
    found = list(course_texts(package))
    assert not found, "terms the glossary says to avoid:\n" + "\n".join(found)


def test_the_check_finds_a_variant_at_the_start_of_a_word_in_its_language(
    tmp_path: Path,
) -> None:
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    kk = lessons / "x.kk.md"
    kk.write_text("# Сабақ\n\nБұл НОУТБУКТА жазылған.\n\n```\nноутбук = 1\n```\n", "utf-8")
    ru = lessons / "x.ru.md"
    ru.write_text("Откройте ноутбук.\n", "utf-8")
    relative = Path(*kk.parts)  # findings name files relative to the repository
    found = [f for f in _with_root(tmp_path, lesson_findings, kk)]
    assert len(found) == 1 and ":3: «НОУТБУК»" in found[0] and "«дәптер»" in found[0]
    assert relative.name == "x.kk.md"
    # The Russian list is its own: «ноутбук» in a Russian text is judged by ru's avoid list.
    ru_rules = {rule.variant for rule in RULES["ru"]}
    ru_found = _with_root(tmp_path, lesson_findings, ru)
    assert bool(ru_found) == any(v.startswith("ноутбук") for v in ru_rules)
    # Inside a word it is no finding: "субноутбук" does not start with the variant.
    (lessons / "y.kk.md").write_text("субноутбук\n", "utf-8")
    assert _with_root(tmp_path, lesson_findings, lessons / "y.kk.md") == []


def test_notebook_markdown_and_check_messages_are_read(tmp_path: Path) -> None:
    notebook = {
        "cells": [
            {
                "cell_type": "markdown",
                "metadata": {},
                "source": ["# Тапсырма\n", "Ноутбукты ашыңыз.\n"],
            },
            {
                "cell_type": "code",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": ["noutbuk = 1\n", 'assert noutbuk == 1, "Ноутбуктағы жауап қате"\n'],
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(notebook, ensure_ascii=False, indent=1) + "\n", "utf-8")
    found = _with_root(tmp_path, notebook_findings, path)
    assert len(found) == 2, found
    lines = path.read_text("utf-8").splitlines()
    for finding in found:
        line = int(finding.split(":")[1])
        assert "оутбук" in lines[line - 1]


def _with_root(root: Path, reader, path: Path) -> list[str]:
    global ROOT
    saved, ROOT = ROOT, root
    try:
        return list(reader(path))
    finally:
        ROOT = saved


def ui_findings() -> Iterator[str]:
    """The interface's own translations (msgstr of every feature's kk and ru catalogue)."""
    from babel.messages.pofile import read_po

    for path in sorted((ROOT / "lms").glob("**/translations/*/LC_MESSAGES/messages.po")):
        lang = path.parts[-3]
        if lang not in RULES:
            continue
        with path.open("rb") as handle:
            catalog = read_po(handle)
        for message in catalog:
            texts = message.string if isinstance(message.string, tuple) else (message.string,)
            for text in texts:
                if text:
                    yield from findings(path, message.lineno, lang, text)


def test_the_interface_uses_the_glossarys_terms_too() -> None:
    assert list(ui_findings()) == []
