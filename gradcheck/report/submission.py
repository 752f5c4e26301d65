"""Writers for validated submissions: one submission (``validate``) or a class (``grade``).

They format the JSON form of a SubmissionResult (``to_dict``, with an ``id`` in a batch)
and compute nothing but counts. Markdown and HTML for people, JSON for machines, JUnit
(one testcase per check of each submission) for CI systems. Every string a submission may have
put into a result is escaped for its format by ``report.escape``.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from tabulate import tabulate

from gradcheck.report.escape import clean, clean_json, markdown_cell, xml_document
from gradcheck.report.escape import html_text as esc
from gradcheck.report.formats import Writers
from gradcheck.report.gradescope import render_gradescope
from gradcheck.report.html import table
from gradcheck.report.prairielearn import render_prairielearn
from gradcheck.report.student_view import (
    check_text,
    full_feedback,
    result_checks,
    student_labels,
)

__all__ = [
    "STUDENT_FILES",
    "SUBMISSION_SCHEMA",
    "SUBMISSION_WRITERS",
    "render_submission_html",
    "render_submission_json",
    "render_submission_junit",
    "render_submission_markdown",
    "result_checks",
]

SUBMISSION_SCHEMA = "gradcheck.submission/2"  # 2: partial, points, feedback levels
_RECORD_HEADERS = ["check", "tensor", "index", "yours", "expected", "abs err", "allowed", "verdict"]


def _name(result: dict[str, Any]) -> str:
    return str(result.get("id", result.get("submission", "submission")))


def _record_rows(result: dict[str, Any]) -> list[list[str]]:
    """The compared values of the checks with full feedback; the others' stay hidden."""
    rows = []
    for check in result_checks(result):
        if not full_feedback(check):
            continue
        for r in check.get("records", []):
            rows.append(
                [check.get("check", "?"), r["tensor"], ",".join(map(str, r["index"])),
                 r["value"], r["expected"], r["abs_err"], r["allowed"], r["verdict"]]
            )  # fmt: skip
    return [[str(cell) for cell in row] for row in rows]


def _fence(text: str) -> str:
    """A code fence longer than any run of backticks in ``text``, so the text cannot end it."""
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    return "`" * max(3, longest + 1)


def render_submission_markdown(result: dict[str, Any]) -> str:
    message = clean(result.get("message", ""))
    fence = _fence(message)
    labels = ", ".join(student_labels(result)) or "none"
    lines = [
        f"# {markdown_cell(_name(result))}: {markdown_cell(result.get('verdict', '?'))}",
        "",
        f"Assignment `{markdown_cell(result.get('assignment', '?'))}`, score "
        f"{result.get('score', 0):g}/{result.get('max_score', 0):g}, labels: "
        f"{markdown_cell(labels)}.",
        "",
        fence,
        message,
        fence,
        "",
    ]
    rows = [[markdown_cell(cell) for cell in row] for row in _record_rows(result)]
    if rows:
        lines += [tabulate(rows, headers=_RECORD_HEADERS, tablefmt="github", disable_numparse=True)]
        lines.append("")
    lines += [f"- {markdown_cell(note)}" for note in result.get("notes", [])]
    return "\n".join(lines) + "\n"


def render_submission_html(result: dict[str, Any]) -> str:
    name = esc(_name(result))
    verdict = esc(result.get("verdict", "?"))
    labels = esc(", ".join(student_labels(result)) or "none")
    notes = "".join(f"<li>{esc(n)}</li>" for n in result.get("notes", []))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{name}: {verdict}</title><style>body{{font-family:system-ui,sans-serif;"
        "margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px}"
        "pre{background:#f6f8fa;padding:.6em}</style></head><body>\n"
        f"<h1>{name}: {verdict}</h1><p>Labels: {labels}</p>"
        f"<pre>{esc(result.get('message', ''))}</pre>"
        f"{table(_RECORD_HEADERS, _record_rows(result))}<ul>{notes}</ul></body></html>\n"
    )


def render_submission_json(results: dict[str, Any] | Sequence[dict[str, Any]]) -> str:
    data = {"schema": SUBMISSION_SCHEMA, "results": clean_json(results)}
    return json.dumps(data, indent=2, default=str, allow_nan=False) + "\n"


def render_submission_junit(results: Sequence[dict[str, Any]], *, student: bool = False) -> str:
    """One testsuite per submission, one testcase per check (not implemented, not run:
    skipped). With ``student``, each check's text is what its feedback level shows (``validate``
    writes it so, for a CI log a student may read); a class's file is the instructor's."""
    suites = ET.Element("testsuites", name="gradcheck grading")
    for result in results:
        ident = _name(result)
        suite = ET.SubElement(suites, "testsuite", name=ident)
        checks = result_checks(result) or [
            {
                "check": "submission",
                "status": result.get("verdict", "error"),
                "message": result.get("message", ""),
            }
        ]
        failures = errors = skipped = 0
        for check in checks:
            case = ET.SubElement(suite, "testcase", classname=ident, name=str(check.get("check")))
            status = check.get("status")
            text = check_text(check) if student else str(check.get("message", ""))
            message = text.splitlines()[0] if text.strip() else ""
            if status == "fail":
                failures += 1
                ET.SubElement(case, "failure", message=message, type="fail").text = text
            elif status == "error":
                errors += 1
                ET.SubElement(case, "error", message=message, type="error").text = text
            elif status in ("not_implemented", "not_run"):
                skipped += 1
                ET.SubElement(case, "skipped", message=message)
        suite.set("tests", str(len(checks)))
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
        suite.set("skipped", str(skipped))
    return xml_document(suites)


# The autograder platforms' files, under the names their graders read.
_PLATFORM_FILES = {"gradescope": "results.json", "prairielearn": "prairielearn.json"}

SUBMISSION_WRITERS: Writers[dict[str, Any]] = Writers(
    "report",
    "submission",
    {
        "md": render_submission_markdown,
        "json": render_submission_json,
        "html": render_submission_html,
        "junit": lambda result: render_submission_junit([result], student=True),
        "gradescope": render_gradescope,
        "prairielearn": render_prairielearn,
    },
    filenames=_PLATFORM_FILES,
)

# The files ``grade`` can write for each student into ``OUT/<id>/``.
STUDENT_FILES: Writers[dict[str, Any]] = Writers(
    "per-submission",
    "results",
    {"gradescope": render_gradescope, "prairielearn": render_prairielearn},
    filenames=_PLATFORM_FILES,
)
