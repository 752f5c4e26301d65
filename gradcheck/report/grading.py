"""The class report of a graded batch: a summary table, a CSV, a gradebook CSV, Markdown
and HTML; and the per-submission files (Gradescope, PrairieLearn) beside it.

Writers only format the records ``student.grade`` produced (SubmissionResult JSON forms
with an ``id``); they compute nothing but counts. A record's strings may come from a
submission, so each writer escapes them for its format through ``report.escape``.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tabulate import tabulate

from gradcheck.errors import UnknownNameError
from gradcheck.io import atomic_write_text
from gradcheck.report.escape import csv_cell, excerpt, markdown_cell, one_line
from gradcheck.report.escape import html_text as esc
from gradcheck.report.formats import Writers
from gradcheck.report.student_view import result_checks
from gradcheck.report.submission import (
    STUDENT_FILES,
    render_submission_json,
    render_submission_junit,
)

__all__ = [
    "GRADE_FORMATS",
    "VERDICT_ORDER",
    "check_grade_formats",
    "class_writers",
    "render_class_html",
    "render_class_markdown",
    "render_csv",
    "render_gradebook",
    "summary_rows",
    "write_grading",
]

HEADERS = ["submission", "verdict", "score", "labels", "first problem"]
VERDICT_ORDER = ("pass", "partial", "fail", "error")
_PROBLEM_CHARS = 120


def _first_problem(record: dict[str, Any]) -> str:
    for check in result_checks(record):
        if check.get("status") not in ("fail", "error"):
            continue
        diagnoses = check.get("diagnoses")
        if isinstance(diagnoses, list) and diagnoses and isinstance(diagnoses[0], dict):
            return excerpt(diagnoses[0].get("detail", ""), _PROBLEM_CHARS)
        return excerpt(str(check.get("message", "")).strip().split("\n")[0], _PROBLEM_CHARS)
    if record.get("verdict") not in ("pass", "partial"):
        lines = str(record.get("message", "")).strip().splitlines()
        return excerpt(lines[1] if len(lines) > 1 else lines[0] if lines else "", _PROBLEM_CHARS)
    return ""


def _labels(record: dict[str, Any]) -> list[str]:
    labels = record.get("labels")
    return [str(label) for label in labels] if isinstance(labels, list) else []


def summary_rows(records: Sequence[dict[str, Any]]) -> list[list[str]]:
    """One row per record, every cell on one line and free of control characters (so that it
    can be printed on a terminal); the Markdown, HTML and CSV writers escape them further."""
    return [
        [
            one_line(r["id"]),
            one_line(r["verdict"]),
            f"{r.get('score', 0):g}/{r.get('max_score', 0):g}",
            one_line(", ".join(_labels(r))),
            _first_problem(r),
        ]
        for r in records
    ]


def _counts(records: Sequence[dict[str, Any]]) -> tuple[Counter[str], Counter[str]]:
    verdicts = Counter(str(r["verdict"]) for r in records)
    labels = Counter(label for r in records for label in _labels(r))
    return verdicts, labels


def render_csv(records: Sequence[dict[str, Any]]) -> str:
    """A gradebook table; a text cell that a spreadsheet would run as a formula is quoted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["submission", "verdict", "score", "max_score", "labels", "first_problem", "seconds"]
    )
    for r, row in zip(records, summary_rows(records), strict=True):
        cells = [r["id"], r["verdict"], r.get("score", 0), r.get("max_score", 0), row[3], row[4]]
        writer.writerow([csv_cell(cell) for cell in [*cells, r.get("seconds", "")]])
    return buffer.getvalue()


def _percent(score: object, max_score: object) -> str:
    def number(x: object) -> float:
        return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else 0.0

    return f"{100.0 * number(score) / number(max_score):.2f}" if number(max_score) else "0.00"


