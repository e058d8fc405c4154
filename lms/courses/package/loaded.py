"""A package as read from disk, before it touches the database, and the problems found."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a package, located as precisely as the text allows."""

    file: str
    message: str
    line: int | None = None
    key: str | None = None

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.file}:{self.line}: {self.message}"
        if self.key:
            return f"{self.file}: {self.key}: {self.message}"
        return f"{self.file}: {self.message}"


@dataclass
class LoadedQuestion:
    key: str
    kind: str
    points: Decimal
    prompt: dict[str, str]
    options: list[dict[str, Any]]
    answer: dict[str, Any]
    explanation: dict[str, str]
    scenario: bool = False


@dataclass
class LoadedQuiz:
    pass_mark: Decimal
    max_attempts: int | None
    questions: list[LoadedQuestion]
    retry_hours: int = 24
    reveal: str = "always"
    exercise: bool = False


@dataclass
class LoadedAssignment:
    notebook: str
    source: str
    master: str
    student: str
    auto_points: Decimal
    total_points: Decimal
    pass_score: Decimal
    max_attempts: int | None
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class LoadedItem:
    key: str
    kind: str
    required: bool
    title: dict[str, str]
    lesson: dict[str, str] | None = None
    quiz: LoadedQuiz | None = None
    assignment: LoadedAssignment | None = None


@dataclass
class LoadedModule:
    key: str
    title: dict[str, str]
    items: list[LoadedItem]


@dataclass
class LoadedPackage:
    """Everything a package says, validated; ``label`` prefixes its files in messages."""

    root: Path
    label: str
    slug: str
    tier: str
    languages: list[str]
    sectors: list[str]
    version: str
    published: bool
    prerequisites: list[str]
    title: dict[str, str]
    summary: dict[str, str]
    modules: list[LoadedModule]
    files: dict[str, bytes] = field(default_factory=dict)
    # Where in course.toml each prerequisite is named, for later cross-package checks.
    prerequisite_lines: dict[str, int | None] = field(default_factory=dict)

    @property
    def items(self) -> list[LoadedItem]:
        return [item for module in self.modules for item in module.items]
