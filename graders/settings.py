"""Grader settings: the same ``LMS_GRADER_*`` variables for the worker and the CLI."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from graders.errors import InvalidSetting

MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
# Fields that may be 0; every other number must be above 0.
MAY_BE_ZERO = {"pool_size"}


@dataclass(frozen=True)
class GraderSettings:
    """Limits for one grading run and how kernels are started."""

    sandbox: str = "on"  # "on" (fail closed) or "off" (local development only)
    cell_timeout: float = 10.0  # seconds of wall time per cell
    run_timeout: float = 60.0  # seconds of wall time for the whole notebook
    cpu_seconds: int = 60  # CPU time of the kernel process tree
    memory_mb: int = 1024  # memory of the kernel (cgroup) and address space
    processes: int = 64  # processes and threads inside one run
    output_cell_bytes: int = 256 * 1024  # output kept per cell
    output_total_bytes: int = 2 * 1024 * 1024  # output received per run
    disk_mb: int = 64  # private /tmp of a run
    pool_size: int = 2  # pre-started kernels
    sandbox_user: str = "oqu-sandbox"
    kernel_python: str = ""  # interpreter for kernels; empty: discovered
    # Modules every kernel imports when it starts, before any learner code (comma-separated,
    # e.g. "numpy,pandas,sklearn"): pooled kernels pay for them off the learner's path, and
    # grading and the workspace's Run see the same modules loaded.
    preload: str = ""

    @property
    def preload_modules(self) -> tuple[str, ...]:
        return tuple(m.strip() for m in self.preload.split(",") if m.strip())

    @property
    def sandbox_enabled(self) -> bool:
        return self.sandbox.lower() not in {"off", "0", "false", "no"}

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GraderSettings:
        """Read ``LMS_GRADER_<FIELD>`` for every field (e.g. ``LMS_GRADER_MEMORY_MB``)."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for field in fields(cls):
            name = f"LMS_GRADER_{field.name.upper()}"
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            default = field.default
            if isinstance(default, bool):
                values[field.name] = raw.lower() in {"1", "true", "yes", "on"}
            elif isinstance(default, int | float):
                values[field.name] = _number(name, raw, type(default), field.name in MAY_BE_ZERO)
            else:
                values[field.name] = raw
        settings = cls(**values)  # type: ignore[arg-type]
        for module in settings.preload_modules:
            if not MODULE_NAME.fullmatch(module):
                raise InvalidSetting(
                    f"LMS_GRADER_PRELOAD must list module names separated by commas, "
                    f"not {settings.preload!r}"
                )
        return settings

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> GraderSettings:
        """Read ``GRADER_<FIELD>`` keys of a Flask config (already stripped of ``LMS_``)."""
        env = {f"LMS_{k}": str(v) for k, v in config.items() if k.startswith("GRADER_")}
        return cls.from_env(env)

    def with_(self, **changes: object) -> GraderSettings:
        return replace(self, **changes)  # type: ignore[arg-type]


def _number(name: str, raw: str, kind: type, zero_ok: bool) -> int | float:
    """``raw`` as a positive int or float, else ``InvalidSetting`` naming the variable."""
    what = "a whole number" if kind is int else "a number"
    try:
        value = kind(raw.strip())
    except ValueError:
        raise InvalidSetting(f"{name} must be {what}, not {raw!r}") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
        floor = "0 or more" if zero_ok else "more than 0"
        raise InvalidSetting(f"{name} must be {floor}, not {raw!r}")
    return value
