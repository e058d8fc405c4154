"""Signals between features (blinker, as Flask's own signals are).

A feature that must react to another's change subscribes here instead of being called by
it, so the one that changes imports nothing of the one that reacts. Every signal's sender is
the domain object the change is about; the open database ``session`` travels as a keyword,
and receivers flush, never commit: they run inside the sender's transaction, so the change
and every reaction to it are committed (or rolled back) together.

Subscribers connect when their feature package is imported; ``lms.models`` imports every
feature, and both the app and the test suite import it (docs/architecture.md lists who
subscribes to what).
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: sender: the signed-in ``User`` who chose a UI language; kwargs: ``session``, ``code``.
language_chosen = _signals.signal("language-chosen")

#: sender: the ``User`` about to be erased; kwargs: ``session``.
account_deleting = _signals.signal("account-deleting")

#: sender: the kept person's key (str); kwargs: ``session``, ``drop_key`` (the person whose
#: accounts move to the kept one, merged away because both carry one IIN).
persons_merged = _signals.signal("persons-merged")

#: sender: the annulled ``Completion``; kwargs: ``session``, ``reason`` (the admin's text).
completion_annulled = _signals.signal("completion-annulled")

#: sender: the ``Enrollment`` whose every required item is now passed (its ``completed_at``
#: is set); kwargs: ``session``. Statistics write the completion fact.
course_completed = _signals.signal("course-completed")

#: sender: the new ``Completion`` fact, after its counters; kwargs: ``session``.
#: Certificates issue one.
completion_recorded = _signals.signal("completion-recorded")

#: sender: the ``Submission`` whose result was just stored; kwargs: ``session``.
submission_graded = _signals.signal("submission-graded")

#: sender: the ``Submission`` of an uploaded notebook (the Jupyter path), flushed; kwargs:
#: ``session``. The workspace makes it a revision of the learner's draft.
notebook_uploaded = _signals.signal("notebook-uploaded")
