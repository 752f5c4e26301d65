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
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from gradcheck.compare import Verdict
from gradcheck.numeric.directional import Directional, Oracle, scaled
from gradcheck.numeric.steps import Tolerance

__all__ = [
    "Localisation",
    "ProbeOutcome",
    "ProbeSettings",
    "Prober",
    "coordinate_probes",
    "random_directions",
]

Array = np.ndarray
Params = Mapping[str, Array]


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
    kinked: bool = False  # the entry sits on a kink: its mismatch is no evidence of an error
    flat: int = 0  # the entry's flat index in its tensor


@dataclass(frozen=True)
class Prober:
    """Probes of one gradient ``grads`` by one ``oracle``.

    ``confirm`` (central differences, when the oracle is the complex step) is asked about
    every probe that fails: the complex step is exact where L is smooth, but on a kink it
    silently takes one side's slope, and only differences across the point can tell. A
    failure at a kink is inconclusive, not a failure.
    """

    oracle: Oracle
    grads: Params
    tolerance: Tolerance
    scale: float
    confirm: Oracle | None = None

    def judge(self, d: Directional) -> tuple[float, float]:
        """(analytic slope Σ g·u, allowed gap) for the numerical estimate ``d``."""
        g = {n: self.grads[n].astype(np.float64) for n in d.direction}
        analytic = sum(float(np.sum(g[n] * u)) for n, u in d.direction.items())
        terms = sum(float(np.sum(np.abs(g[n] * u))) for n, u in d.direction.items())
        size = sum(float(np.sum(np.abs(u))) for u in d.direction.values())
        allowed = (
            self.tolerance.error_bar_factor * d.error_bar
            + self.tolerance.rtol * max(terms, abs(d.estimate))
            + self.tolerance.atol * self.scale * size
        )
        return analytic, max(allowed, self.tolerance.floor)

    def on_kink(self, v: Mapping[str, Array], d: Directional) -> bool:
        if d.kinked:
            return True
        if self.confirm is None or self.confirm is self.oracle:
            return False
        check = self.confirm.derivative(v)
        return self.confirm.refine(check, v).kinked

    def direction(
        self, v: dict[str, Array], *, refine: bool = False
    ) -> tuple[ProbeOutcome, Directional]:
        """Measure along v; a cheap estimate that looks wrong is refined before it is
        believed, and a refined failure is checked for a kink."""
        d = self.oracle.derivative(v)
        analytic, allowed = self.judge(d)
        if refine or abs(d.estimate - analytic) > allowed:
            d = self.oracle.refine(d, v)
            analytic, allowed = self.judge(d)
        verdict: Verdict = "pass" if abs(d.estimate - analytic) <= allowed else "fail"
        if d.kinked or (verdict == "fail" and self.on_kink(v, d)):
            verdict = "inconclusive"
        outcome = ProbeOutcome(
            "direction", d.estimate, analytic, d.error_bar, allowed, d.evaluations, verdict
        )
        return outcome, d

    def coordinate(self, name: str, index: tuple[int, ...], v: dict[str, Array]) -> ProbeOutcome:
        outcome, d = self.direction(v)
        return replace(
            outcome,
            kind="coordinate",
            tensor=name,
            index=index,
            scale=float(d.direction[name][index]),
        )

    def localise(self, v: dict[str, Array], found: Directional) -> Localisation:
        """Bisect the failing direction v (whose estimate was ``found``) down to one entry."""
        layout = _Layout.of(v)
        analytic, allowed = self.judge(found)
        search = self._bisect(layout, found.estimate - analytic, allowed)
        name, flat, index = layout.locate(int(search.entries[0]))
        single = layout.restrict(search.entries)
        d = self.oracle.refine(self.oracle.derivative(single), single)
        analytic, allowed = self.judge(d)
        block, ratio = search.block, search.ratio
        if abs(d.estimate - analytic) > allowed:
            block, ratio = 1, abs(d.estimate - analytic) / allowed
        u = float(d.direction[name][index])
        return Localisation(
            tensor=name,
            index=index,
            numerical=d.estimate / u,
            analytic=analytic / u,
            error_bar=d.error_bar / abs(u),
            allowed=allowed / abs(u),
            block=block,
            ratio=ratio,
            levels=search.levels,
            evaluations=search.evaluations + d.evaluations,
            kinked=self.on_kink(single, d),
            flat=flat,
        )

    def _bisect(self, layout: _Layout, mismatch: float, allowed: float) -> _Bisection:
        """Halve the entries of ``layout`` until one is left, following the half with the
        larger mismatch (the first half measured, the second by linearity); ``mismatch``
        and ``allowed`` are those of the whole direction."""
        entries = layout.nonzero()
        block, ratio, levels, evaluations = len(entries), abs(mismatch) / allowed, 0, 0
        while entries.size > 1:
            first_half, second_half = np.array_split(entries, 2)
            d = self.oracle.derivative(layout.restrict(first_half))
            evaluations += d.evaluations
            levels += 1
            analytic, allowed = self.judge(d)
            first = d.estimate - analytic
            second = mismatch - first
            if abs(first) >= abs(second):
                entries, mismatch = first_half, first
            else:
                entries, mismatch = second_half, second
            if abs(mismatch) > allowed:
                block, ratio = entries.size, abs(mismatch) / allowed
        return _Bisection(entries, block, ratio, levels, evaluations)


@dataclass(frozen=True)
class _Bisection:
    """Where ``Prober._bisect`` ended: the entries left (one), the size and gap / allowed of
    the smallest block that still failed, the halvings and the evaluations they cost."""

    entries: Array
    block: int
    ratio: float
    levels: int
    evaluations: int


@dataclass(frozen=True)
class _Layout:
    """The entries of a direction v laid end to end, tensor by tensor: tensor k holds the
    flat positions ``offsets[k]`` to ``offsets[k + 1]``."""

    v: Mapping[str, Array]
    names: tuple[str, ...]
    sizes: tuple[int, ...]
    offsets: Array

    @classmethod
    def of(cls, v: Mapping[str, Array]) -> _Layout:
        sizes = tuple(int(np.size(v[name])) for name in v)
        return cls(v, tuple(v), sizes, np.concatenate([[0], np.cumsum(sizes)]))

    def nonzero(self) -> Array:
        """The flat positions where v is not 0."""
        return np.flatnonzero(np.concatenate([np.ravel(self.v[name]) for name in self.names]))

    def restrict(self, chosen: Array) -> dict[str, Array]:
        """v with every entry outside the sorted flat positions ``chosen`` set to 0 (tensors
        with no chosen entry left out)."""
        out: dict[str, Array] = {}
        for k, name in enumerate(self.names):
            lo, hi = np.searchsorted(chosen, self.offsets[k : k + 2])
            if hi > lo:
                part = np.zeros(self.sizes[k])
                flat = chosen[lo:hi] - self.offsets[k]
                part[flat] = np.ravel(self.v[name])[flat]
                out[name] = part.reshape(np.shape(self.v[name]))
        return out

    def locate(self, position: int) -> tuple[str, int, tuple[int, ...]]:
        """The tensor, flat index and index of the flat ``position``."""
        k = int(np.searchsorted(self.offsets, position, side="right")) - 1
        name = self.names[k]
        flat = int(position - self.offsets[k])
        return name, flat, tuple(int(i) for i in np.unravel_index(flat, np.shape(self.v[name])))


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
