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

from gradcheck.student.contract import Check, Mutant
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


def _informative(
    name: str, trials: Sequence[Trial], mutants: Sequence[Sequence[Mutant]]
) -> tuple[list[Trial], list[Sequence[Mutant]]]:
    """The trials (and their mutants) on which tensor ``name`` is wrong: only they say
    anything about how it is wrong."""
    kept = [
        (t, m)
        for t, m in zip(trials, mutants, strict=True)
        if any(r.tensor == name and r.verdict == "fail" for r in t.records)
    ]
    return [t for t, _ in kept], [m for _, m in kept]


def _all_zeros(name: str, trials: Sequence[Trial]) -> bool:
    return all(not np.any(t.tensors[name]) and np.any(t.expected.tensors[name]) for t in trials)


def _transposed(got: Array, ref: Array) -> bool:
    """got = refᵀ, for a square ref that is not symmetric."""
    square = got.ndim == 2 and got.shape[0] == got.shape[1] and not np.allclose(ref, ref.T)
    return bool(
        square and np.allclose(got, ref.T, rtol=1e-8, atol=1e-12 * float(np.max(np.abs(ref))))
    )


def _batch_factor(cs: Sequence[float], batches: Sequence[int]) -> str | None:
    """``"B"`` or ``"1/B"`` when every factor is the batch size or its inverse, at two or
    more batch sizes above 1; None otherwise."""
    if len(set(batches)) < 2 or not all(b > 1 for b in batches):
        return None
    if all(_near(c, b) for c, b in zip(cs, batches, strict=True)):
        return "B"
    if all(_near(c, 1 / b) for c, b in zip(cs, batches, strict=True)):
        return "1/B"
    return None


def _scale_findings(
    name: str, factors: Sequence[float | None], batches: Sequence[int]
) -> list[Diagnosis]:
    """What one constant c with got = c·r on every trial says: −1, B or 1/B, or another c."""
    if not all(c is not None for c in factors):
        return []
    cs = [float(c) for c in factors if c is not None]
    if all(_near(c, -1.0) for c in cs):
        return [Diagnosis(Label.SIGN_FLIP, "−1 × the gradient", (name,))]
    which = _batch_factor(cs, batches)
    if which is not None:
        return [
            Diagnosis(
                Label.BATCH_REDUCTION,
                f"{which} × the gradient (batch size B): sum and mean confused",
                (name,),
            ),
            Diagnosis(Label.SCALED, f"c × the gradient with c = {which} = {cs[0]:.6g}", (name,)),
        ]
    if all(_near(c, cs[0]) for c in cs) and not _near(cs[0], 1.0):
        return [Diagnosis(Label.SCALED, f"c × the gradient with c = {cs[0]:.6g}", (name,))]
    return []


def _mutant_findings(
    name: str, trials: Sequence[Trial], mutants: Sequence[Sequence[Mutant]]
) -> list[Diagnosis]:
    """The mutant references that tensor ``name`` matches on every trial."""
    found = []
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


def _tensor_findings(
    name: str, trials: Sequence[Trial], mutants: Sequence[Sequence[Mutant]]
) -> list[Diagnosis]:
    trials, mutants = _informative(name, trials, mutants)
    first = trials[0]
    got, ref = first.tensors[name], first.expected.tensors[name]
    found: list[Diagnosis] = []
    if _all_zeros(name, trials):
        # Zeros say what, not why: a mutant may still say why (relu′ where leaky_relu′ was due).
        found.append(Diagnosis(Label.ZERO_GRADIENT, "all zeros", (name,)))
    if _transposed(got, ref):
        return [Diagnosis(Label.TRANSPOSED, "the transpose of the gradient", (name,))]
    factors = [
        factor(t.tensors[name], t.expected.tensors[name]) if name in t.tensors else None
        for t in trials
    ]
    if not found:
        found = _scale_findings(name, factors, [t.expected.batch for t in trials])
    if any(d.label != Label.ZERO_GRADIENT for d in found):
        return found
    return found + _mutant_findings(name, trials, mutants)


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
        if record.tensor in first.expected.tensors:  # not a comparison with itself (fd)
            found.extend(_tensor_findings(record.tensor, usable, mutants))
    # One line per finding, naming every tensor it was seen in.
    merged: dict[tuple[Label, str], Diagnosis] = {}
    for d in found:
        key = (d.label, d.what)
        seen = merged.get(key)
        tensors = (*seen.tensors, *d.tensors) if seen is not None else d.tensors
        merged[key] = Diagnosis(d.label, d.what, tuple(dict.fromkeys(tensors)))
    return tuple(merged.values())
