"""Errors of the grading engine; the CLI maps them to exit codes (2 input, 3 sandbox)."""

from __future__ import annotations


class GraderError(Exception):
    """Base of every error the grading engine raises on purpose."""


class InvalidNotebook(GraderError):
    """An input is not a valid Jupyter notebook."""


class InvalidSource(GraderError):
    """The source notebook's nbgrader metadata is invalid; ``messages`` says why, per cell."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("\n".join(messages))
        self.messages = list(messages)


class NoSandbox(GraderError):
    """No sandbox can be had, and running learners' code without one is not allowed."""