def render_gradebook(records: Sequence[dict[str, Any]]) -> str:
    """One row per student id for an LMS gradebook import: the score, the points possible,
    the percentage (two decimals), the verdict and the labels. Cells a spreadsheet would run
    as a formula are quoted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "score", "max_score", "percent", "verdict", "labels"])
    for r in records:
        score, max_score = r.get("score", 0), r.get("max_score", 0)
        cells = [r["id"], score, max_score, _percent(score, max_score), r["verdict"]]
        writer.writerow([csv_cell(cell) for cell in [*cells, one_line(" ".join(_labels(r)))]])
    return buffer.getvalue()


def render_class_markdown(records: Sequence[dict[str, Any]], assignment: str) -> str:
    verdicts, labels = _counts(records)
    rows = [[markdown_cell(cell) for cell in row] for row in summary_rows(records)]
    lines = [
        f"# Grading report: {markdown_cell(assignment)}",
        "",
        f"{len(records)} submissions: " + ", ".join(f"{verdicts[v]} {v}" for v in VERDICT_ORDER),
        "",
        tabulate(rows, headers=HEADERS, tablefmt="github", disable_numparse=True),
        "",
    ]
    if labels:
        lines += ["## Mistakes across the class", ""]
        counted = [[markdown_cell(label), str(n)] for label, n in labels.most_common()]
        lines.append(
            tabulate(
                counted,
                headers=["label", "submissions"],
                tablefmt="github",
                disable_numparse=True,
            )
        )
        lines.append("")
    return "\n".join(lines)


def render_class_html(records: Sequence[dict[str, Any]], assignment: str) -> str:
    verdicts, labels = _counts(records)
    rows = "".join(
        f"<tr class='{esc(row[1])}'>" + "".join(f"<td>{esc(cell)}</td>" for cell in row) + "</tr>"
        for row in summary_rows(records)
    )
    label_rows = "".join(f"<tr><td>{esc(k)}</td><td>{v}</td></tr>" for k, v in labels.most_common())
    head = "".join(f"<th>{esc(h)}</th>" for h in HEADERS)
    totals = ", ".join(f"{verdicts[v]} {v}" for v in VERDICT_ORDER)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Grading report: {esc(assignment)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; margin-bottom: 2em; }}
td, th {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; }}
tr.pass td:nth-child(2) {{ color: #176f2c; }} tr.fail td:nth-child(2) {{ color: #b00020; }}
tr.error td:nth-child(2) {{ color: #8a5a00; }} tr.partial td:nth-child(2) {{ color: #6a3fb5; }}
</style></head><body>
<h1>Grading report: {esc(assignment)}</h1>
<p>{len(records)} submissions: {esc(totals)}</p>
<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>
<h2>Mistakes across the class</h2>
<table><thead><tr><th>label</th><th>submissions</th></tr></thead><tbody>{label_rows}</tbody></table>
</body></html>
"""


Records = Sequence[dict[str, Any]]


def class_writers(assignment: str) -> Writers[Records]:
    """The files ``grade`` writes for a class: report.md, .html, .json, .junit.xml, and
    summary.csv for a gradebook."""
    return Writers(
        "class report",
        "report",
        {
            "md": lambda records: render_class_markdown(records, assignment),
            "html": lambda records: render_class_html(records, assignment),
            "json": render_submission_json,
            "junit": render_submission_junit,
            "csv": render_csv,
            "gradebook": render_gradebook,
        },
        filenames={"csv": "summary.csv", "gradebook": "gradebook.csv"},
    )


# What ``grade`` writes unless told otherwise: every class file, and each student's
# Gradescope results.json (PrairieLearn's file only on request).
GRADE_FORMATS = ("csv", "gradebook", "md", "html", "json", "junit", "gradescope")


def check_grade_formats(formats: Sequence[str]) -> None:
    """Raise UnknownNameError naming the first format that ``grade`` does not write."""
    known = (*class_writers("").formats, *STUDENT_FILES.formats)
    for fmt in formats:
        if fmt not in known:
            raise UnknownNameError(f"unknown grading format {fmt!r} (known: {', '.join(known)})")


def write_grading(
    records: Records, out: Path, formats: Sequence[str], assignment: str
) -> list[Path]:
    """Write the class files into ``out`` and the per-submission ones into ``out/<id>/``,
    each atomically, for the ``formats`` chosen (see ``check_grade_formats``)."""
    check_grade_formats(formats)
    writers = class_writers(assignment)
    written = writers.write(records, out, [f for f in formats if f in writers.render])
    student = [f for f in formats if f in STUDENT_FILES.render]
    for record in records:
        for name, text in STUDENT_FILES.files(record, student).items():
            written.append(atomic_write_text(out / str(record["id"]) / name, text))
    return written
