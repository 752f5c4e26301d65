"""Error bars: on analytic losses whose derivatives are known in closed form, an error bar
must cover the error it describes and must not be much larger.

``richardson`` returns R with the bar |R − D(h)| + 3σ/h: it covers R's error and the error
of the central difference D(h) itself, and where truncation dominates the rounding noise
(θ⁵ everywhere, e^θ from |θ| ≈ 4 on) it is at most twice D(h)'s true error. ``one_sided``
returns D with the bar |D − F| + 7.65σ/h, F = (L₁ − L₀)/s₁ the first-order difference: it
covers D's error and is at most twice F's. The noise part of both bars is pinned on a linear
loss, whose differences have no truncation error at all. The samples are laid out as the
docstrings say: rows in the order of ``MULTIPLES`` (+h, −h, +2h, −2h) for ``richardson``,
(s₁, s₂) = ±(h, 2h) for ``one_sided``, with the steps as actually represented.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from gradcheck.numeric.finite_differences import MULTIPLES, loss_rounding, one_sided, richardson
from gradcheck.numeric.steps import fd_step, machine_eps

Array = np.ndarray
EPS = machine_eps("float64")
# How many times the error it describes a bar may be. Measured on the points below: 0.97 to
# 1.29 for Richardson (its truncation part is D(h)'s error to within a few percent), 1.00 for
# the one-sided bar; 2 leaves room and still fails a bar that measures |R − D(2h)| (4×).
UPPER = 2.0

# name: (L, L′), applied entry by entry (each entry of θ is its own one-parameter loss).
LOSSES: dict[str, tuple[Callable[[Array], Array], Callable[[Array], Array]]] = {
    "theta^5": (lambda t: t**5, lambda t: 5 * t**4),
    "exp": (np.exp, np.exp),
}
# Where truncation dominates the bar, so that both of its bounds are sharp.
TRUNCATION_DOMINATED = {
    "theta^5": np.array([0.7, -1.3, 2.0, 10.0, -10.0]),
    "exp": np.array([5.0, 10.0, -10.0]),
}
# Everywhere, including where rounding dominates (e^θ near 0).
ANYWHERE = np.array([-10.0, -2.5, -0.3, 0.0, 0.7, 1.0, 3.0, 10.0])


def _represented(theta: Array, multiples: tuple[int, ...]) -> Array:
    h = fd_step(theta, "float64")
    return np.array([(theta + m * h) - theta for m in multiples])


def _central(name: str, theta: Array) -> tuple[Array, Array, Array, Array]:
    """R, its bar, D(h), and L′(θ)."""
    f, df = LOSSES[name]
    steps = _represented(theta, MULTIPLES)
    losses = f(theta + steps)
    estimate, bar = richardson(losses, steps, noise=0.0, eps=EPS, base=f(theta))
    d1 = (losses[0] - losses[1]) / (steps[0] - steps[1])
    return estimate, bar, d1, df(theta)


def _one_sided(name: str, theta: Array, side: int) -> tuple[Array, Array, Array, Array]:
    """D, its bar, the first-order F, and L′(θ)."""
    f, df = LOSSES[name]
    steps = _represented(theta, (side, 2 * side))
    losses = f(theta + steps)
    base = f(theta)
    estimate, bar = one_sided(base, losses, steps, noise=0.0, eps=EPS)
    first_order = (losses[0] - base) / steps[0]
    return estimate, bar, first_order, df(theta)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_richardson_bar_brackets_the_central_differences_error(name: str) -> None:
    theta = TRUNCATION_DOMINATED[name]
    estimate, bar, d1, exact = _central(name, theta)
    assert np.all(np.abs(estimate - exact) <= bar), (estimate - exact, bar)
    assert np.all(np.abs(d1 - exact) <= bar), (d1 - exact, bar)
    assert np.all(bar <= UPPER * np.abs(d1 - exact)), (bar, d1 - exact)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_richardson_estimate_lies_within_its_bar_anywhere(name: str) -> None:
    estimate, bar, d1, exact = _central(name, ANYWHERE)
    assert np.all(np.abs(estimate - exact) <= bar), (estimate - exact, bar)
    assert np.all(np.abs(d1 - exact) <= bar), (d1 - exact, bar)


@pytest.mark.parametrize("side", [1, -1], ids=["forward", "backward"])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_one_sided_bar_brackets_its_error(name: str, side: int) -> None:
    estimate, bar, first_order, exact = _one_sided(name, TRUNCATION_DOMINATED[name], side)
    assert np.all(np.abs(estimate - exact) <= bar), (estimate - exact, bar)
    assert np.all(bar <= UPPER * np.abs(first_order - exact)), (bar, first_order - exact)


@pytest.mark.parametrize("side", [1, -1], ids=["forward", "backward"])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_one_sided_estimate_lies_within_its_bar_anywhere(name: str, side: int) -> None:
    estimate, bar, _, exact = _one_sided(name, ANYWHERE, side)
    assert np.all(np.abs(estimate - exact) <= bar), (estimate - exact, bar)


@pytest.mark.parametrize("theta", [0.5, 10.0, -1e3])
def test_the_noise_reaches_the_bars_as_three_standard_deviations(theta: float) -> None:
    """L(θ) = 3θ has no truncation error: the bars are the noise term alone, 3σ/h for
    Richardson and 3·2.55σ/h for the one-sided difference, with σ the measured noise."""
    t = np.array([theta])
    noise = 1e-6
    steps = _represented(t, MULTIPLES)
    losses = 3.0 * (t + steps)
    sigma = loss_rounding(losses, noise=noise, eps=EPS, base=3.0 * t)
    assert sigma.tolist() == [noise]
    estimate, bar = richardson(losses, steps, noise=noise, eps=EPS, base=3.0 * t)
    assert estimate == pytest.approx(3.0, rel=1e-6)
    assert bar == pytest.approx(3 * noise / np.abs(steps[0]), rel=1e-6)
    for side in (1, -1):
        s = _represented(t, (side, 2 * side))
        estimate, bar = one_sided(3.0 * t, 3.0 * (t + s), s, noise=noise, eps=EPS)
        assert estimate == pytest.approx(3.0, rel=1e-6)
        assert bar == pytest.approx(3 * 2.55 * noise / np.abs(s[0]), rel=1e-6)
