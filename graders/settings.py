"""Grader settings: the same ``LMS_GRADER_*`` variables for the worker and the CLI."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace


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

    @property
    def sandbox_enabled(self) -> bool:
        return self.sandbox.lower() not in {"off", "0", "false", "no"}

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GraderSettings:
        """Read ``LMS_GRADER_<FIELD>`` for every field (e.g. ``LMS_GRADER_MEMORY_MB``)."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for field in fields(cls):
            raw = env.get(f"LMS_GRADER_{field.name.upper()}")
            if raw is None or raw == "":
                continue
            default = field.default
            if isinstance(default, bool):
                values[field.name] = raw.lower() in {"1", "true", "yes", "on"}
            elif isinstance(default, int):
                values[field.name] = int(raw)
            elif isinstance(default, float):
                values[field.name] = float(raw)
            else:
                values[field.name] = raw
        return cls(**values)  # type: ignore[arg-type]

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> GraderSettings:
        """Read ``GRADER_<FIELD>`` keys of a Flask config (already stripped of ``LMS_``)."""
        env = {f"LMS_{k}": str(v) for k, v in config.items() if k.startswith("GRADER_")}
        return cls.from_env(env)

    def with_(self, **changes: object) -> GraderSettings:
        return replace(self, **changes)  # type: ignore[arg-type]
