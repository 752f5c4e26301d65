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
from gradcheck.student.diagnose import Diagnosis, diagnose, evidence
from gradcheck.student.feedback import student_text
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


def _mismatch_lines(trials: list[Trial]) -> list[str]:
    """One line per wrong tensor, from the first trial where it is wrong (a tensor right
    on the smallest input but wrong on a variant is a second bug, and is listed too), and
    one per failed comparison without a reference (with finite differences of the
    submission's own forward), at its worst entry."""
    first = trials[0]
    unreferenced = [
        f"{r.entry}: yours {r.value_a:.9g}, {r.engine_b} {r.value_b:.9g} "
        f"(|diff| {r.abs_err:.3g}, allowed {r.allowed:.3g})"
        for r in first.mismatched
        if r.tensor not in first.expected.tensors
    ]
    return [e.describe() for e in evidence(trials)] + unreferenced


def _mutation_lines(minimal: Trial) -> list[str]:
    """What to say when the code changed its inputs: that change is the likely cause."""
    return [
        f"  Likely cause: {p.message} in place (an in-place operator such as -= or /=, "
        "out=, or an assignment into its entries). Work on a copy (x = x - x.mean(), "
        "dout = dout.copy()); any wrong values below follow from it."
        for p in minimal.problems
        if p.label == Label.MUTATES_INPUT
    ]


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
        check.name,
        _describe(minimal),
        check.inputs(minimal.case),
        check.snippet(minimal.case, source=sandbox.submission.reproduce_as),
    )
    lines = [f"{check.name}: FAILED on the smallest input found ({counterexample.description})."]
    lines += _mutation_lines(minimal)
    lines += [f"  {p.message}" for p in minimal.problems if p.label != Label.MUTATES_INPUT]
    clean = [minimal, *(t for t in trials[1:] if not t.problems)]
    lines += [f"  {line}" for line in _mismatch_lines(clean)]
    shown = {p.message for p in minimal.problems}
    likely = [d for d in diagnoses if d.detail not in shown]
    if likely:
        lines.append("  Likely mistake(s):")
        lines += [f"    {d.label}: {d.detail}" for d in likely]
    own = _consistency(check, sandbox, minimal.case)
    if own and not any(p.label == Label.MUTATES_INPUT for p in minimal.problems):
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
                check.snippet(found.died_on, source=sandbox.submission.reproduce_as),
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
        return _flaky_check(
            check, found.first_failure, found.trials, sandbox.submission.reproduce_as
        )
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


def _flaky_check(check: Check, trial: Trial, trials: int, source: str) -> CheckOutcome:
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
            check.snippet(trial.case, source=source),
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
    """A submission that was not run: no points, so ``fail``, or ``error`` where it could not
    be evaluated at all (it does not parse, its process died while loading)."""
    labels = tuple(dict.fromkeys(f.label for f in findings))
    max_score = assignment.max_score
    verdict = verdict_for(set(labels), 0.0, max_score)
    not_graded = _not_graded(source, assignment)
    head = f"{_headline(verdict, 0.0, max_score)}: {path.name} against assignment {assignment.name}"
    lines = [f"{head}: it was not run."]
    lines += [f"  {f.label}: {f.message}" for f in findings]
    lines += _not_graded_lines(not_graded)
    return SubmissionResult(
        str(path),
        assignment.name,
        verdict,
        labels,
        (),
        "\n".join(lines),
        0.0,
        max_score,
        seed,
        time.perf_counter() - start,
        (*(loaded.notes if loaded else ()), *_notes(source, None)),
        meta=_meta(loaded),
        not_graded=not_graded,
    )


def _headline(verdict: SubmissionVerdict, score: float, max_score: float) -> str:
    """``PASS 12/12``, ``PARTIAL 9/12``, ``FAIL 0/12``, ``ERROR``."""
    if verdict == "error":
        return "ERROR"
    return f"{verdict.upper()} {score:g}/{max_score:g}"


def _not_graded(source: SourceReport | None, assignment: Assignment) -> tuple[str, ...]:
    """The public functions and classes the file defines that no check calls."""
    if source is None:
        return ()
    graded = set(assignment.entry_points)
    return tuple(sorted(n for n in source.functions if n not in graded and not n.startswith("_")))


def _not_graded_lines(not_graded: tuple[str, ...]) -> list[str]:
    if not not_graded:
        return []
    return [f"Not graded (this assignment does not check them): {', '.join(not_graded)}"]


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


def graded_checks(source: SourceReport, assignment: Assignment) -> list[Check]:
    """The checks that count for this submission: an optional one only when it is defined,
    one of a ``group`` (a course file) only when some function of the group is defined.
    With nothing defined at all, every check that is not optional counts."""
    present = _present_checks(source, assignment)
    groups = {c.group for c in present if c.group is not None}
    graded = [
        c
        for c in assignment.checks
        if (c in present or not c.optional) and (c.group is None or c.group in groups)
    ]
    return graded or [c for c in assignment.checks if not c.optional]


