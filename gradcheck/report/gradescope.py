"""The Gradescope autograder format (``results.json``) for one validated submission.

One test per check, worth one point; a check that is not implemented scores 0 and says so.
Everything here is shown to the student, and a message may quote the submission's exception,
whose text the submission chose (the contents of a file it read, say). So each test's output
is one line of at most ``EXCERPT_CHARS`` characters of its check's message, and the overall
output holds only the verdict's first line (or, for a submission that was not run, an excerpt of
its message), the labels and the grader's own reproduction snippet. The submission's printed
output is never put into the structure. The complete record is the instructor's:
``student.grade`` writes it to ``OUT/<id>/instructor.json``.
"""

from __future__ import annotations

import json
from typing import Any

from gradcheck.report.escape import clean, clean_json, excerpt
from gradcheck.report.submission import result_checks

__all__ = ["render_gradescope"]


def _overall(result: dict[str, Any], has_tests: bool) -> str:
    message = str(result.get("message", ""))
    lines = [excerpt(message.strip().split("\n")[0] if has_tests else message)]
    labels = result.get("labels")
    if isinstance(labels, list) and labels:
        lines += ["", excerpt("Diagnosis labels: " + ", ".join(map(str, labels)))]
    counterexample = result.get("counterexample")
    if isinstance(counterexample, dict) and isinstance(counterexample.get("reproduce"), str):
        # the grader's own code: the assignment's function names and the input it drew
        lines += ["", "Reproduce with:", clean(counterexample["reproduce"])]
    return "\n".join(lines)


def render_gradescope(result: dict[str, Any]) -> str:
    """``result`` is a SubmissionResult's JSON form (``to_dict``)."""
    tests = []
    for check in result_checks(result):
        passed = check.get("status") == "pass"
        tests.append(
            {
                "name": excerpt(check.get("check", "?")),
                "score": 1.0 if passed else 0.0,
                "max_score": 1.0,
                "status": "passed" if passed else "failed",
                "output": excerpt(check.get("message", "")),
            }
        )
    document = {
        "score": float(result.get("score", 0.0)),
        "max_score": float(result.get("max_score", 0.0)) or float(len(tests)) or 1.0,
        "output": _overall(result, bool(tests)),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    return json.dumps(clean_json(document), indent=2) + "\n"
