"""From a failing trial to the likely mistakes.

Contract problems carry their own labels. For each tensor that came back with wrong values,
the diagnosis measures what the values are, compared with the reference r:

- all zeros where r is not: ``zero_gradient``;
- r transposed (a square weight, not symmetric): ``transposed``;
- c·r for one constant c (least squares, residual below 1e-6 of the norm): ``sign_flip``
  for c = −1, ``batch_reduction`` (and ``scaled``) when c is the batch size B or 1/B at two
  different batch sizes, ``scaled`` with c otherwise;
- a mutant reference (``mutants``) within tolerance, where the mutant itself differs from
  r: that mutant's label.

Each finding must hold on every trial given (the minimal counterexample and a variant with
another batch size), so a factor of 2 at B = 2 is not taken for a sum/mean confusion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gradcheck.student.assignment import Check, Mutant
from gradcheck.student.labels import Label
from gradcheck.student.trial import Trial, compare_with

__all__ = ["Diagnosis", "diagnose", "factor"]

Array = np.ndarray
_FACTOR_RTOL = 1e-6


@dataclass(frozen=True)
class Diagnosis:
    """A label, what was seen, and the tensors it was seen in (none for contract problems)."""

    label: Label
    what: str
    tensors: tuple[str, ...] = ()

    @property
    def detail(self) -> str:
        return f"{', '.join(self.tensors)}: {self.what}" if self.tensors else self.what


def factor(got: Array, reference: Array) -> float | None:
    """The c with got = c·reference, if there is one (and reference is not zero)."""
    g, r = np.ravel(got), np.ravel(reference)
    rr = float(r @ r)
    if rr == 0.0 or not np.all(np.isfinite(g)):
        return None
    c = float(g @ r) / rr
    residual = float(np.linalg.norm(g - c * r))
    return (
        c
        if residual <= _FACTOR_RTOL * max(float(np.linalg.norm(g)), abs(c) * np.sqrt(rr))
        else None
    )


def _near(value: float, target: float) -> bool:
    return abs(value - target) <= _FACTOR_RTOL * max(abs(target), 1e-300)


def _matches(trial: Trial, name: str, mutant: Mutant) -> bool:
    if name not in mutant.tensors:
        return False
    expected = trial.expected
    (against_mutant,) = compare_with(
        expected, {name: trial.tensors[name]}, {name: mutant.tensors[name]}
    )
    (mutant_vs_reference,) = compare_with(expected, {name: mutant.tensors[name]})
    return against_mutant.verdict == "pass" and mutant_vs_reference.verdict == "fail"


def _tensor_findings(
    name: str, trials: Sequence[Trial], mutants: Sequence[Sequence[Mutant]]
) -> list[Diagnosis]:
    # Only the trials on which this tensor is wrong say anything about how it is wrong.
    informative = [
        (t, m)
        for t, m in zip(trials, mutants, strict=True)
        if any(r.tensor == name and r.verdict == "fail" for r in t.records)
    ]
    trials, mutants = [t for t, _ in informative], [m for _, m in informative]
    first = trials[0]
    got, ref = first.tensors[name], first.expected.tensors[name]
    found: list[Diagnosis] = []
    if all(not np.any(t.tensors[name]) and np.any(t.expected.tensors[name]) for t in trials):
        # Zeros say what, not why: a mutant may still say why (relu′ where leaky_relu′ was due).
        found.append(Diagnosis(Label.ZERO_GRADIENT, "all zeros", (name,)))
    square = got.ndim == 2 and got.shape[0] == got.shape[1] and not np.allclose(ref, ref.T)
    if square and np.allclose(got, ref.T, rtol=1e-8, atol=1e-12 * float(np.max(np.abs(ref)))):
        return [Diagnosis(Label.TRANSPOSED, "the transpose of the gradient", (name,))]
    factors = [
        factor(t.tensors[name], t.expected.tensors[name]) if name in t.tensors else None
        for t in trials
    ]
    if not found and all(c is not None for c in factors):
        cs = [float(c) for c in factors if c is not None]
        batches = [t.expected.batch for t in trials]
        if all(_near(c, -1.0) for c in cs):
            found.append(Diagnosis(Label.SIGN_FLIP, "−1 × the gradient", (name,)))
        elif (
            len(set(batches)) > 1
            and all(b > 1 for b in batches)
            and (
                all(_near(c, b) for c, b in zip(cs, batches, strict=True))
                or all(_near(c, 1 / b) for c, b in zip(cs, batches, strict=True))
            )
        ):
            which = "B" if _near(cs[0], batches[0]) else "1/B"
            found.append(
                Diagnosis(
                    Label.BATCH_REDUCTION,
                    f"{which} × the gradient (batch size B): sum and mean confused",
                    (name,),
                )
            )
            found.append(
                Diagnosis(Label.SCALED, f"c × the gradient with c = {which} = {cs[0]:.6g}", (name,))
            )
        elif all(_near(c, cs[0]) for c in cs) and not _near(cs[0], 1.0):
            found.append(Diagnosis(Label.SCALED, f"c × the gradient with c = {cs[0]:.6g}", (name,)))
    if any(d.label != Label.ZERO_GRADIENT for d in found):
        return found
    for candidates in zip(*mutants, strict=True):
        if all(
            name in t.tensors and _matches(t, name, m)
            for t, m in zip(trials, candidates, strict=True)
        ):
            found.append(
                Diagnosis(
                    candidates[0].label,
                    f"matches a reference with {candidates[0].mistake}",
                    (name,),
                )
            )
    return found


def diagnose(check: Check, trials: Sequence[Trial]) -> tuple[Diagnosis, ...]:
    """The likely mistakes behind ``trials[0]``, confirmed on the other trials. Every
    label that applies is given; contract problems come first."""
    first = trials[0]
    found = [Diagnosis(p.label, p.message) for p in first.problems]
    usable = [t for t in trials if t.tensors and not t.problems] or [first]
    if usable[0] is not first:
        usable = [first, *usable]
    mutants = [check.mutants(t.case) for t in usable]
    if len({len(m) for m in mutants}) > 1:
        mutants = [mutants[0]]
        usable = [first]
    for record in first.mismatched:
        found.extend(_tensor_findings(record.tensor, usable, mutants))
    # One line per finding, naming every tensor it was seen in.
    merged: dict[tuple[Label, str], Diagnosis] = {}
    for d in found:
        key = (d.label, d.what)
        seen = merged.get(key)
        tensors = (*seen.tensors, *d.tensors) if seen is not None else d.tensors
        merged[key] = Diagnosis(d.label, d.what, tuple(dict.fromkeys(tensors)))
    return tuple(merged.values())
