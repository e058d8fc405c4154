"""Oqu's grading engine: nbgrader semantics without a course directory. Never imports ``lms``.

- ``graders.release.release_notebook(source, header=None) -> Release`` (master, student, cells)
- ``graders.autograde.grade(master, submission, settings=..., kernel_provider=..., files=...)
  -> GradeResult`` (scores from a run with hidden tests, feedback from a run without)
- ``graders.kernels``: the ``KernelProvider`` interface, ``LocalKernelProvider`` (no
  sandbox: development and tests) and ``provider_for(settings)`` (fails closed)
- ``python -m graders release|grade``: the command line (see ``graders.__main__``)
"""
