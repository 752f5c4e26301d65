"""What of a submission's record a student may see: one place, read by every student-facing
writer (Gradescope, PrairieLearn, the per-submission Markdown and HTML).

A record is a SubmissionResult's JSON form. Each check carries its ``feedback`` level and the
``student_message`` that level allows (``student.feedback``); its values, its counterexample
and its diagnoses' details are the instructor's. A record written before checks had a
feedback level has full feedback on every check, as it had then.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "check_text",
    "full_feedback",
    "result_checks",
    "student_labels",
    "student_reproduce",
]


def result_checks(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The checks of a result that are JSON objects (a resumed record may hold anything)."""
    checks = result.get("checks")
    return [c for c in checks if isinstance(c, dict)] if isinstance(checks, list) else []


def full_feedback(check: dict[str, Any]) -> bool:
    return check.get("feedback", "full") == "full"


def check_text(check: dict[str, Any]) -> str:
    """The check's text for the student: its ``student_message``; its whole message only
    where the record has no feedback level at all (an older record)."""
    if "feedback" not in check:
        return str(check.get("message", ""))
    return str(check.get("student_message", ""))


def student_labels(result: dict[str, Any]) -> list[str]:
    labels = result.get("student_labels", result.get("labels"))
    return [str(label) for label in labels] if isinstance(labels, list) else []


def student_reproduce(result: dict[str, Any]) -> str | None:
    """The reproduction snippet of the first check with full feedback that has one."""
    checks = result_checks(result)
    if not any("feedback" in c for c in checks):  # an older record
        found = result.get("counterexample")
        return _snippet(found)
    for check in checks:
        if full_feedback(check) and _snippet(check.get("counterexample")) is not None:
            return _snippet(check.get("counterexample"))
    return None


def _snippet(counterexample: object) -> str | None:
    if isinstance(counterexample, dict) and isinstance(counterexample.get("reproduce"), str):
        return counterexample["reproduce"]
    return None
