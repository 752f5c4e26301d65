"""The Gradescope autograder format (``results.json``) for one validated submission.

One test per check, worth one point; a check that is not implemented scores 0 and says so.
The submission's own printed output is never put into the structure, only the verdict's
explanation.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["render_gradescope"]


def render_gradescope(result: dict[str, Any]) -> str:
    """``result`` is a SubmissionResult's JSON form (``to_dict``)."""
    tests = []
    for check in result.get("checks", []):
        passed = check["status"] == "pass"
        tests.append(
            {
                "name": check["check"],
                "score": 1.0 if passed else 0.0,
                "max_score": 1.0,
                "status": "passed" if passed else "failed",
                "output": check.get("message", ""),
            }
        )
    labels = result.get("labels", [])
    output = result.get("message", "")
    if labels:
        output += "\n\nDiagnosis labels: " + ", ".join(labels)
    document = {
        "score": float(result.get("score", 0.0)),
        "max_score": float(result.get("max_score", 0.0)) or float(len(tests)) or 1.0,
        "output": output,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    return json.dumps(document, indent=2) + "\n"
