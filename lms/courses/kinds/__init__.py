"""The registry of question kinds: every module of this package that defines ``KIND`` is
one kind (``base``, ``editing`` and ``choice`` are shared helpers). Adding a kind means
adding its module, its two templates (``lms/courses/templates/questionkinds/<name>/``)
and its block in the quiz schema; nothing else names the kinds.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from lms.courses.kinds.base import BadAnswer, Content, QuestionKind

__all__ = ["BadAnswer", "Content", "QuestionKind", "all_kinds", "get", "names"]


@cache
def _registry() -> dict[str, QuestionKind]:
    found: dict[str, QuestionKind] = {}
    for module in pkgutil.iter_modules(__path__):
        kind = getattr(importlib.import_module(f"{__name__}.{module.name}"), "KIND", None)
        if kind is None:
            continue
        if kind.name in found:
            raise RuntimeError(f"two question kinds are named {kind.name!r}")
        found[kind.name] = kind
    return dict(sorted(found.items(), key=lambda pair: (pair[1].position, pair[0])))


def all_kinds() -> list[QuestionKind]:
    """Every registered kind, in the order the studio offers them."""
    return list(_registry().values())


def names() -> list[str]:
    return list(_registry())


def get(name: str) -> QuestionKind:
    """The kind called ``name``; KeyError if there is none."""
    return _registry()[name]
