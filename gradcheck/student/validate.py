"""Validating one submission against an assignment: the orchestration, nothing more.

static checks (``source``) ──► child process (``sandbox``) ──► per check: Hypothesis search
(``search``) ──► minimal counterexample + a variant ──► diagnosis ──► SubmissionResult
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from gradcheck._version import __version__
from gradcheck.compare import Record
from gradcheck.errors import GradcheckError
from gradcheck.student.contract import Assignment, Check
from gradcheck.student.diagnose import Diagnosis, diagnose
from gradcheck.student.isolation import Isolation
from gradcheck.student.labels import LABEL_MEANINGS, Label, SubmissionVerdict, verdict_for
from gradcheck.student.loader import Submission, Unloadable, load_submission
from gradcheck.student.result import CheckOutcome, CheckStatus, Counterexample, SubmissionResult
from gradcheck.student.sandbox import CallFailed, Limits, Sandbox, SandboxDied
from gradcheck.student.search import search
from gradcheck.student.source import Finding, SourceReport, analyse_submission
from gradcheck.student.trial import Trial, run_trial

__all__ = ["DEFAULT_EXAMPLES", "validate_submission"]

DEFAULT_EXAMPLES = 40
DEFAULT_LIMITS = Limits()
# Random inputs like the counterexample but with one more row, on which a diagnosis must
# hold too: a factor of 2 at batch 2 is then not mistaken for a sum/mean confusion.
VARIANTS = 3


def _describe(trial: Trial) -> str:
    case = trial.case
    spec = getattr(case, "spec", None)
    if spec is not None:
        widths = "-".join(map(str, spec.widths))
        hidden = f", {spec.hidden} hidden" if spec.depth > 1 else ""
        return (
            f"batch {case.X.shape[0]}, widths {widths}{hidden}, {spec.output} output, {spec.loss}"
        )
    return str(getattr(case, "describe", lambda: "")())


def _mismatch_lines(trial: Trial) -> list[str]:
    lines = []
    for r in trial.mismatched:
        index = ", ".join(map(str, r.index))
        lines.append(
            f"{r.tensor}[{index}]: yours {r.value_a:.9g}, expected {r.value_b:.9g} "
            f"(|diff| {r.abs_err:.3g}, allowed {r.allowed:.3g})"
        )
    return lines


def _failed_check(
    check: Check, sandbox: Sandbox, minimal: Trial, examples: int, seed: int
) -> CheckOutcome:
    trials = [minimal]
    try:
        for k in range(VARIANTS):
            trials.append(run_trial(check, sandbox, check.variant(minimal.case, seed + k)))
    except SandboxDied:
        pass
    diagnoses = diagnose(check, trials)
    counterexample = Counterexample(
        check.name, _describe(minimal), check.inputs(minimal.case), check.snippet(minimal.case)
    )
    lines = [f"{check.name}: FAILED on the smallest input found ({counterexample.description})."]
    lines += [f"  {p.message}" for p in minimal.problems]
    lines += [f"  {line}" for line in _mismatch_lines(minimal)]
    if diagnoses:
        lines.append("  Likely mistake(s):")
        lines += [
            f"    {d.label}: {d.detail}"
            for d in diagnoses
            if d.label not in {p.label for p in minimal.problems}
        ]
    own = _consistency(check, sandbox, minimal.case)
    if own:
        agree = all(r.verdict != "fail" for r in own)
        lines.append(
            "  Your backward "
            + ("agrees" if agree else "does not agree")
            + " with finite differences of your own forward"
            + (" (so the forward needs a look too)." if agree else ".")
        )
    return CheckOutcome(
        check.name,
        "fail",
        examples,
        minimal.records,
        diagnoses,
        counterexample,
        check.references(minimal.case) + own,
        "\n".join(lines),
    )


def _consistency(check: Check, sandbox: Sandbox, case: object) -> tuple[Record, ...]:
    try:
        return check.consistency(sandbox, case)
    except SandboxDied:
        return ()


def _run_check(check: Check, sandbox: Sandbox, examples: int, seed: int) -> CheckOutcome:
    found = search(check, sandbox, examples=examples, seed=seed)
    if found.died is not None:
        died = found.died
        counterexample = None
        if found.died_on is not None:
            counterexample = Counterexample(
                check.name,
                "the input the submission was running on",
                check.inputs(found.died_on),
                check.snippet(found.died_on),
            )
        return CheckOutcome(
            check.name,
            "error",
            found.trials,
            (),
            (Diagnosis(died.label, died.message),),
            counterexample,
            message=f"{check.name}: could not be evaluated: {died.message}",
        )
    if found.flaky and found.first_failure is not None:
        return _flaky_check(check, found.first_failure, found.trials)
    if found.minimal is not None and found.minimal.failed:
        return _failed_check(check, sandbox, found.minimal, found.trials, seed)
    passing = found.passing
    references: tuple[Record, ...] = ()
    if passing is not None:
        references = check.references(passing.case) + _consistency(check, sandbox, passing.case)
    return CheckOutcome(
        check.name,
        "pass",
        found.trials,
        passing.records if passing else (),
        (),
        None,
        references,
        f"{check.name}: passed on {found.trials} inputs",
    )


def _flaky_check(check: Check, trial: Trial, trials: int) -> CheckOutcome:
    """A failure that did not repeat when the same input was given again."""
    message = (
        "failed on an input, then passed on the same input when it was given again: the "
        "answer depends on something other than the input (state kept between calls, or "
        "randomness)"
    )
    return CheckOutcome(
        check.name,
        "fail",
        trials,
        trial.records,
        (Diagnosis(Label.NONDETERMINISTIC, message),),
        Counterexample(
            check.name,
            "the input it failed on first",
            check.inputs(trial.case),
            check.snippet(trial.case),
        ),
        message=f"{check.name}: {message}",
    )


def _static_result(
    path: Path,
    assignment: Assignment,
    findings: list[Finding],
    seed: int,
    start: float,
    source: SourceReport | None,
    loaded: Submission | None = None,
) -> SubmissionResult:
    labels = tuple(dict.fromkeys(f.label for f in findings))
    verdict = verdict_for(set(labels), failed=True)
    lines = [f"{'ERROR' if verdict == 'error' else 'FAIL'}: {path.name} was not run."]
    lines += [f"  {f.label}: {f.message}" for f in findings]
    return SubmissionResult(
        str(path),
        assignment.name,
        verdict,
        labels,
        (),
        "\n".join(lines),
        0.0,
        float(len(assignment.checks)),
        seed,
        time.perf_counter() - start,
        (*(loaded.notes if loaded else ()), *_notes(source, None)),
        meta=_meta(loaded),
    )


def _notes(source: SourceReport | None, sandbox: Sandbox | None) -> tuple[str, ...]:
    notes = []
    if source is not None and source.skipped:
        notes.append(
            "top-level statements other than imports, definitions and constants were not "
            f"executed: {', '.join(source.skipped[:12])}"
            + (" …" if len(source.skipped) > 12 else "")
        )
    if sandbox is not None:
        stubbed = sandbox.info.get("stubbed", [])
        if stubbed:
            notes.append(
                f"modules that are not installed here were replaced by stubs: {', '.join(stubbed)}"
            )
        dropped = sandbox.info.get("dropped", [])
        if dropped:
            notes.append(f"assignments that failed at load time were skipped: {', '.join(dropped)}")
        notes.append(sandbox.isolation.describe())
        notes.append(f"network isolation: {sandbox.info.get('network', 'none')}")
    return tuple(notes)


def _meta(loaded: Submission | None = None) -> dict[str, str]:
    """Versions, and the name the graded module was loaded under (``module``)."""
    module = {"module": loaded.module} if loaded is not None else {}
    return {"gradcheck": __version__, "numpy": np.__version__, **module}


def _read_source(
    path: Path, assignment: Assignment
) -> tuple[Submission, SourceReport, dict[str, tuple[int, ...]]]:
    """Load the submission (a .py file, a notebook, a folder) and run the static checks on
    every module of it. Raises Unloadable, or GradcheckError if it cannot be read."""
    try:
        loaded = load_submission(path, assignment.entry_points)
    except OSError as error:
        raise GradcheckError(f"cannot read submission {path}: {error.strerror or error}") from None
    return (loaded, *analyse_submission(loaded, assignment.forbidden))


def _present_checks(source: SourceReport, assignment: Assignment) -> list[Check]:
    """The checks whose functions the submission defines."""
    return [c for c in assignment.checks if not source.missing(c.entry_points)]


def _stopping_findings(source: SourceReport, assignment: Assignment) -> list[Finding] | None:
    """What stops the submission from being run, or None: a static check it fails, or
    functions missing (none defined at all, or any where every check counts)."""
    if not source.ok:
        return list(source.findings)
    missing = [f for c in assignment.checks for f in source.missing(c.entry_points)]
    if not _present_checks(source, assignment) or (missing and not assignment.partial):
        return list(dict.fromkeys(missing))
    return None


def _unrun(check: Check, status: CheckStatus, why: str) -> CheckOutcome:
    return CheckOutcome(check.name, status, 0, message=f"{check.name}: {why}")


def _run_checks(
    assignment: Assignment,
    present: list[Check],
    sandbox: Sandbox,
    examples: int,
    seed: int,
    log: Callable[[str], None] | None,
) -> list[CheckOutcome]:
    """Every check in order; once the submission's process has stopped, the rest are not run."""
    outcomes: list[CheckOutcome] = []
    alive = True
    for check in assignment.checks:
        if check not in present:
            names = ", ".join(check.entry_points)
            outcomes.append(
                _unrun(check, "not_implemented", f"not implemented ({names} not defined)")
            )
        elif not alive:
            outcomes.append(_unrun(check, "error", "not run, the submission's process had stopped"))
        else:
            if log is not None:
                log(f"checking {check.name}")
            outcome = _run_check(check, sandbox, examples, seed)
            alive = outcome.status != "error"
            outcomes.append(outcome)
    return outcomes


