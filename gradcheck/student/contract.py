"""What an assignment is: a contract and the checks that test it.

A :class:`Check` tests one function (or one forward/backward pair) of a submission. It
draws inputs with Hypothesis, calls the submission through the sandbox, reads what came
back under the submission's own names, and computes the reference under the same names,
shapes and orientation, so that every record speaks the student's language (``w1``,
``dW[0]``, ``dx``). The reference comes from gradcheck's core; ``references`` cross-checks
it against finite differences and torch on the cases that are reported.

Each check is worth ``points`` (1 by default) and says how much a student may see of it
(``feedback``) and when Gradescope shows it (``visibility``); ``graded`` sets them on a copy::

    graded(AffineCheck(), points=4, feedback="hidden", visibility="after_due_date")

These are the base types only: the registry of assignments is ``registry``, the built-in
ones are ``builtin``, and the lookup by name is ``assignment``.
"""

from __future__ import annotations

import copy
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

import numpy as np
from hypothesis import strategies as st

from gradcheck.compare import Record
from gradcheck.errors import SpecError
from gradcheck.student.labels import Label
from gradcheck.student.sandbox import Sandbox
from gradcheck.student.source import DEFAULT_FORBIDDEN

__all__ = [
    "FEEDBACK_LEVELS",
    "VISIBILITIES",
    "Assignment",
    "Check",
    "ContractError",
    "Expected",
    "Feedback",
    "Mutant",
    "Visibility",
    "graded",
]

Array = np.ndarray

# How much of a check a student sees. ``full``: the values, the counterexample and how to
# reproduce it; ``diagnosis``: whether it passed and the diagnosis, no value of the reference
# or of the input; ``hidden``: only whether it passed and its points. The instructor's record
# (``OUT/<id>/instructor.json``) always keeps everything.
Feedback = Literal["full", "diagnosis", "hidden"]
FEEDBACK_LEVELS: tuple[Feedback, ...] = get_args(Feedback)
# When Gradescope shows a check's test to the student (its ``visibility`` field).
Visibility = Literal["visible", "hidden", "after_due_date", "after_published"]
VISIBILITIES: tuple[Visibility, ...] = get_args(Visibility)


class ContractError(Exception):
    """The submission returned something the contract does not allow."""

    def __init__(self, label: Label, message: str) -> None:
        super().__init__(message)
        self.label, self.message = label, message


@dataclass(frozen=True)
class Expected:
    """The reference for one case, under the submission's names and shapes.

    ``rounding`` bounds the magnitude of the terms summed into each entry, so that any
    correct evaluation order passes (see ``numeric.steps``); ``skip`` marks entries whose
    value depends on the convention at a kink (relu′(0)), which are never compared;
    ``batch`` is the batch size, which a sum/mean confusion shows up as.
    """

    tensors: Mapping[str, Array]
    rounding: Mapping[str, Array]
    skip: Mapping[str, Array] = field(default_factory=dict)
    batch: int = 1


@dataclass(frozen=True)
class Mutant:
    """The reference with one known mistake, under the submission's names."""

    label: Label
    mistake: str
    tensors: Mapping[str, Array]


