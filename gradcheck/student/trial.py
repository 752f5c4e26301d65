"""One trial: call the submission on one case (twice, on fresh copies), check the contract,
and compare every returned tensor with the reference.

Contract problems become findings with a label (``bad_return``, ``shape_mismatch``,
``transposed``, ``non_finite``, ``mutates_input``, ``nondeterministic``, ``crash``);
values are compared entry by entry with the float64 analytic tolerance plus the rounding
bound of each entry, so any correct evaluation order (loops, einsum, another summation
order) passes, and entries on a kink are not compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradcheck.compare import Record, _entries, compare_tensor
from gradcheck.numeric.steps import TOLERANCES, machine_eps
from gradcheck.student.contract import Check, ContractError, Expected
from gradcheck.student.labels import Label
from gradcheck.student.protocol import ArraySubclass, Opaque
from gradcheck.student.sandbox import CallFailed, Sandbox
from gradcheck.student.source import Finding

__all__ = ["SUBMISSION", "Trial", "compare_with", "conform", "first_failing", "run_trial"]

Array = np.ndarray
SUBMISSION, REFERENCE = "submission", "reference"
TOLERANCE = TOLERANCES[("float64", "analytic")]


@dataclass(frozen=True)
class Trial:
    case: Any
    expected: Expected
    tensors: Mapping[str, Array]
    problems: tuple[Finding, ...]
    records: tuple[Record, ...]

    @property
    def mismatched(self) -> tuple[Record, ...]:
        return tuple(r for r in self.records if r.verdict == "fail")

    @property
    def failed(self) -> bool:
        return bool(self.problems or self.mismatched)

    @property
    def kind(self) -> frozenset[str]:
        """What went wrong, coarsely: shrinking keeps a failure of the same kind."""
        kind = {str(p.label) for p in self.problems}
        return frozenset(kind | ({"mismatch"} if self.mismatched else set()))


def _shape(value: Any) -> str:
    return str(tuple(value.shape)) if isinstance(value, np.ndarray) else type(value).__name__


def conform(
    expected: Mapping[str, Array], values: Mapping[str, Any]
) -> tuple[dict[str, Array], list[Finding]]:
    """The returned values that can be compared, and the contract problems of the others."""
    tensors: dict[str, Array] = {}
    problems: list[Finding] = []
    for name, reference in expected.items():
        if name not in values:
            problems.append(Finding(Label.BAD_RETURN, f"{name} is missing from what was returned"))
            continue
        value = values[name]
        if isinstance(value, ArraySubclass):
            problems.append(Finding(Label.BAD_RETURN, _subclass_message(name, value, reference)))
            continue
        if isinstance(value, Opaque) or value is None or isinstance(value, str):
            problems.append(
                Finding(
                    Label.BAD_RETURN,
                    f"{name} is {value!r}, expected an array of shape {reference.shape}",
                )
            )
            continue
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            problems.append(Finding(Label.BAD_RETURN, f"{name} is not an array of numbers"))
            continue
        if np.iscomplexobj(value):
            problems.append(Finding(Label.BAD_RETURN, f"{name} is complex"))
            continue
        if array.shape != reference.shape:
            problems.append(
                Finding(
                    Label.SHAPE_MISMATCH,
                    f"{name} has shape {array.shape}, expected {reference.shape}",
                )
            )
            if array.ndim == 2 and array.T.shape == reference.shape and _close(array.T, reference):
                problems.append(
                    Finding(Label.TRANSPOSED, f"{name} is the transpose of the expected gradient")
                )
            continue
        if not np.all(np.isfinite(array)):
            bad = (
                np.unravel_index(int(np.argmax(~np.isfinite(array))), array.shape)
                if array.ndim
                else ()
            )
            index = ",".join(map(str, bad))
            problems.append(Finding(Label.NON_FINITE, f"{name}[{index}] is {array[bad]}"))
            continue
        tensors[name] = array
    return tensors, problems


def _subclass_message(name: str, value: ArraySubclass, reference: Array) -> str:
    if value.kind == "matrix":
        return (
            f"{name} is a numpy.matrix, which is always 2-D (and * on it is a matrix product); "
            f"return a plain numpy.ndarray of shape {reference.shape} (np.asarray)"
        )
    return (
        f"{name} is a numpy masked array; return a plain numpy.ndarray of shape "
        f"{reference.shape} (a masked entry has no value to compare)"
    )


def _close(a: Array, b: Array) -> bool:
    scale = max(float(np.max(np.abs(b), initial=0.0)), 1e-300)
    return bool(np.all(np.abs(a - b) <= 1e-8 * scale))


def compare_with(
    expected: Expected, tensors: Mapping[str, Array], reference: Mapping[str, Array] | None = None
) -> tuple[Record, ...]:
    """A record per tensor of ``tensors`` against ``reference`` (default: the expected)."""
    reference = expected.tensors if reference is None else reference
    scale = max((float(np.max(np.abs(t), initial=0.0)) for t in reference.values()), default=0.0)
    eps, tiny = machine_eps("float64"), float(np.finfo(np.float64).tiny)
    return tuple(
        compare_tensor(
            name,
            tensors[name],
            reference[name],
            tolerance=TOLERANCE,
            engines=(SUBMISSION, REFERENCE),
            skip=expected.skip.get(name),
            network_scale=scale,
            rounding=expected.rounding.get(name),
            eps=eps,
            tiny=tiny,
        )
        for name in reference
        if name in tensors
    )


def first_failing(expected: Expected, name: str, got: Array) -> tuple[int, ...] | None:
    """The first entry (in C order) of tensor ``name`` that fails against the expected one,
    under exactly the tolerance of ``compare_with``; None when every entry passes."""
    reference = expected.tensors[name]
    scale = max(
        (float(np.max(np.abs(t), initial=0.0)) for t in expected.tensors.values()), default=0.0
    )
    a, b = np.asarray(got, np.float64), np.asarray(reference, np.float64)
    rounding = expected.rounding.get(name)
    _, _, ratio = _entries(
        a,
        b,
        np.zeros_like(a),
        TOLERANCE,
        scale,
        rounding=rounding,
        eps=machine_eps("float64"),
        tiny=float(np.finfo(np.float64).tiny),
    )
    skip = expected.skip.get(name)
    failing = ratio > 1 if skip is None else (ratio > 1) & ~np.asarray(skip, bool)
    if not failing.any():
        return None
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(failing)), failing.shape))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and np.array_equal(a, b, equal_nan=True)
        )
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, ArraySubclass) or isinstance(b, ArraySubclass):
        return (
            isinstance(a, ArraySubclass)
            and isinstance(b, ArraySubclass)
            and a.kind == b.kind
            and _same(a.array, b.array)
        )
    if isinstance(a, Opaque) and isinstance(b, Opaque):
        return a.type_name == b.type_name
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return bool(type(a) is type(b) and a == b)


def run_trial(check: Check, sandbox: Sandbox, case: Any, *, repeat: bool = True) -> Trial:
    """Run ``check`` on ``case``. SandboxDied propagates: the child cannot go on."""
    expected = check.expected(case)
    problems: list[Finding] = []
    try:
        raw, mutated = check.call(sandbox, case)
    except (CallFailed, ContractError) as failure:
        return Trial(case, expected, {}, (Finding(failure.label, failure.message),), ())
    if mutated:
        problems.append(
            Finding(Label.MUTATES_INPUT, f"the code changed its input {', '.join(mutated)}")
        )
    if repeat:
        try:
            again, _ = check.call(sandbox, case)
        except (CallFailed, ContractError) as failure:
            again = failure
        if not _same(raw, again):
            problems.append(
                Finding(
                    Label.NONDETERMINISTIC, "two calls on the same input returned different results"
                )
            )
    try:
        values = check.read(case, raw)
    except ContractError as error:
        return Trial(case, expected, {}, (*problems, Finding(error.label, error.message)), ())
    adopted = check.adopt(case, values)
    if adopted is not case:  # the reference takes over the submission's valid random choice
        case, expected = adopted, check.expected(adopted)
    tensors, found = conform(expected.tensors, values)
    problems.extend(found)
    records = compare_with(expected, tensors) + check.trial_records(sandbox, case)
    return Trial(case, expected, tensors, tuple(problems), records)
