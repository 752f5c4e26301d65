"""The student-validation commands: ``validate``, ``grade`` and ``assignments``.

Thin: they parse, call ``gradcheck.student``, and print or write what comes back. Exit codes:
0 pass (full marks); 1 a submission that is not a pass: ``partial`` (some points, not all)
exits like ``fail`` and ``error``, so that a CI job or a pre-submit hook never reads a partial
score as success; 2 bad invocation (unknown assignment, missing file, unknown format).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from gradcheck.cli.args import (
    JOBS_MAX,
    MEMORY_MB_MIN,
    TIMEOUT_MIN,
    add_executor_arguments,
    check_output_folder,
    count,
    executor_options,
    megabytes,
    names,
    nonempty,
    output_folder,
    path,
    positive,
    seconds,
    seed,
)
from gradcheck.errors import GradcheckError
from gradcheck.student.labels import VERDICTS

__all__ = ["add_commands"]

_STDOUT_FORMATS = ("text", "json", "gradescope", "prairielearn")
_DEFAULT_REPORTS = ("md", "json", "html", "junit")

# The TOML keys' types, checked here because the spec reader lets a string through where a
# depth goes (``max_depth = "deep"`` failed deep inside with a TypeError).
_SPEC_TYPES: dict[str, type] = {
    "name": str,
    "title": str,
    "convention": str,
    "entry_point": str,
    "min_depth": int,
    "max_depth": int,
    "activations": list,
    "losses": list,
    "forbidden": list,
}


def _limits(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--assignment",
        required=True,
        type=nonempty,
        help="a built-in assignment (see `gradcheck assignments`) or a .toml/.py spec",
    )
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=20.0,
        help=f"wall-clock seconds per submission (default 20, at least {TIMEOUT_MIN:g})",
    )
    parser.add_argument(
        "--memory",
        type=megabytes,
        default=2048,
        help=f"address-space limit in MB (default 2048, at least {MEMORY_MB_MIN})",
    )
    parser.add_argument(
        "--examples", type=positive, default=40, help="Hypothesis examples per check (default 40)"
    )
    parser.add_argument("--seed", type=seed, default=0, help="seed of the search (default 0)")
    parser.add_argument(
        "--require-isolation",
        action="store_true",
        help="refuse to grade (exit 2) unless bubblewrap's strong isolation works here",
    )


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
    validate.add_argument(
        "file", type=path, help="the submission (.py, .ipynb, or a folder of them)"
    )
    _limits(validate)
    validate.add_argument(
        "--show-output",
        action="store_true",
        help="print what the submission printed (truncated) to stderr",
    )
    validate.add_argument(
        "--format",
        choices=_STDOUT_FORMATS,
        default="text",
        help="what goes to stdout: text (default), one JSON object, Gradescope's results.json "
        "or PrairieLearn's results.json",
    )
    validate.add_argument(
        "--out",
        type=output_folder,
        default=Path("reports"),
        help="reports root (default reports/): a timestamped folder, and OUT/latest",
    )
    validate.add_argument(
        "--reports",
        type=names,
        default=None,
        help="report files to write: md,json,html,junit,gradescope,prairielearn (default "
        "md,json,html,junit; 'none' for none)",
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
        "folder", type=path, help="folder of .py files (or of one folder per student)"
    )
    grade.add_argument("--out", type=output_folder, required=True, help="output folder")
    _limits(grade)
    grade.add_argument(
        "--jobs",
        type=count(1, JOBS_MAX),
        default=os.cpu_count() or 1,
        help="submissions graded at once (default: the number of CPUs)",
    )
    grade.add_argument(
        "--resume", action="store_true", help="skip submissions already in OUT/results.jsonl"
    )
    add_executor_arguments(grade)
    grade.add_argument("--no-progress", action="store_true", help="never show the progress bar")
    grade.add_argument(
        "--format",
        type=names,
        default=None,
        help="files to write: csv (summary.csv), gradebook (gradebook.csv), md, html, json, "
        "junit, and per submission gradescope (<id>/results.json), prairielearn "
        "(<id>/prairielearn.json); default all but prairielearn",
    )
    grade.set_defaults(handler=_grade)


def _options(args: argparse.Namespace) -> tuple[Any, Any]:
    from gradcheck.student.sandbox import Limits

    return _assignment(args.assignment), Limits(timeout=args.timeout, memory_mb=args.memory)


def _assignment(text: str) -> Any:
    from gradcheck.student.custom import resolve_assignment

    spec = Path(text)
    if spec.is_dir():
        raise GradcheckError(f"--assignment {text} is a folder, not a .toml or .py spec")
    if spec.suffix == ".toml" and spec.is_file():
        _check_spec_types(spec)
    try:
        return resolve_assignment(text)
    except GradcheckError:
        raise
    except (TypeError, ValueError) as error:  # a value of a wrong type in a .py spec
        raise GradcheckError(f"assignment spec {text}: {error}") from None


def _check_spec_types(spec: Path) -> None:
    import tomllib

    try:
        data = tomllib.loads(spec.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return  # resolve_assignment says what is wrong with the file itself
    for key, value in data.items():
        kind = _SPEC_TYPES.get(key)
        if kind is None:
            continue  # an unknown key: resolve_assignment names it
        strings = isinstance(value, list) and all(isinstance(item, str) for item in value)
        if isinstance(value, bool) or not (strings if kind is list else isinstance(value, kind)):
            what = {str: "a string", int: "an integer", list: "a list of strings"}[kind]
            raise GradcheckError(f"assignment spec {spec}: {key} must be {what}, got {value!r}")


def _isolation(args: argparse.Namespace) -> None:
    """Refuse weak isolation under --require-isolation; otherwise warn about it, once, before
    any grading starts."""
    from gradcheck.student.isolation import probe

    isolation = probe()
    if isolation.strong:
        return
    if args.require_isolation:
        raise GradcheckError(f"--require-isolation: isolation is weak here: {isolation.reason}")
    print(f"gradcheck: warning: isolation is weak: {isolation.reason}", file=sys.stderr)


def _report_formats(chosen: tuple[str, ...] | None) -> tuple[str, ...]:
    from gradcheck.report.submission import SUBMISSION_WRITERS

    if chosen is None:
        return _DEFAULT_REPORTS
    if chosen == ("none",):
        return ()
    try:
        SUBMISSION_WRITERS.check(chosen)
    except GradcheckError as error:
        raise GradcheckError(f"--reports {','.join(chosen)}: {error}") from None
    return chosen


def _validate(args: argparse.Namespace) -> int:
    from gradcheck.student.validate import validate_submission

    reports = _report_formats(args.reports)
    assignment, limits = _options(args)
    if not (args.file.is_file() or args.file.is_dir()):
        raise GradcheckError(f"submission {args.file} does not exist or is not a file or folder")
    if args.file.is_dir() and not any(
        p.suffix in (".py", ".ipynb") for p in args.file.rglob("*") if p.is_file()
    ):
        raise GradcheckError(
            f"submission folder {args.file} holds no .py file or .ipynb notebook to grade"
        )
    if reports:  # before grading, so that a bad --out cannot cost the verdict
        check_output_folder(args.out, runs=True)
    _isolation(args)

    def log(message: str) -> None:
        print(f"gradcheck: {message}", file=sys.stderr)

    result = validate_submission(
        args.file, assignment, examples=args.examples, seed=args.seed, limits=limits, log=log
    )
    if reports:
        _write_submission_reports(args.out, result.to_dict(), reports)
    _print_result(args, result)
    return 0 if result.verdict == "pass" else 1


def _print_result(args: argparse.Namespace, result: Any) -> None:
    from gradcheck.report.submission import SUBMISSION_WRITERS

    if args.format == "json":
        print(json.dumps(result.to_dict(), default=str))
    elif args.format != "text":
        print(SUBMISSION_WRITERS.render[args.format](result.to_dict()), end="")
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


def _write_submission_reports(root: Path, data: dict[str, Any], formats: tuple[str, ...]) -> None:
    from gradcheck.report.folders import publish_run
    from gradcheck.report.submission import SUBMISSION_WRITERS

    published = publish_run(root, SUBMISSION_WRITERS.files(data, formats))
    print(f"gradcheck: reports in {published.folder}", file=sys.stderr)


def _grade(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from gradcheck.report.grading import (
        GRADE_FORMATS,
        HEADERS,
        check_grade_formats,
        summary_rows,
        write_grading,
    )
    from gradcheck.student.grade import find_submissions

    formats = GRADE_FORMATS if args.format is None else args.format
    try:
        check_grade_formats(formats)
    except GradcheckError as error:
        raise GradcheckError(f"--format {','.join(formats)}: {error}") from None
    assignment, limits = _options(args)
    if not find_submissions(args.folder):
        raise GradcheckError(f"no submissions in {args.folder} (no file, no sub-folder)")
    out, folder = args.out.resolve(), args.folder.resolve()
    if out == folder or folder in out.parents:
        raise GradcheckError(
            f"--out {args.out} is inside the submissions folder {args.folder}: its reports "
            "would be graded as submissions next time"
        )
    records = _grade_batch(args, limits)
    written = write_grading(records, args.out, formats, assignment.name)
    print(
        tabulate(summary_rows(records), headers=HEADERS, tablefmt="github", disable_numparse=True)
    )
    counts = {v: sum(r["verdict"] == v for r in records) for v in VERDICTS}
    names = sorted({path.name for path in written if path.parent == args.out})
    per_student = sorted({path.name for path in written if path.parent != args.out})
    print(
        f"\n{counts['pass']}/{len(records)} passed ("
        + ", ".join(f"{n} {v}" for v, n in counts.items())
        + f"). Reports in {args.out}/: "
        + ", ".join([*names, *(f"<id>/{name}" for name in per_student)])
    )
    return 0 if counts["pass"] == len(records) else 1


def _grade_batch(args: argparse.Namespace, limits: Any) -> list[dict[str, Any]]:
    """Grade the folder on the chosen executor, each result on stderr as it comes, under a
    progress bar of the tasks done, running and failed."""
    from gradcheck.cli.progress import Progress
    from gradcheck.student.grade import Batch, grade_folder

    executor, scheduler = executor_options(args)
    if executor == "local":
        _isolation(args)  # on Dask, each worker's record says what isolation it had
    batch = Batch(
        args.assignment, args.examples, args.seed, limits, require_isolation=args.require_isolation
    )
    progress = Progress(
        0, label="gradcheck grade", enabled=False if args.no_progress else None, of_tasks=True
    )
    try:
        return grade_folder(
            args.folder,
            args.out,
            batch,
            jobs=args.jobs,
            resume=args.resume,
            on_result=lambda record: progress.say(f"{record['verdict']:7} {record['id']}"),
            log=lambda message: progress.say(f"gradcheck: note: {message}"),
            executor=executor,
            scheduler=scheduler,
            on_tasks=progress.on_tasks,
        )
    finally:
        progress.close()


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