def _stopping_findings(source: SourceReport, assignment: Assignment) -> list[Finding] | None:
    """What stops the submission from being run, or None: a static check it fails, or
    functions missing (none defined at all, or any where every check counts)."""
    if not source.ok:
        return list(source.findings)
    graded = graded_checks(source, assignment)
    missing = [f for c in graded for f in source.missing(c.entry_points)]
    if not _present_checks(source, assignment) or (missing and not assignment.partial):
        return list(dict.fromkeys(missing))
    return None


def _unrun(check: Check, status: CheckStatus, why: str) -> CheckOutcome:
    return CheckOutcome(check.name, status, 0, message=f"{check.name}: {why}")


def _run_checks(
    graded: list[Check],
    present: list[Check],
    sandbox: Sandbox,
    examples: int,
    seed: int,
    log: Callable[[str], None] | None,
) -> list[CheckOutcome]:
    """Every check in order; once the submission's process has stopped, the rest are not run."""
    outcomes: list[CheckOutcome] = []
    alive = True
    for check in graded:
        if check not in present:
            names = ", ".join(check.entry_points)
            outcomes.append(
                _unrun(check, "not_implemented", f"not implemented ({names} not defined)")
            )
        elif not alive:
            outcomes.append(
                _unrun(check, "not_run", "not run, the submission's process had stopped")
            )
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
    full = assignment
    if source.ok:  # the assignment as this submission is graded on: its groups and options
        assignment = replace(assignment, checks=tuple(graded_checks(source, assignment)))
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
        outcomes = _run_checks(list(assignment.checks), present, sandbox, examples, seed, log)
        attempts = sandbox.forbidden_attempts
        output = sandbox.captured_output
        notes = (*loaded.notes, *_notes(source, sandbox))
    chars = sandbox.output.total
    result = _result(
        path,
        assignment,
        outcomes,
        attempts,
        (output, chars),
        notes,
        seed,
        start,
        _not_graded(source, full),
    )
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
    not_graded: tuple[str, ...],
) -> str:
    """The student's text: the headline, each check at its feedback level, what was not
    graded, the labels a student may see, and how to reproduce a check with full feedback."""
    score = sum(o.points for o in outcomes)
    max_score = sum(o.max_points for o in outcomes)
    lines = [
        f"{_headline(verdict, score, max_score)}: {path.name} against assignment {assignment.name}"
    ]
    if attempts:
        lines.append(f"  forbidden_import: the code tried to import {', '.join(attempts)}")
    lines += [o.student_message for o in outcomes]
    lines += _not_graded_lines(not_graded)
    if labels:
        lines.append(
            "Labels: " + "; ".join(f"{label} ({LABEL_MEANINGS[label]})" for label in labels)
        )
    full = [o for o in outcomes if o.feedback == "full"]
    return "\n".join(lines + _reproduce_lines(full))


def _scored(check: Check, outcome: CheckOutcome, void: bool) -> CheckOutcome:
    """``outcome`` with the check's points, feedback and visibility, and the student's text."""
    scored = replace(
        outcome,
        points=check.points if outcome.status == "pass" and not void else 0.0,
        max_points=check.points,
        feedback=check.feedback,
        visibility=check.visibility,
    )
    return replace(scored, student_message=student_text(scored))


def _result(
    path: Path,
    assignment: Assignment,
    outcomes: list[CheckOutcome],
    attempts: list[str],
    output: tuple[str, int],
    notes: tuple[str, ...],
    seed: int,
    start: float,
    not_graded: tuple[str, ...] = (),
) -> SubmissionResult:
    """Score the outcomes: the points of the checks that passed. A forbidden import voids
    them all (the contract was broken, however the checks came out), so it is a ``fail``."""
    scored = [
        _scored(check, outcome, bool(attempts))
        for check, outcome in zip(assignment.checks, outcomes, strict=True)
    ]
    unique = _labels(scored, attempts)
    score = float(sum(o.points for o in scored))
    verdict = verdict_for(set(unique), score, assignment.max_score)
    result = SubmissionResult(
        str(path),
        assignment.name,
        verdict,
        unique,
        tuple(scored),
        "",
        score,
        assignment.max_score,
        seed,
        time.perf_counter() - start,
        notes,
        output[0],
        meta=_meta(),
        output_chars=output[1],
        not_graded=not_graded,
    )
    message = _message(
        path, assignment, scored, attempts, result.student_labels, verdict, not_graded
    )
    return replace(result, message=message)
