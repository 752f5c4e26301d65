"""Float64 numerical derivatives of a vector function, with an error bar per output entry.

Along a direction u (a coordinate e_j for a Jacobian column), with t = ε_eff^(1/3) and the
step in units of each entry's scale (``directional.scaled``), the four outputs
y(x ± t·u), y(x ± 2t·u) give every output entry's Richardson estimate and error bar at once
(``finite_differences.richardson``, vectorised over the outputs). ε_eff is the precision the
forward actually has: the larger of ``output_eps`` and the noise measured along a random
direction (``noise``), relative to |y|, capped at ``steps.MAX_EFFECTIVE_EPS``.

The same five outputs tell a kink apart (the second differences S(t) and S(2t) disagree as
only a kink makes them, ``directional.CentralOracle``): an entry that fails there is not
compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gradcheck.errors import NonFiniteError
from gradcheck.jacobian.function import VectorFunction
from gradcheck.numeric.finite_differences import MULTIPLES, loss_rounding, richardson
from gradcheck.numeric.noise import ORDER, POINTS
from gradcheck.numeric.steps import KINK_NOISE_FACTOR, KINK_RATIO, MAX_EFFECTIVE_EPS

__all__ = ["Derivative", "Numerical"]

Array = np.ndarray


@dataclass(frozen=True)
class Derivative:
    """d y(x + s·u)/ds at s = 0 for every output entry, with error bars; ``u`` is the
    direction actually stepped (as represented in float64), ``samples`` the five outputs
    y(x), y(x ± t·u), y(x ± 2t·u) behind it."""

    estimate: Array
    error_bar: Array
    u: Array
    samples: Array
    step: float


class Numerical:
    """Numerical derivatives of ``fn`` at its point; ``evaluations`` counts forward calls."""

    def __init__(self, fn: VectorFunction, *, seed: int = 0) -> None:
        self.fn = fn
        self.evaluations = 0
        self.x = np.asarray(fn.point, np.float64)
        self.y = self.evaluate(self.x)
        self.noise = self._noise(seed)
        size = np.maximum(np.abs(self.y), np.finfo(np.float64).tiny)
        effective = max(fn.output_eps, float(np.max(self.noise / size, initial=0.0)))
        self.step = float(min(effective, MAX_EFFECTIVE_EPS) ** (1 / 3))
        self.scale = np.maximum(1.0, np.abs(self.x))

    def evaluate(self, x: Array) -> Array:
        self.evaluations += 1
        y = np.asarray(self.fn.evaluate(x), np.float64)
        if y.shape != (self.fn.n_out,):
            raise NonFiniteError(  # the adapter's contract, not the user's: say what came back
                f"the forward returned {y.size} output entries, expected {self.fn.n_out}"
            )
        if not np.all(np.isfinite(y)):
            bad = int(np.flatnonzero(~np.isfinite(y))[0])
            raise NonFiniteError(f"the forward in float64 returned {y[bad]} {self._where(bad)}")
        return y

    def _where(self, flat: int) -> str:
        start = 0
        for block in self.fn.outputs:
            if flat < start + block.size:
                index = np.unravel_index(flat - start, block.shape) if block.shape else ()
                return f"at output {block.name}[{', '.join(str(int(i)) for i in index)}]"
            start += block.size
        return ""

    def _noise(self, seed: int) -> Array:
        """σ of each output's rounding noise along a seeded ±1 direction (``numeric.noise``,
        Moré and Wild's table of differences, vectorised over the outputs)."""
        rng = np.random.default_rng(seed)
        direction = rng.choice([-1.0, 1.0], self.x.shape) * np.maximum(1.0, np.abs(self.x))
        step = 1e3 * float(np.finfo(np.float64).eps)
        gamma = math.factorial(ORDER) ** 2 / math.factorial(2 * ORDER)
        while True:
            table = np.array([self.evaluate(self.x + i * step * direction) for i in range(POINTS)])
            sigma = np.sqrt(gamma * np.mean(np.diff(table, n=ORDER, axis=0) ** 2, axis=0))
            if np.any(sigma > 0) or step > 1e-7:
                return sigma
            step *= 1e3

    def along(self, u: Array) -> Derivative:
        """The derivative along ``u`` (already in the inputs' units), 4 evaluations."""
        t = self.step
        points = [self.x + m * t * u for m in MULTIPLES]
        outputs = np.array([self.evaluate(p) for p in points])
        represented = (points[0] - points[1]) / 2  # t·u as actually stepped
        norm = float(np.max(np.abs(represented)))
        steps = np.array([m * t for m in MULTIPLES])[:, None]
        estimate, bar = richardson(
            outputs,
            steps,
            noise=self.noise,  # one σ per output
            eps=self.fn.output_eps,
            base=self.y,
        )
        u_actual = represented / t if norm else u
        return Derivative(estimate, bar, u_actual, np.vstack([self.y, outputs]), t)

    def column(self, j: int) -> Derivative:
        """Column j of the Jacobian: the derivative along e_j, per unit of x_j."""
        u = np.zeros_like(self.x)
        u[j] = self.scale[j]
        d = self.along(u)
        per_unit = d.u[j]
        return Derivative(d.estimate / per_unit, d.error_bar / per_unit, d.u, d.samples, d.step)

    def kinked(self, d: Derivative) -> Array:
        """Per output entry: whether S(t) and S(2t) of ``d``'s samples disagree as only a
        kink between x − 2t·u and x + 2t·u makes them (``directional.CentralOracle``)."""
        y0, yp, ym, yp2, ym2 = d.samples
        t = d.step
        sigma = loss_rounding(d.samples, noise=self.noise, eps=self.fn.output_eps)
        s1 = (yp - 2 * y0 + ym) / t**2
        s2 = (yp2 - 2 * y0 + ym2) / (4 * t**2)
        jump = np.abs(s1 - s2) * t
        smooth = KINK_RATIO * np.maximum(np.abs(s1), np.abs(s2)) * t
        return np.asarray((jump > smooth) & (jump > KINK_NOISE_FACTOR * sigma / t))
