"""The noise level of a computed function, from a table of high-order differences.

A floating-point loss is L(θ) + ν(θ), with ν its rounding noise. Along a direction p,
the k-th forward difference Δᵏ of L(θ + i·δ·p), i = 0…m, annihilates the smooth part
(δᵏL⁽ᵏ⁾ is negligible for tiny δ) and leaves a combination of the noise values whose
variance is γ_k⁻¹·σ², with γ_k = (k!)²/(2k)!. So σ ≈ √(γ_k · mean((Δᵏ)²)).

This is the method of Moré and Wild (2011), "Estimating computational noise", in its
simplest fixed-order form. It matters when L is ill-conditioned (a cross-entropy near
saturation), where the noise is far above ε·|L| and a difference quotient with an error
bar built on ε·|L| would fail a correct gradient.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

__all__ = ["estimate_noise", "noise_along_random_direction"]

ORDER = 6
POINTS = 9


def estimate_noise(along: Callable[[float], float], step: float) -> float:
    """σ of the noise of ``t ↦ along(t)`` near t = 0, from ``POINTS`` evaluations at t = i·step."""
    values = np.array([along(i * step) for i in range(POINTS)], dtype=np.float64)
    differences = np.diff(values, n=ORDER)
    gamma = math.factorial(ORDER) ** 2 / math.factorial(2 * ORDER)
    return float(np.sqrt(gamma * np.mean(differences**2)))


def noise_along_random_direction(
    evaluate: Callable[[Mapping[str, np.ndarray]], float],
    params: Mapping[str, np.ndarray],
    *,
    dtype: str = "float64",
    seed: int = 0,
) -> float:
    """σ of ``evaluate``'s noise along a seeded ±1 direction scaled like each entry's step,
    max(1, |θ_i|), with the parameters rounded to ``dtype`` at every point of the table.

    The table starts with steps of 1e3·ε; a loss that rounds its input to a coarser grid
    (one that computes in float32 inside) returns the same value all along such a table,
    so the steps grow a thousandfold until the values move, up to 1e-4.
    """
    rng = np.random.default_rng(seed)
    base = {name: np.asarray(value, np.float64) for name, value in params.items()}
    direction = {
        name: rng.choice([-1.0, 1.0], value.shape) * np.maximum(1.0, np.abs(value))
        for name, value in base.items()
    }

    def along(t: float) -> float:
        return evaluate({k: (v + t * direction[k]).astype(dtype) for k, v in base.items()})

    step = 1e3 * float(np.finfo(np.dtype(dtype)).eps)
    while True:
        noise = estimate_noise(along, step)
        if noise > 0 or step > 1e-7:
            return noise
        step *= 1e3
