"""Probes: check a gradient along a few directions, then find the bad entry by bisection.

A full check costs one numerical derivative per parameter. A probe checks Σ g·u against
the numerical slope along u instead, for a handful of directions u:

* K seeded random directions (Rademacher ±1 or Gaussian) over *all* entries: an error in
  any entry moves the slope, so a broken gradient fails whatever its location;
* stratified coordinate samples: a few single entries drawn from *every* tensor, so that
  a bias vector of 10 entries is checked on its own terms and not only as a sliver of a
  direction dominated by a 10⁵-entry weight matrix.

Tolerances (``steps.black_box_tolerance``) come from the error bar of each estimate, never
from the size of the direction, so the smallest detectable error does not grow with P.

When a direction fails, ``localise`` bisects it: the entries of u are split into two
halves, the slope along the first half is measured, and the mismatch of the second half
follows by linearity (mismatch(u) − mismatch(first half)) at no cost. Following the half
with the larger mismatch reaches one entry in ⌈log₂ P⌉ directional evaluations. Entries
are ordered tensor by tensor, so the first splits separate tensors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from gradcheck.numeric.directional import Directional, Oracle, scaled
from gradcheck.numeric.steps import Tolerance

__all__ = [
    "Localisation",
    "ProbeOutcome",
    "ProbeSettings",
    "coordinate_probes",
    "judge",
    "localise",
    "random_directions",
]

Array = np.ndarray
Params = Mapping[str, Array]
Verdict = Literal["pass", "fail", "inconclusive"]


@dataclass(frozen=True)
class ProbeSettings:
    """How many probes: ``directions`` random directions of ``distribution``, and
    ``per_tensor`` coordinate samples from every tensor."""

    directions: int = 4
    per_tensor: int = 2
    distribution: Literal["rademacher", "gaussian"] = "rademacher"

    def __post_init__(self) -> None:
        if self.directions < 0 or self.per_tensor < 0 or self.directions + self.per_tensor == 0:
            raise ValueError(
                f"probes need directions ≥ 0 and per_tensor ≥ 0, not both 0 "
                f"(got {self.directions}, {self.per_tensor})"
            )
        if self.distribution not in ("rademacher", "gaussian"):
            raise ValueError(
                f"distribution must be rademacher or gaussian, not {self.distribution!r}"
            )


@dataclass(frozen=True)
class ProbeOutcome:
    """One probe: the slope along ``direction`` (a coordinate when ``tensor`` is set)."""

    kind: Literal["direction", "coordinate"]
    numerical: float
    analytic: float
    error_bar: float
    allowed: float
    evaluations: int
    verdict: Verdict
    tensor: str | None = None
    index: tuple[int, ...] | None = None
    scale: float = 1.0  # u_i for a coordinate probe: numerical / scale is ∂L/∂θ_i

    @property
    def ratio(self) -> float:
        gap = abs(self.numerical - self.analytic)
        return 0.0 if gap == 0 else gap / self.allowed if self.allowed > 0 else float("inf")


@dataclass(frozen=True)
class Localisation:
    """Where bisection of a failing direction ended: one entry, its values, and the size of
    the smallest block whose mismatch still exceeded its tolerance (1 when the error sits
    in that one entry, more when it is spread thinly over many)."""

    tensor: str
    index: tuple[int, ...]
    numerical: float
    analytic: float
    error_bar: float
    allowed: float
    block: int
    ratio: float  # gap / allowed of the smallest failing block (of the entry when block is 1)
    levels: int
    evaluations: int


def judge(
    d: Directional, grads: Params, tolerance: Tolerance, scale: float, kind: str = "direction"
) -> tuple[float, float]:
    """(analytic slope Σ g·u, allowed gap) for the numerical estimate ``d``."""
    analytic = sum(float(np.sum(grads[n].astype(np.float64) * u)) for n, u in d.direction.items())
    terms = sum(
        float(np.sum(np.abs(grads[n].astype(np.float64) * u))) for n, u in d.direction.items()
    )
    size = sum(float(np.sum(np.abs(u))) for u in d.direction.values())
    allowed = (
        tolerance.error_bar_factor * d.error_bar
        + tolerance.rtol * max(terms, abs(d.estimate))
        + tolerance.atol * scale * size
    )
    return analytic, allowed


def _outcome(
    oracle: Oracle,
    v: dict[str, Array],
    grads: Params,
    tolerance: Tolerance,
    scale: float,
    *,
    always_refine: bool = False,
) -> tuple[ProbeOutcome, Directional]:
    """Measure along v; a cheap estimate that looks wrong is refined before it is believed."""
    d = oracle.derivative(v)
    analytic, allowed = judge(d, grads, tolerance, scale)
    if always_refine or abs(d.estimate - analytic) > allowed:
        d = oracle.refine(d, v)
        analytic, allowed = judge(d, grads, tolerance, scale)
    gap = abs(d.estimate - analytic)
    verdict: Verdict = "inconclusive" if d.kinked else "fail" if not gap <= allowed else "pass"
    outcome = ProbeOutcome(
        "direction", d.estimate, analytic, d.error_bar, allowed, d.evaluations, verdict
    )
    return outcome, d


def random_directions(
    params: Params, settings: ProbeSettings, rng: np.random.Generator
) -> list[dict[str, Array]]:
    """K directions over every entry, scaled like each entry's step."""
    out = []
    for _ in range(settings.directions):
        if settings.distribution == "rademacher":
            raw = {n: rng.choice([-1.0, 1.0], np.shape(p)) for n, p in params.items()}
        else:
            raw = {n: rng.standard_normal(np.shape(p)) for n, p in params.items()}
        out.append(scaled(params, raw))
    return out


