"""The error model of finite differences: Richardson-extrapolated central differences and
one-sided differences, each with an error bar, for many entries at once.

For each parameter entry θ_i, with h = ε^(1/3)·max(1, |θ_i|) (see ``steps.fd_step``):

    D(h)  = (L(θ + h·e_i) − L(θ − h·e_i)) / 2h            error  c·h² + O(h⁴)
    D(2h) = (L(θ + 2h·e_i) − L(θ − 2h·e_i)) / 4h          error 4c·h² + O(h⁴)
    R     = (4·D(h) − D(2h)) / 3                          error O(h⁴)

R is the estimate. Its error bar is |R − D(h)| (an over-estimate of R's own truncation
error, since it measures D(h)'s) plus three standard deviations of the noise that reaches
R, about 3σ/h, where σ is the rounding noise of L: the larger of ε·max|L(θ ± kh)| and
the estimate of ``noise.estimate_noise`` along a random direction (9 extra evaluations
per call).
Denominators use the step actually represented, (θ+h) − (θ−h).

Where the steps on one side cross a kink, ``one_sided`` gives the second-order estimate
from the other side. The loops that take the steps live with their callers: the core's
batched ``core_differences`` (a coordinate step per entry) and the black-box
``directional.CentralOracle`` (one step t along a direction, so the four steps are ±t, ±2t).
Both get R and its error bar from ``richardson``, and nothing else computes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "MULTIPLES",
    "NumericalGradient",
    "extrapolate",
    "loss_rounding",
    "one_sided",
    "richardson",
]

MULTIPLES = (1, -1, 2, -2)  # the steps θ ± h and θ ± 2h, in this order everywhere

Array = np.ndarray


@dataclass(frozen=True)
class NumericalGradient:
    loss: float  # L at the unperturbed parameters
    grads: dict[str, Array]
    error_bars: dict[str, Array]
    unreliable: dict[str, Array]
    evaluations: int


def extrapolate(d1: Array, d2: Array) -> Array:
    """R = (4·D(h) − D(2h)) / 3: the h² terms of the two central differences cancel."""
    return (4 * d1 - d2) / 3


def loss_rounding(
    losses: Array, *, noise: float | Array, eps: float, base: float | Array | None = None
) -> Array:
    """σ, the rounding noise of L near the samples: the larger of the measured ``noise``
    and ε·max|L| over ``losses`` (axis 0) and, when given, |``base``| = |L(θ)|."""
    size = np.max(np.abs(losses), axis=0)
    if base is not None:
        size = np.maximum(np.abs(base), size)
    return np.maximum(noise, eps * size)


def richardson(
    losses: Array,
    steps: Array,
    *,
    noise: float | Array,
    eps: float,
    base: float | Array | None = None,
) -> tuple[Array, Array]:
    """Estimates and error bars for many entries at once.

    ``losses[m, i]`` is L at θ_i + ``steps[m, i]``, for the four steps of ``MULTIPLES``
    (+h, −h, +2h, −2h, as actually represented); 1-d arrays give one estimate. Returns R
    and its error bar |R − D(h)| + 3σ/h, with σ from ``loss_rounding`` (module docstring).
    """
    d1 = (losses[0] - losses[1]) / (steps[0] - steps[1])
    d2 = (losses[2] - losses[3]) / (steps[2] - steps[3])
    estimate = extrapolate(d1, d2)
    rounding = loss_rounding(losses, noise=noise, eps=eps, base=base)
    return estimate, np.abs(estimate - d1) + 3 * rounding / np.abs(steps[0])


def one_sided(
    base: float | Array, losses: Array, steps: Array, *, noise: float, eps: float
) -> tuple[Array, Array]:
    """Second-order one-sided estimates from L(θ) = ``base`` and L at θ + s₁, θ + s₂ on one
    side (``losses[k, i]`` at ``steps[k, i]``, with s₂ ≈ 2s₁): the slope at 0 of the
    parabola through the three points,

        D = −L₀(1/s₁ + 1/s₂) + L₁·s₂/(s₁(s₂ − s₁)) − L₂·s₁/(s₂(s₂ − s₁)),

    which is (3L₀ − 4L₋ₕ + L₋₂ₕ)/2h for s = −h, −2h. Its error bar is its distance from the
    first-order (L₁ − L₀)/s₁ (whose error it over-estimates) plus three standard deviations
    of the noise reaching D, 2.55σ/h for equal spacing.
    """
    s1, s2 = steps
    l1, l2 = losses
    estimate = -base * (1 / s1 + 1 / s2) + l1 * s2 / (s1 * (s2 - s1)) - l2 * s1 / (s2 * (s2 - s1))
    first_order = (l1 - base) / s1
    rounding = loss_rounding(losses, noise=noise, eps=eps, base=base)
    return estimate, np.abs(estimate - first_order) + 3 * 2.55 * rounding / np.abs(s1)
