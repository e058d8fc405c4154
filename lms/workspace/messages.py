"""What the workspace says to the learner, in their language: notices inside outputs and why
a Run ended. Outputs are stored with codes (the runs worker has no request language) and
translated when they are shown."""

from __future__ import annotations

import copy
from typing import Any

from flask_babel import gettext as _

from lms.i18n import localized


def check_text(status: str, messages: dict[str, Any]) -> str:
    """What a learner reads of one visible check: passed, or why not and the author's hint."""
    if status == "passed":
        return _("Check passed.")
    why = {
        "missing": _("The check did not receive an answer (the cell stopped before it?)."),
        "repeated": _("The check received more than one answer, so it did not pass."),
        "unreadable": _("This answer has a type the check cannot read."),
    }.get(status)
    hint = localized({str(k): str(v) for k, v in messages.items()}, ("en",))
    text = _("Check did not pass: %(hint)s", hint=hint) if hint else _("Check did not pass.")
    return f"{text} {why}" if why else text


def notice_text(code: str, output: dict[str, Any]) -> str:
    """The learner's words for a notice of ``lms.workspace.outputs``."""
    if code == "timeout":
        seconds = "{:g}".format(float(output.get("seconds") or 0))
        return _(
            "This cell ran longer than %(seconds)s seconds and was stopped. Look for a loop "
            "that never ends, or work that takes too long.",
            seconds=seconds,
        )
    if code == "truncated":
        return _(
            "Output cut here: a cell may show at most %(kib)s KiB. Print less (for example "
            "the first rows with .head()).",
            kib=max(1, int(output.get("bytes") or 0) // 1024),
        )
    if code == "died":
        return _(
            "The kernel stopped while running this cell: it used too much memory or too many "
            "processes, or the code ended its own process. Run the cell again after fixing it."
        )
    if code == "not-run":
        return _("Not run: an earlier cell stopped the run.")
    if code == "unconfirmed":
        return _("The kernel stopped before it confirmed that this cell had finished.")
    if code == "check":
        return check_text(str(output.get("status")), output.get("messages") or {})
    if code == "active-dropped":
        return _(
            "This output is an interactive or script output, which the workspace does not "
            "run. It was left out."
        )
    return _("This output cannot be shown.")


def shown_outputs(stored: dict[str, Any]) -> dict[str, Any]:
    """A Run's stored outputs with every notice's text in the current language."""
    shown = copy.deepcopy(stored)
    for cell in shown.values():
        for output in cell.get("outputs", []):
            if output.get("kind") == "notice":
                output["text"] = notice_text(str(output.get("code")), output)
    return shown


def run_reason(code: str | None) -> str:
    """Why a Run ended before the cell the learner ran (empty: it got there)."""
    if not code:
        return ""
    if code == "run-timeout":
        return _("The run took longer than the time limit for a whole notebook.")
    if code == "kernel-stopped":
        return _("The kernel died or hung; the cells after it were not run.")
    if code == "cancelled":
        return _("A newer run replaced this one.")
    if code == "lost":
        return _("This run was lost on our side. Press Run again.")
    return _("The code could not be run because of an error on our side. Try again shortly.")