def validate_submission(
    path: Path,
    assignment: Assignment,
    *,
    examples: int = DEFAULT_EXAMPLES,
    seed: int = 0,
    limits: Limits = DEFAULT_LIMITS,
    log: Callable[[str], None] | None = None,
    isolation: Isolation | None = None,
) -> SubmissionResult:
    """Validate the submission at ``path``. Raises GradcheckError if the file cannot be read.
    ``isolation`` defaults to the strongest this machine has (``isolation.probe``)."""
    start = time.perf_counter()
    path = Path(path)
    try:
        loaded, source, keeps = _read_source(path, assignment)
    except Unloadable as error:
        finding = Finding(error.label, error.message)
        return _static_result(path, assignment, [finding], seed, start, None)
    stopped = _stopping_findings(source, assignment)
    if stopped is not None:
        return _static_result(path, assignment, stopped, seed, start, source, loaded)
    present = _present_checks(source, assignment)
    with Sandbox(
        loaded, keeps, forbidden=assignment.forbidden, limits=limits, isolation=isolation
    ) as sandbox:
        try:
            sandbox.start()
        except (SandboxDied, CallFailed) as error:
            loading = Finding(error.label, f"while loading: {error.message}")
            return _static_result(path, assignment, [loading], seed, start, source, loaded)
        outcomes = _run_checks(assignment, present, sandbox, examples, seed, log)
        attempts = sandbox.forbidden_attempts
        output = sandbox.captured_output
        notes = (*loaded.notes, *_notes(source, sandbox))
    chars = sandbox.output.total
    result = _result(path, assignment, outcomes, attempts, output, chars, notes, seed, start)
    return replace(result, meta={**result.meta, **_meta(loaded)})


