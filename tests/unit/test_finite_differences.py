"""Finite differences: the estimate, its error bar, kink detection and the noise estimate."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import numpy as np
import pytest

from gradcheck.numeric import finite_differences as fd
from gradcheck.numeric.directional import CentralOracle
from gradcheck.numeric.evaluator import Evaluator
from gradcheck.numeric.noise import estimate_noise, noise_along_random_direction

Array = np.ndarray


def _oracle(fn, theta: Array) -> CentralOracle:  # type: ignore[no-untyped-def]
    evaluator = Evaluator(fn)
    params = {"t": theta}
    loss = evaluator(params)
    return CentralOracle(evaluator, params, loss, noise_along_random_direction(evaluator, params))


def _coordinate(oracle: CentralOracle, theta: Array, i: int) -> tuple[float, float, bool]:
    v = np.zeros_like(theta)
    v[i] = 1.0
    d = oracle.refine(oracle.derivative({"t": v}), {"t": v})
    u = float(d.direction["t"][i])
    return d.estimate / u, d.error_bar / abs(u), d.kinked


def test_estimate_lies_within_its_error_bar_for_smooth_functions() -> None:
    # L(θ) = Σ exp(θ) sin(θ²): every derivative known in closed form.
    theta = np.array([-1.3, -0.2, 0.0, 0.7, 2.5])
    oracle = _oracle(lambda p: np.sum(np.exp(p["t"]) * np.sin(p["t"] ** 2)), theta)
    exact = np.exp(theta) * (np.sin(theta**2) + 2 * theta * np.cos(theta**2))
    for i in range(theta.size):
        estimate, bar, kinked = _coordinate(oracle, theta, i)
        assert abs(estimate - exact[i]) <= bar, (i, estimate, exact[i], bar)
        assert abs(estimate - exact[i]) < 1e-9 * max(1, abs(exact[i]))
        assert not kinked


def test_a_kink_between_the_steps_is_flagged_and_a_smooth_point_is_not() -> None:
    # |θ| has a kink at 0; the entry at 1e-9 is within one step of it, the others are not.
    theta = np.array([1e-9, 0.5, -0.5])
    oracle = _oracle(lambda p: np.sum(np.abs(p["t"])), theta)
    flags = [_coordinate(oracle, theta, i)[2] for i in range(3)]
    assert flags == [True, False, False]
    assert _coordinate(oracle, theta, 1)[0] == pytest.approx(1.0, rel=1e-9)


def test_a_loss_computed_in_float32_gets_a_float32_sized_step_and_an_honest_error_bar() -> None:
    theta = np.array([0.3, -1.1, 2.0])

    def loss(p: Mapping[str, Array]) -> float:
        t = p["t"].astype(np.float32)
        return float(np.sum(np.tanh(t) * t))

    oracle = _oracle(loss, theta)
    assert oracle.step > 1e-4  # ε_eff^(1/3) with ε_eff ≈ 1e-7, not float64's 6e-6
    exact = np.tanh(theta) + theta * (1 - np.tanh(theta) ** 2)
    for i in range(3):
        estimate, bar, _ = _coordinate(oracle, theta, i)
        assert abs(estimate - exact[i]) <= bar < 1e-2


@pytest.mark.parametrize("sigma", [1e-12, 1e-8, 1e-5])
def test_noise_estimate_recovers_the_level_of_added_noise(sigma: float) -> None:
    rng = np.random.default_rng(0)
    estimates = []
    for _ in range(40):
        noise = rng.normal(0.0, sigma, size=9)
        table = np.cos(0.3 + np.arange(9) * 1e-7) + noise
        estimates.append(estimate_noise(lambda t, table=table: table[round(t / 1e-7)], 1e-7))
    # The estimator is unbiased in σ² up to the tiny smooth part; its median is within 2×.
    assert sigma / 2 < np.median(estimates) < 2 * sigma


def test_a_huber_threshold_crossed_on_one_side_gets_a_one_sided_difference() -> None:
    from gradcheck.nn.spec import NetworkSpec
    from gradcheck.numeric.core_differences import core_differences

    # ŷ = W·x + b with residual ŷ − y = 1 + 1e-7, just past δ = 1: the steps θ − h and θ − 2h
    # cross the threshold, θ + h and θ + 2h do not, so the forward one-sided difference is
    # exact (L is linear in ŷ beyond δ) and the entry is decided, not flagged.
    spec = NetworkSpec((1, 2), hidden="identity", loss="huber")
    params = {"W1": np.array([[1.0], [0.25]]), "b1": np.array([0.0, 0.0])}
    X, y = np.array([[2.0]]), np.array([[1.0 - 1e-7, 0.0]])
    result = core_differences(spec, params, X, y)
    assert not result.unreliable["b1"].any() and not result.unreliable["W1"].any()
    exact_b = np.array([1.0, 0.5])  # clip(r, −1, 1) per output
    np.testing.assert_allclose(result.grads["b1"], exact_b, rtol=1e-9)
    np.testing.assert_allclose(result.grads["W1"], 2.0 * exact_b[:, None], rtol=1e-9)
    assert np.all(np.abs(result.grads["b1"] - exact_b) <= result.error_bars["b1"])


def test_an_entry_whose_steps_cross_kinks_on_both_sides_is_flagged() -> None:
    from gradcheck.nn.spec import NetworkSpec
    from gradcheck.numeric.core_differences import core_differences

    # z = w·x + b = 0 exactly: relu's kink sits at the unperturbed point itself.
    spec = NetworkSpec((1, 1, 1), hidden="relu", loss="mse")
    params = {
        "W1": np.array([[1.0]]),
        "b1": np.array([-1.0]),
        "W2": np.array([[1.0]]),
        "b2": np.array([0.0]),
    }
    X, y = np.array([[1.0]]), np.array([[0.5]])
    result = core_differences(spec, params, X, y)
    assert result.unreliable["b1"].tolist() == [True]
    assert result.unreliable["W1"].tolist() == [[True]]
    assert not result.unreliable["b2"].any()


# The error model's functions take their noise and ε by name only: σ and ε are both small
# positive floats, and a call that swapped them positionally would silently mis-size every
# error bar.
_LOSSES = np.array([[1.0], [0.5], [1.25], [0.25]])
_STEPS = np.array([[1e-3], [-1e-3], [2e-3], [-2e-3]])


@pytest.mark.parametrize(
    "call",
    [
        lambda: fd.loss_rounding(_LOSSES, 1e-16, 2e-16),  # type: ignore[misc]
        lambda: fd.richardson(_LOSSES, _STEPS, 1e-16, 2e-16),  # type: ignore[misc]
        lambda: fd.one_sided(1.0, _LOSSES[:2], _STEPS[:2], 1e-16, 2e-16),  # type: ignore[misc]
    ],
    ids=["loss_rounding", "richardson", "one_sided"],
)
def test_noise_and_eps_must_be_named(call: Callable[[], object]) -> None:
    with pytest.raises(TypeError):
        call()


def test_a_numerical_gradient_is_frozen() -> None:
    result = fd.NumericalGradient(1.0, {}, {}, {}, 0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.loss = 2.0  # type: ignore[misc]
