"""The student-validation commands: ``validate``, ``grade`` and ``assignments``.

Thin: they parse, call ``gradcheck.student``, and print or write what comes back. Exit codes:
0 pass, 1 a submission failed or errored, 2 bad invocation (unknown assignment, missing file).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from gradcheck.cli.args import positive

__all__ = ["add_commands"]


def _seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _limits(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--assignment",
        required=True,
        help="a built-in assignment (see `gradcheck assignments`) or a .toml/.py spec",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=20.0,
        help="wall-clock seconds per submission (default 20)",
    )
    parser.add_argument(
        "--memory", type=positive, default=2048, help="address-space limit in MB (default 2048)"
    )
    parser.add_argument(
        "--examples", type=positive, default=40, help="Hypothesis examples per check (default 40)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the search (default 0)")


def add_commands(commands: Any) -> None:
    _add_validate(commands)
    _add_grade(commands)
    listing = commands.add_parser(
        "assignments", help="list the built-in assignments and their contracts"
    )
    listing.set_defaults(handler=_assignments)


def _add_validate(commands: Any) -> None:
    validate = commands.add_parser(
        "validate",
        help="validate one student submission against an assignment",
        description="Run a submission in an isolated child process, search with Hypothesis for "
        "inputs where its gradients disagree with the references, and explain the likely mistake.",
    )
    validate.add_argument("file", type=Path, help="the submission (.py)")
    _limits(validate)
    validate.add_argument(
        "--show-output",
        action="store_true",
        help="print what the submission printed (truncated) to stderr",
    )
    validate.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (default) or one JSON object on stdout",
    )
    validate.add_argument(
        "--out",
        type=Path,
        default=Path("reports"),
        help="reports root (default reports/): a timestamped folder, and OUT/latest",
    )
    validate.add_argument(
        "--reports",
        default=None,
        help="report files to write: md,json,html,junit (default all; 'none' for none)",
    )
    validate.set_defaults(handler=_validate)


def _add_grade(commands: Any) -> None:
    grade = commands.add_parser(
        "grade",
        help="grade a folder of submissions",
        description="Validate every submission in a folder on all cores; write a summary table, a "
        "CSV, a Gradescope results.json per submission and a Markdown/HTML class report.",
    )
    grade.add_argument(
        "folder", type=Path, help="folder of .py files (or of one folder per student)"
    )
    grade.add_argument("--out", type=Path, required=True, help="output folder")
    _limits(grade)
    grade.add_argument(
        "--jobs",
        type=positive,
        default=os.cpu_count() or 1,
        help="submissions graded at once (default: the number of CPUs)",
    )
    grade.add_argument(
        "--resume", action="store_true", help="skip submissions already in OUT/results.jsonl"
    )
    grade.set_defaults(handler=_grade)


def _options(args: argparse.Namespace) -> tuple[Any, Any]:
    from gradcheck.student.custom import resolve_assignment
    from gradcheck.student.sandbox import Limits

    return resolve_assignment(args.assignment), Limits(timeout=args.timeout, memory_mb=args.memory)


def _validate(args: argparse.Namespace) -> int:
    from gradcheck.errors import GradcheckError
    from gradcheck.report.formats import parse_formats
    from gradcheck.report.submission import SUBMISSION_WRITERS
    from gradcheck.student.validate import validate_submission

    reports = (
        SUBMISSION_WRITERS.formats
        if args.reports is None
        else parse_formats(args.reports, SUBMISSION_WRITERS, allow_none=True)
    )
    assignment, limits = _options(args)
    if not args.file.is_file():
        raise GradcheckError(f"submission {args.file} does not exist or is not a file")

    def log(message: str) -> None:
        print(f"gradcheck: {message}", file=sys.stderr)

    result = validate_submission(
        args.file, assignment, examples=args.examples, seed=args.seed, limits=limits, log=log
    )
    if reports:
        _write_submission_reports(args.out, result.to_dict(), reports)
    if args.format == "json":
        print(json.dumps(result.to_dict(), default=str))
    else:
        print(result.message)
        for note in result.notes:
            print(f"note: {note}")
        if result.output_chars:
            print(
                f"note: the submission printed {result.output_chars} characters "
                "(not part of the verdict; --show-output shows them)"
            )
    if args.show_output and result.output:
        print(result.output, file=sys.stderr)
    return 0 if result.verdict == "pass" else 1


def _write_submission_reports(root: Path, data: dict[str, Any], formats: tuple[str, ...]) -> None:
    from gradcheck.report.folders import publish_run
    from gradcheck.report.submission import SUBMISSION_WRITERS

    published = publish_run(root, SUBMISSION_WRITERS.files(data, formats))
    print(f"gradcheck: reports in {published.folder}", file=sys.stderr)


def _grade(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from gradcheck.io import atomic_write_text
    from gradcheck.report.gradescope import render_gradescope
    from gradcheck.report.grading import HEADERS, class_writers, summary_rows
    from gradcheck.student.grade import Batch, grade_folder

    assignment, limits = _options(args)
    batch = Batch(args.assignment, args.examples, args.seed, limits, out=args.out)

    def show(record: dict[str, Any]) -> None:
        print(f"{record['verdict']:5} {record['id']}", file=sys.stderr)

    records = grade_folder(
        args.folder, args.out, batch, jobs=args.jobs, resume=args.resume, on_result=show
    )
    for record in records:
        atomic_write_text(args.out / str(record["id"]) / "results.json", render_gradescope(record))
    writers = class_writers(assignment.name)
    writers.write(records, args.out, ("csv", "md", "html", "json", "junit"))
    print(
        tabulate(summary_rows(records), headers=HEADERS, tablefmt="github", disable_numparse=True)
    )
    passed = sum(r["verdict"] == "pass" for r in records)
    print(
        f"\n{passed}/{len(records)} passed. Reports in {args.out}/: "
        "report.md, report.html, summary.csv, <id>/results.json"
    )
    return 0 if passed == len(records) else 1


def _assignments(args: argparse.Namespace) -> int:
    from gradcheck.student.assignment import ASSIGNMENTS, get_assignment

    get_assignment("two-layer")  # registers the built-ins
    for name in sorted(ASSIGNMENTS):
        assignment = ASSIGNMENTS[name]
        print(f"{name}: {assignment.title}")
        for line in assignment.contract.splitlines():
            print(f"    {line}")
        print()
    return 0