def _labels(outcomes: list[CheckOutcome], attempts: list[str]) -> tuple[Label, ...]:
    """Every label once, in the order the checks gave them; a forbidden import first."""
    labels = [label for o in outcomes for label in o.labels]
    if attempts:
        labels.insert(0, Label.FORBIDDEN_IMPORT)
    return tuple(dict.fromkeys(labels))


def _reproduce_lines(outcomes: list[CheckOutcome]) -> list[str]:
    """How to re-run the first counterexample, if any check has one."""
    counterexample = next(
        (o.counterexample for o in outcomes if o.counterexample is not None), None
    )
    if counterexample is None:
        return []
    return [
        "Reproduce with:\n"
        + "\n".join(f"    {line}" for line in counterexample.snippet.splitlines())
    ]


def _message(
    path: Path,
    assignment: Assignment,
    outcomes: list[CheckOutcome],
    attempts: list[str],
    labels: tuple[Label, ...],
    verdict: SubmissionVerdict,
    score: float,
) -> str:
    head = {"pass": "PASS", "fail": "FAIL", "error": "ERROR"}[verdict]
    lines = [
        f"{head}: {path.name} against assignment {assignment.name} "
        f"({score:g}/{len(outcomes)} checks passed)"
    ]
    if attempts:
        lines.append(f"  forbidden_import: the code tried to import {', '.join(attempts)}")
    lines += [o.message for o in outcomes]
    if labels:
        lines.append(
            "Labels: " + "; ".join(f"{label} ({LABEL_MEANINGS[label]})" for label in labels)
        )
    return "\n".join(lines + _reproduce_lines(outcomes))


def _result(
    path: Path,
    assignment: Assignment,
    outcomes: list[CheckOutcome],
    attempts: list[str],
    output: str,
    output_chars: int,
    notes: tuple[str, ...],
    seed: int,
    start: float,
) -> SubmissionResult:
    unique = _labels(outcomes, attempts)
    failed = any(o.status in ("fail", "error") for o in outcomes)
    verdict = verdict_for(set(unique), failed)
    score = float(sum(o.status == "pass" for o in outcomes))
    return SubmissionResult(
        str(path),
        assignment.name,
        verdict,
        unique,
        tuple(outcomes),
        _message(path, assignment, outcomes, attempts, unique, verdict, score),
        score,
        float(len(outcomes)),
        seed,
        time.perf_counter() - start,
        notes,
        output,
        meta=_meta(),
        output_chars=output_chars,
    )
