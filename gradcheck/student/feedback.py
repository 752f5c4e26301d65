"""What a student may see of one check, at the check's feedback level.

- ``full``: the check's whole message: the values that differ, the diagnosis, whether the
  backward agrees with the forward (the reproduction snippet is added by ``validate``).
- ``diagnosis``: whether it passed, and for each label its fixed meaning and the tensors it
  concerns. Nothing measured on the run is quoted: no reference value, no input value, no
  factor, and none of the submission's own exception text (which a submission could fill with
  the hidden inputs it was given).
- ``hidden``: whether it passed, and its points.

The instructor's record keeps the whole message (``CheckOutcome.message``) whatever the level.
"""

from __future__ import annotations

from gradcheck.student.labels import LABEL_MEANINGS
from gradcheck.student.result import CheckOutcome

__all__ = ["student_text"]

_SAID = {
    "pass": "passed",
    "fail": "failed",
    "error": "could not be evaluated",
    "not_implemented": "not implemented",
    "not_run": "not run, the submission's process had stopped",
}


def _points(outcome: CheckOutcome) -> str:
    return f"{outcome.points:g}/{outcome.max_points:g} points"


def _diagnosis_lines(outcome: CheckOutcome) -> list[str]:
    lines = []
    for d in outcome.diagnoses:
        where = f" (in {', '.join(d.tensors)})" if d.tensors else ""
        lines.append(f"  {d.label}: {LABEL_MEANINGS[d.label]}{where}")
    return list(dict.fromkeys(lines))


def student_text(outcome: CheckOutcome) -> str:
    """The lines about ``outcome`` that a student may read (see the module docstring)."""
    if outcome.feedback == "full" or outcome.status in ("not_implemented", "not_run"):
        return outcome.message
    head = f"{outcome.check}: {_SAID.get(outcome.status, outcome.status)} ({_points(outcome)})"
    if outcome.feedback == "hidden" or outcome.status == "pass":
        return head
    return "\n".join([head, *_diagnosis_lines(outcome)])
