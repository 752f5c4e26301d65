"""The PrairieLearn external-grader format (``results.json`` in ``/grade/results/``) for one
validated submission.

``gradable`` is false only for a submission that could not be evaluated before any check ran
(it does not parse, it died while loading: verdict ``error`` and no checks), so that
PrairieLearn does not count it as a graded attempt (one that hung in a check is graded);
``score`` is the fraction of the points earned, 0 to 1; ``message`` is the headline; one
test per check, with its ``points`` of ``max_points`` and as ``message`` and ``output``
the text its feedback level lets the student see (``report.student_view``). As for
Gradescope, everything here is shown to the student, so each text is an excerpt, and the
submission's printed output is never included.
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

__all__ = ["render_prairielearn"]

_OUTPUT_CHARS = 2000


def _number(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return 0.0


def _test(check: dict[str, Any]) -> dict[str, Any]:
    text = check_text(check).strip()
    return {
        "name": excerpt(check.get("check", "?")),
        "points": _number(check.get("points")),
        "max_points": _number(check.get("max_points")),
        "message": excerpt(text.split("\n")[0] if text else ""),
        "output": excerpt(text, _OUTPUT_CHARS),
    }


def _output(result: dict[str, Any]) -> str:
    lines = []
    labels = student_labels(result)
    if labels:
        lines.append(excerpt("Diagnosis labels: " + ", ".join(labels)))
    reproduce = student_reproduce(result)
    if reproduce is not None:
        lines += ["Reproduce with:", clean(reproduce)]
    return "\n".join(lines)


def render_prairielearn(result: dict[str, Any]) -> str:
    """``result`` is a SubmissionResult's JSON form (``to_dict``)."""
    tests = [_test(check) for check in result_checks(result)]
    max_score = _number(result.get("max_score"))
    score = _number(result.get("score"))
    message = str(result.get("message", "")).strip()
    document = {
        "gradable": bool(tests) or result.get("verdict") != "error",
        "score": min(1.0, max(0.0, score / max_score)) if max_score > 0 else 0.0,
        "message": excerpt(message.split("\n")[0] if tests else message),
        "output": _output(result),
        "tests": tests,
    }
    return json.dumps(clean_json(document), indent=2) + "\n"
