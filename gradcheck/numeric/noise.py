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
from collections.abc import Callable

import numpy as np

__all__ = ["estimate_noise"]

ORDER = 6
POINTS = 9


def estimate_noise(along: Callable[[float], float], step: float) -> float:
    """σ of the noise of ``t ↦ along(t)`` near t = 0, from ``POINTS`` evaluations at t = i·step."""
    values = np.array([along(i * step) for i in range(POINTS)], dtype=np.float64)
    differences = np.diff(values, n=ORDER)
    gamma = math.factorial(ORDER) ** 2 / math.factorial(2 * ORDER)
    return float(np.sqrt(gamma * np.mean(differences**2)))