class Check(ABC):
    """One function (or forward/backward pair) of an assignment, worth ``points``, with the
    ``feedback`` a student gets and Gradescope's ``visibility`` (set them with ``graded``)."""

    name: str = ""
    entry_points: tuple[str, ...] = ()
    examples: int | None = None  # a cap on the search's examples, for slow functions
    # Graded only when the submission defines it; or only when it defines some function of
    # the same ``group`` (the course file it lives in).
    optional: bool = False
    group: str | None = None
    points: float = 1.0
    feedback: Feedback = "full"
    visibility: Visibility = "visible"

    @abstractmethod
    def cases(self) -> st.SearchStrategy[Any]:
        """Inputs: batch sizes from 1, equal and unequal widths, values beyond ±1."""

    @abstractmethod
    def call(self, sandbox: Sandbox, case: Any) -> Any:
        """Call the submission on ``case``; return what it returned."""

    @abstractmethod
    def read(self, case: Any, raw: Any) -> dict[str, Any]:
        """The returned values under their names; ContractError if the container is wrong."""

    @abstractmethod
    def expected(self, case: Any) -> Expected: ...

    def mutants(self, case: Any) -> list[Mutant]:
        return []

    @abstractmethod
    def variant(self, case: Any, seed: int) -> Any:
        """A case like ``case`` with another batch size, to tell factors apart."""

    @abstractmethod
    def snippet(self, case: Any, *, source: str = "submission.py") -> str:
        """Python that re-runs the submission on ``case``; ``source`` is the submission's
        file name, which the import line is made from (``networks.import_line``)."""

    @abstractmethod
    def inputs(self, case: Any) -> dict[str, Any]:
        """The inputs of ``case`` as JSON-ready data."""

    def references(self, case: Any) -> tuple[Record, ...]:
        """Records of the reference against finite differences (and torch where installed)."""
        return ()

    def adopt(self, case: Any, values: Mapping[str, Any]) -> Any:
        """The case the reference should be computed on, given what the submission returned:
        ``case`` itself, unless the check lets the reference take over a valid random choice
        of the submission's (a dropout mask drawn another way than the seed replay)."""
        return case

    def value_label(self, case: Any, tensor: str) -> Label | None:
        """The label a wrong value of ``tensor`` gets when it is not a gradient (a forward
        output, a running statistic), or None for a gradient, which the diagnosis measures."""
        return None

    def trial_records(self, sandbox: Sandbox, case: Any) -> tuple[Record, ...]:
        """Records every trial adds to its comparison with the reference: a check without a
        reference compares the submission with itself here (finite differences)."""
        return ()

    def consistency(self, sandbox: Sandbox, case: Any) -> tuple[Record, ...]:
        """Records of the submission's gradient against finite differences of its *own*
        forward function, where it has one: they tell a wrong backward from a wrong forward."""
        return ()


@dataclass(frozen=True)
class Assignment:
    """A named contract and its checks. With ``partial`` set, a check whose functions are
    missing is scored as not implemented (0 points, the others still count: the verdict is
    then ``partial``); without it, a missing function stops the submission (``fail``)."""

    name: str
    title: str
    contract: str
    checks: tuple[Check, ...]
    forbidden: tuple[str, ...] = DEFAULT_FORBIDDEN
    partial: bool = False

    def __post_init__(self) -> None:
        for check in self.checks:  # points or levels set by hand, past ``graded``
            graded(check, points=check.points, feedback=check.feedback, visibility=check.visibility)

    @property
    def max_score(self) -> float:
        return float(sum(c.points for c in self.checks))

    @property
    def entry_points(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for c in self.checks for name in c.entry_points))


def graded(
    check: Check,
    *,
    points: float | None = None,
    feedback: str | None = None,
    visibility: str | None = None,
) -> Check:
    """A copy of ``check`` worth ``points`` (finite, > 0), with the ``feedback`` level and
    Gradescope ``visibility`` given; what is not given stays as it was. Raises SpecError
    naming a bad value. A copy, so that one catalogue check can be worth different points
    in two assignments."""
    if points is not None and (
        isinstance(points, bool)
        or not isinstance(points, int | float)
        or not math.isfinite(points)
        or points <= 0
    ):
        raise SpecError(f"check {check.name}: points must be a number > 0, got {points!r}")
    for what, value, allowed in (
        ("feedback", feedback, FEEDBACK_LEVELS),
        ("visibility", visibility, VISIBILITIES),
    ):
        if value is not None and value not in allowed:
            raise SpecError(
                f"check {check.name}: {what} must be one of {', '.join(allowed)}, got {value!r}"
            )
    copied = copy.copy(check)
    if points is not None:
        copied.points = float(points)
    if feedback is not None:
        copied.feedback = cast(Feedback, feedback)  # checked above
    if visibility is not None:
        copied.visibility = cast(Visibility, visibility)
    return copied
