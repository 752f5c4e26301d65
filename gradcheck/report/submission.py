"""Writers for validated submissions: one submission (``validate``) or a class (``grade``).

They format the JSON form of a SubmissionResult (``to_dict``, with an ``id`` in a batch)
and compute nothing but counts. Markdown and HTML for people, JSON for machines, JUnit
(one testcase per check of each submission) for CI systems.
"""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from tabulate import tabulate

from gradcheck.report.formats import Writers
from gradcheck.report.html import table

__all__ = [
    "SUBMISSION_SCHEMA",
    "SUBMISSION_WRITERS",
    "render_submission_html",
    "render_submission_json",
    "render_submission_junit",
    "render_submission_markdown",
]

SUBMISSION_SCHEMA = "gradcheck.submission/1"
_RECORD_HEADERS = ["check", "tensor", "index", "yours", "expected", "abs err", "allowed", "verdict"]


def _record_rows(result: dict[str, Any]) -> list[list[str]]:
    rows = []
    for check in result.get("checks", []):
        for r in check.get("records", []):
            rows.append(
                [check["check"], r["tensor"], ",".join(map(str, r["index"])), str(r["value"]),
                 str(r["expected"]), str(r["abs_err"]), str(r["allowed"]), r["verdict"]]
            )  # fmt: skip
    return rows


def render_submission_markdown(result: dict[str, Any]) -> str:
    lines = [
        f"# {result.get('id', result.get('submission', 'submission'))}: {result['verdict']}",
        "",
        f"Assignment `{result.get('assignment', '?')}`, score {result.get('score', 0):g}/"
        f"{result.get('max_score', 0):g}, labels: {', '.join(result.get('labels', [])) or 'none'}.",
        "",
        "```",
        str(result.get("message", "")),
        "```",
        "",
    ]
    rows = _record_rows(result)
    if rows:
        lines += [tabulate(rows, headers=_RECORD_HEADERS, tablefmt="github", disable_numparse=True)]
        lines.append("")
    lines += [f"- {note}" for note in result.get("notes", [])]
    return "\n".join(lines) + "\n"


def render_submission_html(result: dict[str, Any]) -> str:
    name = html.escape(str(result.get("id", result.get("submission", "submission"))))
    verdict = html.escape(str(result["verdict"]))
    labels = html.escape(", ".join(result.get("labels", [])) or "none")
    notes = "".join(f"<li>{html.escape(str(n))}</li>" for n in result.get("notes", []))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{name}: {verdict}</title><style>body{{font-family:system-ui,sans-serif;"
        "margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px}"
        "pre{background:#f6f8fa;padding:.6em}</style></head><body>\n"
        f"<h1>{name}: {verdict}</h1><p>Labels: {labels}</p>"
        f"<pre>{html.escape(str(result.get('message', '')))}</pre>"
        f"{table(_RECORD_HEADERS, _record_rows(result))}<ul>{notes}</ul></body></html>\n"
    )


def render_submission_json(results: dict[str, Any] | Sequence[dict[str, Any]]) -> str:
    data = {"schema": SUBMISSION_SCHEMA, "results": results}
    return json.dumps(data, indent=2, default=str, allow_nan=False) + "\n"


def render_submission_junit(results: Sequence[dict[str, Any]]) -> str:
    """One testsuite per submission, one testcase per check (not implemented: skipped)."""
    suites = ET.Element("testsuites", name="gradcheck grading")
    for result in results:
        ident = str(result.get("id", result.get("submission", "submission")))
        suite = ET.SubElement(suites, "testsuite", name=ident)
        checks = result.get("checks", []) or [
            {"check": "submission", "status": result["verdict"], "message": result["message"]}
        ]
        failures = errors = skipped = 0
        for check in checks:
            case = ET.SubElement(suite, "testcase", classname=ident, name=str(check["check"]))
            status = check["status"]
            message = str(check.get("message", "")).splitlines()[0] if check.get("message") else ""
            if status == "fail":
                failures += 1
                element = ET.SubElement(case, "failure", message=message, type="fail")
                element.text = str(check.get("message", ""))
            elif status == "error":
                errors += 1
                element = ET.SubElement(case, "error", message=message, type="error")
                element.text = str(check.get("message", ""))
            elif status == "not_implemented":
                skipped += 1
                ET.SubElement(case, "skipped", message=message)
        suite.set("tests", str(len(checks)))
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
        suite.set("skipped", str(skipped))
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )


SUBMISSION_WRITERS: Writers[dict[str, Any]] = Writers(
    "report",
    "submission",
    {
        "md": render_submission_markdown,
        "json": render_submission_json,
        "html": render_submission_html,
        "junit": lambda result: render_submission_junit([result]),
    },
)