def coordinate_probes(
    params: Params, settings: ProbeSettings, rng: np.random.Generator
) -> list[tuple[str, tuple[int, ...], dict[str, Array]]]:
    """``per_tensor`` distinct entries of every tensor (all of a small one), as directions."""
    out = []
    for name, value in params.items():
        size = int(np.size(value))
        for flat in sorted(rng.choice(size, min(size, settings.per_tensor), replace=False)):
            index = tuple(int(i) for i in np.unravel_index(int(flat), np.shape(value)))
            v = np.zeros(np.shape(value))
            v[index] = 1.0
            out.append((name, index, scaled(params, {name: v})))
    return out


def probe_coordinate(
    oracle: Oracle,
    name: str,
    index: tuple[int, ...],
    v: dict[str, Array],
    grads: Params,
    tolerance: Tolerance,
    scale: float,
) -> ProbeOutcome:
    outcome, d = _outcome(oracle, v, grads, tolerance, scale)
    u = float(d.direction[name][index])
    return ProbeOutcome(
        "coordinate",
        outcome.numerical,
        outcome.analytic,
        outcome.error_bar,
        outcome.allowed,
        outcome.evaluations,
        outcome.verdict,
        tensor=name,
        index=index,
        scale=u,
    )


def probe_direction(
    oracle: Oracle,
    v: dict[str, Array],
    grads: Params,
    tolerance: Tolerance,
    scale: float,
    *,
    refine: bool = False,
) -> tuple[ProbeOutcome, Directional]:
    return _outcome(oracle, v, grads, tolerance, scale, always_refine=refine)


def localise(
    oracle: Oracle,
    v: dict[str, Array],
    found: Directional,
    grads: Params,
    tolerance: Tolerance,
    scale: float,
) -> Localisation:
    """Bisect the failing direction v (whose estimate was ``found``) down to one entry."""
    names = list(v)
    sizes = [int(np.size(v[name])) for name in names]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    entries = np.flatnonzero(np.concatenate([np.ravel(v[name]) for name in names]))

    def restrict(chosen: Array) -> dict[str, Array]:
        out: dict[str, Array] = {}
        for k, name in enumerate(names):
            lo, hi = np.searchsorted(chosen, offsets[k : k + 2])
            if hi > lo:
                part = np.zeros(sizes[k])
                flat = chosen[lo:hi] - offsets[k]
                part[flat] = np.ravel(v[name])[flat]
                out[name] = part.reshape(np.shape(v[name]))
        return out

    analytic, allowed = judge(found, grads, tolerance, scale)
    mismatch = found.estimate - analytic
    block, ratio, levels, evaluations = len(entries), abs(mismatch) / allowed, 0, 0
    while entries.size > 1:
        first_half, second_half = np.array_split(entries, 2)
        d = oracle.derivative(restrict(first_half))
        evaluations += d.evaluations
        levels += 1
        analytic, allowed = judge(d, grads, tolerance, scale)
        first = d.estimate - analytic
        second = mismatch - first
        if abs(first) >= abs(second):
            entries, mismatch = first_half, first
        else:
            entries, mismatch = second_half, second
        if abs(mismatch) > allowed:
            block, ratio = entries.size, abs(mismatch) / allowed
    k = int(np.searchsorted(offsets, entries[0], side="right")) - 1
    name = names[k]
    index = tuple(int(i) for i in np.unravel_index(int(entries[0] - offsets[k]), np.shape(v[name])))
    single = restrict(entries)
    d = oracle.refine(oracle.derivative(single), single)
    evaluations += d.evaluations
    analytic, allowed = judge(d, grads, tolerance, scale)
    u = float(d.direction[name][index])
    if abs(d.estimate - analytic) > allowed:
        block, ratio = 1, abs(d.estimate - analytic) / allowed
    return Localisation(
        tensor=name,
        index=index,
        numerical=d.estimate / u,
        analytic=analytic / u,
        error_bar=d.error_bar / abs(u),
        allowed=allowed / abs(u),
        block=block,
        ratio=ratio,
        levels=levels,
        evaluations=evaluations,
    )
