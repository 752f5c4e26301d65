"""The Gradescope autograder format (``results.json``) for one validated submission.

One test per check, worth the check's points (``score`` of ``max_score``), with its
``visibility`` (``visible``, ``hidden``, ``after_due_date``, ``after_published``) and as its
``output`` the text its feedback level lets the student see (``report.student_view``): a
hidden check says only whether it passed. Everything here is shown to the student, and a
message may quote the submission's exception, whose text the submission chose (the contents
of a file it read, say). So each test's output is one line of at most ``EXCERPT_CHARS``
characters, and the overall output holds only the headline (or, for a submission that was
not run, an excerpt of its message), what was not graded, the labels a student may see and
the grader's own reproduction snippet of a check with full feedback. The submission's printed
output is never put into the structure. The complete record is the instructor's:
``student.grade`` writes it to ``OUT/<id>/instructor.json``.
"""

from __future__ import annotations

import json
from typing import Any

from gradcheck.report.escape import clean, clean_json, excerpt
from gradcheck.report.student_view import (
    check_text,
    result_checks,
    student_labels,
    student_reproduce,
)

__all__ = ["VISIBILITIES", "render_gradescope"]

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


def _overall(result: dict[str, Any], has_tests: bool) -> str:
    message = str(result.get("message", ""))
    lines = [excerpt(message.strip().split("\n")[0] if has_tests else message)]
    not_graded = result.get("not_graded")
    if has_tests and isinstance(not_graded, list) and not_graded:
        lines += ["", excerpt("Not graded: " + ", ".join(map(str, not_graded)))]
    labels = student_labels(result)
    if labels:
        lines += ["", excerpt("Diagnosis labels: " + ", ".join(labels))]
    reproduce = student_reproduce(result)
    if reproduce is not None:
        # the grader's own code: the assignment's function names and the input it drew
        lines += ["", "Reproduce with:", clean(reproduce)]
    return "\n".join(lines)


def _number(value: object, default: float) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return default


def _test(check: dict[str, Any]) -> dict[str, Any]:
    passed = check.get("status") == "pass"
    max_points = _number(check.get("max_points"), 1.0)
    visibility = check.get("visibility", "visible")
    return {
        "name": excerpt(check.get("check", "?")),
        "score": _number(check.get("points"), max_points if passed else 0.0),
        "max_score": max_points,
        "status": "passed" if passed else "failed",
        "output": excerpt(check_text(check)),
        "visibility": visibility if visibility in VISIBILITIES else "visible",
    }


def render_gradescope(result: dict[str, Any]) -> str:
    """``result`` is a SubmissionResult's JSON form (``to_dict``)."""
    tests = [_test(check) for check in result_checks(result)]
    document = {
        "score": _number(result.get("score"), 0.0),
        "max_score": _number(result.get("max_score"), 0.0)
        or sum(t["max_score"] for t in tests)
        or 1.0,
        "output": _overall(result, bool(tests)),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    return json.dumps(clean_json(document), indent=2) + "\n"
