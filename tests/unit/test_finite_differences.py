"""Finite differences: the estimate, its error bar, kink detection and the noise estimate."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest

from gradcheck.numeric.finite_differences import Probe, central_differences
from gradcheck.numeric.noise import estimate_noise

Array = np.ndarray


def _black_box(fn):  # type: ignore[no-untyped-def]
    return lambda params: Probe(float(fn(params)))


def test_estimate_lies_within_its_error_bar_for_smooth_functions() -> None:
    # L(θ) = Σ exp(θ) sin(θ²): every derivative known in closed form.
    theta = np.array([-1.3, -0.2, 0.0, 0.7, 2.5])
    params = {"t": theta}
    result = central_differences(
        _black_box(lambda p: np.sum(np.exp(p["t"]) * np.sin(p["t"] ** 2))), params, dtype="float64"
    )
    exact = np.exp(theta) * (np.sin(theta**2) + 2 * theta * np.cos(theta**2))
    error = np.abs(result.grads["t"] - exact)
    assert np.all(error <= result.error_bars["t"]), (error, result.error_bars["t"])
    assert np.all(error < 1e-9 * np.maximum(1, np.abs(exact)))
    assert not result.unreliable["t"].any()


def test_evaluations_are_counted_and_inputs_untouched() -> None:
    params = {"a": np.arange(6.0).reshape(2, 3), "b": np.ones(2)}
    before = {k: v.copy() for k, v in params.items()}
    calls = []

    def loss(p: Mapping[str, Array]) -> Probe:
        calls.append(1)
        return Probe(float(np.sum(p["a"] ** 2) + np.sum(p["b"] ** 3)))

    result = central_differences(loss, params, dtype="float64")
    assert result.evaluations == len(calls) == 1 + 9 + 4 * 8
    for name in params:
        np.testing.assert_array_equal(params[name], before[name])
    np.testing.assert_allclose(result.grads["a"], 2 * params["a"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(result.grads["b"], 3 * params["b"] ** 2, rtol=1e-9)


def test_a_kink_crossing_is_flagged_when_the_function_reports_its_sides() -> None:
    # |θ| has a kink at 0; the entry at 1e-9 is within one step of it, the others are not.
    theta = np.array([1e-9, 0.5, -0.5])

    def loss(p: Mapping[str, Array]) -> Probe:
        return Probe(float(np.sum(np.abs(p["t"]))), sides=np.packbits(p["t"] > 0).tobytes())

    result = central_differences(loss, {"t": theta}, dtype="float64")
    assert result.unreliable["t"].tolist() == [True, False, False]
    np.testing.assert_allclose(result.grads["t"][1:], [1.0, -1.0], rtol=1e-9)


def test_float32_estimate_has_a_larger_but_honest_error_bar() -> None:
    theta = np.array([0.3, -1.1, 2.0], dtype=np.float32)
    result = central_differences(
        _black_box(lambda p: np.sum(np.tanh(p["t"]) * p["t"])), {"t": theta}, dtype="float32"
    )
    t = theta.astype(np.float64)
    exact = np.tanh(t) + t * (1 - np.tanh(t) ** 2)
    error = np.abs(result.grads["t"].astype(np.float64) - exact)
    assert result.grads["t"].dtype == np.float32
    assert np.all(error <= result.error_bars["t"])
    assert np.all(result.error_bars["t"] < 1e-2)


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
