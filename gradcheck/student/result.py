"""What validating a submission returns: plain frozen data, which writers only format."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from gradcheck.compare import Record
from gradcheck.student.contract import Feedback, Visibility
from gradcheck.student.diagnose import Diagnosis
from gradcheck.student.labels import Label, SubmissionVerdict

__all__ = ["CheckOutcome", "CheckStatus", "Counterexample", "SubmissionResult", "record_dict"]

# ``not_run``: the submission's process had stopped (a timeout, say) before this check.
CheckStatus = Literal["pass", "fail", "error", "not_implemented", "not_run"]


@dataclass(frozen=True)
class Counterexample:
    """The smallest failing input: a description, the inputs and Python that re-runs it."""

    check: str
    description: str
    inputs: dict[str, Any]
    snippet: str


@dataclass(frozen=True)
class CheckOutcome:
    """One check of one submission. ``records`` compare what came back with the reference
    (at the counterexample when there is one); ``references`` compare the reference with
    finite differences and torch on the same input.

    ``message`` is the whole story, for the instructor; ``student_message`` is what the
    check's ``feedback`` level lets a student see (see ``student.feedback``). ``points`` is
    what it earned of ``max_points``."""

    check: str
    status: CheckStatus
    examples: int
    records: tuple[Record, ...] = ()
    diagnoses: tuple[Diagnosis, ...] = ()
    counterexample: Counterexample | None = None
    references: tuple[Record, ...] = ()
    message: str = ""
    points: float = 0.0
    max_points: float = 1.0
    feedback: Feedback = "full"
    visibility: Visibility = "visible"
    student_message: str = ""

    @property
    def labels(self) -> tuple[Label, ...]:
        return tuple(dict.fromkeys(d.label for d in self.diagnoses))


@dataclass(frozen=True)
class SubmissionResult:
    """One validated submission. ``score`` is the points of the checks it passed, out of
    ``max_score``; ``message`` is the text for the student (each check at its feedback
    level); ``labels`` are every label, ``student_labels`` those a student may see;
    ``not_graded`` are the functions it defines that the assignment does not check."""

    path: str
    assignment: str
    verdict: SubmissionVerdict
    labels: tuple[Label, ...]
    checks: tuple[CheckOutcome, ...]
    message: str
    score: float
    max_score: float
    seed: int
    seconds: float
    notes: tuple[str, ...] = ()
    # What the submission printed, truncated; never part of the JSON verdict, so that nothing
    # a submission prints can pose as (or break) the grader's structure.
    output: str = ""
    output_chars: int = 0
    meta: dict[str, Any] = field(default_factory=dict)
    not_graded: tuple[str, ...] = ()

    @property
    def counterexample(self) -> Counterexample | None:
        return next((c.counterexample for c in self.checks if c.counterexample is not None), None)

    @property
    def student_labels(self) -> tuple[Label, ...]:
        """The labels of the checks whose feedback is not hidden, and those of no check (a
        forbidden import, a file that does not parse)."""
        hidden = {label for c in self.checks if c.feedback == "hidden" for label in c.labels}
        shown = {label for c in self.checks if c.feedback != "hidden" for label in c.labels}
        return tuple(label for label in self.labels if label in shown or label not in hidden)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``gradcheck validate --format json``)."""
        counterexample = self.counterexample
        return {
            "verdict": self.verdict,
            "labels": [str(label) for label in self.labels],
            "message": self.message,
            "counterexample": _counterexample_dict(counterexample),
            "checks": [
                {
                    "check": c.check,
                    "status": c.status,
                    "points": c.points,
                    "max_points": c.max_points,
                    "feedback": c.feedback,
                    "visibility": c.visibility,
                    "student_message": c.student_message,
                    "counterexample": _counterexample_dict(c.counterexample),
                    "examples": c.examples,
                    "labels": [str(label) for label in c.labels],
                    "diagnoses": [{"label": str(d.label), "detail": d.detail} for d in c.diagnoses],
                    "message": c.message,
                    "records": [record_dict(r) for r in c.records],
                    "references": [record_dict(r) for r in c.references],
                }
                for c in self.checks
            ],
            "student_labels": [str(label) for label in self.student_labels],
            "not_graded": list(self.not_graded),
            "score": self.score,
            "max_score": self.max_score,
            "submission": self.path,
            "assignment": self.assignment,
            "seed": self.seed,
            "seconds": round(self.seconds, 3),
            "notes": list(self.notes),
            "output_chars": self.output_chars,
            "meta": self.meta,
        }


def _counterexample_dict(counterexample: Counterexample | None) -> dict[str, Any] | None:
    if counterexample is None:
        return None
    return {
        "check": counterexample.check,
        "description": counterexample.description,
        "inputs": counterexample.inputs,
        "reproduce": counterexample.snippet,
    }


def _number(x: float) -> float | str:
    return x if x == x and abs(x) != float("inf") else repr(x)


def record_dict(record: Record) -> dict[str, Any]:
    return {
        "tensor": record.tensor,
        "engines": [record.engine_a, record.engine_b],
        "verdict": record.verdict,
        "shape": list(record.shape),
        "index": list(record.index),
        "value": _number(record.value_a),
        "expected": _number(record.value_b),
        "abs_err": _number(record.abs_err),
        "rel_err": _number(record.rel_err),
        "allowed": _number(record.allowed),
        "ratio": _number(record.ratio),
        "kink_entries": record.kink_entries,
    }
