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
another batch size), so a factor of 2 at B = 2 is not taken for a sum/mean confusion. A
mutant is refuted by a trial on which the tensor is right and the mutant is not: a shrunk
counterexample of zeros and ones makes many mutants coincide with a wrong answer, and the
variants on which the same code is right must be allowed to say no. Every tensor that is
wrong on some trial is diagnosed, not only those wrong on the first: two independent bugs
are both reported even where the shrunk input shows only one of them. When the code changed
its input, mutants are not consulted (the values come from the changed input).

Besides the labels, ``evidence`` states the facts of each wrong tensor: its shape, the
least-squares factor c with got = c·r when there is one, and the first entry that differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gradcheck.student.contract import Check, Mutant
from gradcheck.student.labels import Label
from gradcheck.student.trial import Trial, compare_with, first_failing

__all__ = ["Diagnosis", "Evidence", "diagnose", "evidence", "factor"]

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


@dataclass(frozen=True)
class Evidence:
    """The facts of one wrong tensor on the first trial where it is wrong (``trial`` 0 is
    the smallest counterexample, k the k-th variant, of batch size ``batch``): its shape,
    the factor c with got = c·expected (None when there is none), and the first entry in
    C order that differs, with both values."""

    tensor: str
    shape: tuple[int, ...]
    factor: float | None
    index: tuple[int, ...]
    yours: float
    expected: float
    trial: int = 0
    batch: int = 1

    def describe(self) -> str:
        where = "" if self.trial == 0 else f"on another input (batch {self.batch}): "
        entry = f"{self.tensor}[{', '.join(map(str, self.index))}]"
        if self.factor is None:
            scale = "not a constant multiple of the expected gradient"
        else:
            scale = f"yours = {self.factor:.6g} × expected (least squares)"
        return (
            f"{where}{self.tensor} (shape {self.shape}, as expected): first differing entry "
            f"{entry}: yours {self.yours:.9g}, expected {self.expected:.9g}; {scale}"
        )


def evidence(trials: Sequence[Trial]) -> tuple[Evidence, ...]:
    """One Evidence per tensor that is wrong on some trial, from the first such trial, in the
    order the trials show them (the smallest counterexample's first)."""
    found: dict[str, Evidence] = {}
    for k, trial in enumerate(trials):
        for record in trial.mismatched:
            name = record.tensor
            if name in found or name not in trial.tensors or name not in trial.expected.tensors:
                continue
            got, ref = trial.tensors[name], trial.expected.tensors[name]
            index = first_failing(trial.expected, name, got)
            if index is None:  # pragma: no cover - a failed record has a failing entry
                index = record.index
            found[name] = Evidence(
                name,
                tuple(ref.shape),
                factor(got, ref),
                index,
                float(got[index]),
                float(ref[index]),
                k,
                trial.expected.batch,
            )
    return tuple(found.values())


def wrong_tensors(trials: Sequence[Trial]) -> list[str]:
    """Every tensor that fails on some trial, once, the first trial's first."""
    return list(
        dict.fromkeys(
            r.tensor
            for t in trials
            for r in t.mismatched
            if r.tensor in t.expected.tensors  # not a comparison with itself (fd)
        )
    )


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


def _refutes(trial: Trial, name: str, mutant: Mutant) -> bool:
    """On ``trial`` the tensor is right, and the mutant is not."""
    if name not in mutant.tensors or name not in trial.tensors:
        return False
    (mutant_vs_reference,) = compare_with(trial.expected, {name: mutant.tensors[name]})
    return mutant_vs_reference.verdict == "fail"


def _mutant_findings(
    name: str,
    trials: Sequence[Trial],
    mutants: Sequence[Sequence[Mutant]],
    right: Sequence[tuple[Trial, Sequence[Mutant]]] = (),
) -> list[Diagnosis]:
    """The mutant references that tensor ``name`` matches on every trial, and that no trial
    in ``right`` (where the tensor is right) refutes."""
    found = []
    for position, candidates in enumerate(zip(*mutants, strict=True)):
        if all(
            name in t.tensors and _matches(t, name, m)
            for t, m in zip(trials, candidates, strict=True)
        ) and not any(_refutes(t, name, m[position]) for t, m in right):
            found.append(
                Diagnosis(
                    candidates[0].label,
                    f"matches a reference with {candidates[0].mistake}",
                    (name,),
                )
            )
    return found


def _right(
    name: str, trials: Sequence[Trial], mutants: Sequence[Sequence[Mutant]]
) -> list[tuple[Trial, Sequence[Mutant]]]:
    """The trials (with their mutants) on which tensor ``name`` came back and passed."""
    return [
        (t, m)
        for t, m in zip(trials, mutants, strict=True)
        if any(r.tensor == name and r.verdict == "pass" for r in t.records)
    ]


def _tensor_findings(
    name: str,
    trials: Sequence[Trial],
    mutants: Sequence[Sequence[Mutant]],
    *,
    consult_mutants: bool = True,
) -> list[Diagnosis]:
    right = _right(name, trials, mutants)
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
    if any(d.label != Label.ZERO_GRADIENT for d in found) or not consult_mutants:
        return found
    return found + _mutant_findings(name, trials, mutants, right)


_VALUE_FINDINGS = {
    Label.WRONG_FORWARD: "the forward's output differs from the reference forward",
    Label.WRONG_MODE: "differs from the reference in this mode (train: the batch statistics "
    "and running averages; test: the running statistics, no dropout)",
}


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
    mutated = any(p.label == Label.MUTATES_INPUT for p in first.problems)
    for name in wrong_tensors(usable):
        value = check.value_label(first.case, name)
        if value is not None and not mutated:  # a wrong output, not a wrong gradient
            found.append(Diagnosis(value, _VALUE_FINDINGS[value], (name,)))
        found.extend(_tensor_findings(name, usable, mutants, consult_mutants=not mutated))
    # One line per finding, naming every tensor it was seen in.
    merged: dict[tuple[Label, str], Diagnosis] = {}
    for d in found:
        key = (d.label, d.what)
        seen = merged.get(key)
        tensors = (*seen.tensors, *d.tensors) if seen is not None else d.tensors
        merged[key] = Diagnosis(d.label, d.what, tuple(dict.fromkeys(tensors)))
    return tuple(merged.values())
