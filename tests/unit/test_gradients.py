"""check_gradients: verdicts, localisation, cost, determinism and bad input."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import ClassVar

import numpy as np
import pytest

from gradcheck import check_gradients
from gradcheck.errors import DTypeError, GradcheckError, NonFiniteError, ShapeError
from gradcheck.numeric.evaluator import LossFunctionError
from gradcheck.numeric.probes import ProbeSettings

Array = np.ndarray


class TanhNet:
    """A two-layer tanh MLP with MSE, written plainly as a user would (complex-safe unless
    ``real_only``, which routes the loss through abs² and defeats the complex step)."""

    def __init__(self, n_in: int, hidden: int, seed: int = 0, real_only: bool = False):
        rng = np.random.default_rng(seed)
        self.X = rng.standard_normal((6, n_in))
        self.y = rng.standard_normal((6, 2))
        self.params = {
            "W1": rng.standard_normal((hidden, n_in)) / math.sqrt(n_in),
            "b1": rng.standard_normal(hidden),
            "W2": rng.standard_normal((2, hidden)) / math.sqrt(hidden),
            "b2": rng.standard_normal(2),
        }
        self.real_only = real_only

    def loss(self, p: Mapping[str, Array]) -> object:
        r = np.tanh(self.X @ p["W1"].T + p["b1"]) @ p["W2"].T + p["b2"] - self.y
        return 0.5 * np.sum(np.abs(r) ** 2) if self.real_only else 0.5 * np.sum(r * r)

    def grad(self, p: Mapping[str, Array]) -> dict[str, Array]:
        a = np.tanh(self.X @ p["W1"].T + p["b1"])
        d2 = a @ p["W2"].T + p["b2"] - self.y
        d1 = (d2 @ p["W2"]) * (1 - a * a)
        return {"W1": d1.T @ self.X, "b1": d1.sum(0), "W2": d2.T @ a, "b2": d2.sum(0)}


def planted(grad, tensor: str, index: tuple[int, ...], size: float):  # type: ignore[no-untyped-def]
    """grad with ``size``·‖g‖∞ added to one entry."""

    def wrong(p: Mapping[str, Array]) -> dict[str, Array]:
        g = {k: np.array(v) for k, v in grad(p).items()}
        g[tensor][index] += size * max(float(np.max(np.abs(v))) for v in g.values())
        return g

    return wrong


@pytest.mark.parametrize("real_only", [False, True], ids=["complex_step", "central"])
@pytest.mark.parametrize("mode", ["full", "probe"])
def test_a_correct_gradient_passes(mode: str, real_only: bool) -> None:
    net = TanhNet(5, 7, real_only=real_only)
    result = check_gradients(net.loss, net.grad, net.params, mode=mode)  # type: ignore[arg-type]
    assert result.verdict == "pass", result.summary()
    assert result.method == ("central" if real_only else "complex_step")
    assert [r.tensor for r in result.records] == ["W1", "b1", "W2", "b2"]


def test_a_loss_that_is_not_analytic_falls_back_to_central_differences_and_says_why() -> None:
    net = TanhNet(3, 4, real_only=True)
    result = check_gradients(net.loss, net.grad, net.params)
    assert result.method == "central"
    assert any("not analytic" in note for note in result.notes)
    with pytest.raises(LossFunctionError, match="complex step requested"):
        check_gradients(net.loss, net.grad, net.params, method="complex_step")


@pytest.mark.parametrize("real_only", [False, True], ids=["complex_step", "central"])
@pytest.mark.parametrize(
    ("n_in", "hidden", "mode"),
    [(1, 2, "full"), (8, 12, "full"), (40, 50, "probe"), (100, 120, "probe")],
)
@pytest.mark.parametrize(("tensor", "index"), [("W1", (1, 0)), ("b1", (1,)), ("b2", (0,))])
def test_an_error_of_1e_6_of_the_largest_entry_is_caught_and_located(
    n_in: int, hidden: int, mode: str, tensor: str, index: tuple[int, ...], real_only: bool
) -> None:
    net = TanhNet(n_in, hidden, seed=n_in, real_only=real_only)
    wrong = planted(net.grad, tensor, index, 1e-6)
    result = check_gradients(net.loss, wrong, net.params, mode=mode)  # type: ignore[arg-type]
    assert result.verdict == "fail"
    assert [(r.tensor, r.index) for r in result.failures] == [(tensor, index)], result.summary()


def test_probe_cost_is_two_evaluations_per_probe_plus_a_logarithmic_search() -> None:
    net = TanhNet(100, 120, real_only=True)
    size = sum(p.size for p in net.params.values())
    settings = ProbeSettings(directions=4, per_tensor=2)
    probes = settings.directions + settings.per_tensor * len(net.params)
    fixed = 1 + 9 + 2 + 2  # L(θ), the noise table, one Richardson refinement, the complex test
    ok = check_gradients(net.loss, net.grad, net.params, mode="probe", probes=settings)
    assert ok.verdict == "pass"
    assert ok.evaluations <= 2 * probes + fixed
    bad = check_gradients(
        net.loss, planted(net.grad, "W1", (3, 7), 1e-6), net.params, mode="probe", probes=settings
    )
    assert bad.localisation is not None and bad.localisation.levels == math.ceil(math.log2(size))
    assert bad.evaluations <= 2 * probes + fixed + 2 + 2 * math.ceil(math.log2(size)) + 4


def test_the_same_seed_gives_the_same_verdict_and_probes() -> None:
    net = TanhNet(30, 40)
    wrong = planted(net.grad, "W1", (5, 5), 1e-4)
    first = check_gradients(net.loss, wrong, net.params, mode="probe", seed=7)
    again = check_gradients(net.loss, wrong, net.params, mode="probe", seed=7)
    assert first.seed == 7 and first.verdict == again.verdict == "fail"
    assert first.probes == again.probes
    assert first.records == again.records


def test_float32_gradients_are_checked_against_float64_derivatives() -> None:
    net = TanhNet(6, 8, seed=3)
    params32 = {k: v.astype(np.float32) for k, v in net.params.items()}

    def grad32(p: Mapping[str, Array]) -> dict[str, Array]:
        return {k: v.astype(np.float32) for k, v in net.grad(p).items()}

    assert check_gradients(net.loss, grad32, params32).verdict == "pass"
    wrong = planted(grad32, "W2", (1, 3), 1e-3)
    result = check_gradients(net.loss, wrong, params32)
    assert [(r.tensor, r.index) for r in result.failures] == [("W2", (1, 3))]


def test_relu_kinks_are_never_a_failure() -> None:
    # Pre-activations exactly at and within one step of relu's kink.
    X = np.array([[1.0, -1.0], [2.0, 0.5], [1e-9, 1.0]])
    params = {"W": np.array([[1.0, 1.0], [0.5, -0.25]]), "b": np.array([0.0, 1e-9])}

    def loss(p: Mapping[str, Array]) -> float:
        return float(np.sum(np.maximum(X @ p["W"].T + p["b"], 0.0) ** 2))

    def grad(p: Mapping[str, Array]) -> dict[str, Array]:
        z = X @ p["W"].T + p["b"]
        d = 2 * np.maximum(z, 0.0)
        return {"W": d.T @ X, "b": d.sum(0)}

    for mode in ("full", "probe"):
        result = check_gradients(loss, grad, params, mode=mode)  # type: ignore[arg-type]
        assert result.verdict in ("pass", "inconclusive"), result.summary()


def test_a_kink_is_detected_from_inconsistent_step_sizes() -> None:
    # |θ| at θ = 0: the slope differs on the two sides; any gradient in [−1, 1] is a subgradient.
    def loss(p: Mapping[str, Array]) -> float:
        return float(np.sum(np.abs(p["t"])))

    result = check_gradients(loss, lambda p: {"t": np.sign(p["t"])}, {"t": np.array([0.0, 2.0])})
    assert result.method == "central"
    (record,) = result.records
    assert record.kink_entries == 1 and record.kink and record.verdict == "pass"


def test_nan_gradient_fails() -> None:
    net = TanhNet(3, 4)

    def nan_grad(p: Mapping[str, Array]) -> dict[str, Array]:
        g = net.grad(p)
        g["b1"][0] = np.nan
        return g

    result = check_gradients(net.loss, nan_grad, net.params)
    assert [r.tensor for r in result.failures] == ["b1"]


def test_inputs_are_never_modified() -> None:
    net = TanhNet(3, 4)
    before = {k: v.copy() for k, v in net.params.items()}

    def vandal(p: dict[str, Array]) -> object:
        value = net.loss(p)
        for v in p.values():
            v[...] = 0.0
        return value

    assert check_gradients(vandal, net.grad, net.params).verdict == "pass"
    for k in before:
        np.testing.assert_array_equal(net.params[k], before[k])


@pytest.mark.parametrize(
    ("loss", "grad", "params", "error", "match"),
    [
        (lambda p: 0.0, lambda p: {"a": np.ones(3)}, {}, ShapeError, "non-empty"),
        (lambda p: 0.0, lambda p: {"a": np.ones(3)}, {"a": [1, 2, 3]}, DTypeError, "float"),
        (lambda p: 0.0, lambda p: {"a": 1}, {"a": [np.nan, 1.0]}, NonFiniteError, "NaN"),
        (lambda p: 0.0, lambda p: {"b": np.ones(2)}, {"a": np.ones(2)}, ShapeError, "expected"),
        (lambda p: 0.0, lambda p: {"a": np.ones(3)}, {"a": np.ones(2)}, ShapeError, r"\(3,\)"),
        (lambda p: 0.0, lambda p: [1.0], {"a": np.ones(2)}, GradcheckError, "dict"),
        (
            lambda p: 1 / 0,
            lambda p: {"a": np.ones(2)},
            {"a": np.ones(2)},
            LossFunctionError,
            "Zero",
        ),
        (
            lambda p: np.ones(2),
            lambda p: {"a": np.ones(2)},
            {"a": np.ones(2)},
            LossFunctionError,
            "scalar",
        ),
        (lambda p: np.nan, lambda p: {"a": np.ones(2)}, {"a": np.ones(2)}, NonFiniteError, "nan"),
    ],
)
def test_bad_input_names_the_problem(loss, grad, params, error, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=match):
        check_gradients(loss, grad, params)


def test_unknown_mode_is_an_error() -> None:
    with pytest.raises(GradcheckError, match="mode"):
        check_gradients(lambda p: 0.0, lambda p: p, {"a": np.ones(1)}, mode="fast")  # type: ignore[arg-type]


class OnKinkRelu:
    """A correct relu network whose first batch row puts every hidden unit exactly on the kink
    (X[0] = 0 and b1 = 0), written as a user would: NumPy, complex-safe (np.where on Re z)."""

    X = np.array([[0.0, 0.0], [2.9, -2.5]])
    y = np.array([[0.0, 0.4], [0.0, -0.6]])
    params: ClassVar[dict[str, Array]] = {
        "W1": np.array(
            [[0.2, -0.2], [0.6, -0.7], [0.7, 0.1], [0.8, 0.0], [-0.1, 0.6], [1.0, -0.3]]
        ),
        "b1": np.zeros(6),
        "W2": np.array([[0.3, -0.7, 0.0, 0.0, 0.0, 0.9], [-0.3, -0.6, 0.0, 0.3, 0.9, 0.2]]),
        "b2": np.array([-0.5, 0.9]),
    }

    def loss(self, p: Mapping[str, Array]) -> object:
        z = self.X @ p["W1"].T + p["b1"]
        r = np.where(np.real(z) > 0, z, 0.0) @ p["W2"].T + p["b2"] - self.y
        return 0.5 * np.sum(r * r)

    def grad(self, p: Mapping[str, Array]) -> dict[str, Array]:
        z = self.X @ p["W1"].T + p["b1"]
        a = np.maximum(z, 0.0)
        d2 = a @ p["W2"].T + p["b2"] - self.y
        d1 = (d2 @ p["W2"]) * (z > 0)
        return {"W1": d1.T @ self.X, "b1": d1.sum(0), "W2": d2.T @ a, "b2": d2.sum(0)}


@pytest.mark.parametrize("method", ["auto", "central"])
@pytest.mark.parametrize("mode", ["full", "probe"])
@pytest.mark.parametrize("seed", range(6))
def test_a_correct_gradient_on_kinks_is_never_failed(mode: str, method: str, seed: int) -> None:
    # The complex step takes one side's slope on a kink, and a direction through many kinks
    # can look smooth; either way a mismatch there must end inconclusive, not failed.
    net = OnKinkRelu()
    result = check_gradients(net.loss, net.grad, net.params, mode=mode, method=method, seed=seed)  # type: ignore[arg-type]
    assert result.verdict in ("pass", "inconclusive"), result.summary()


@pytest.mark.parametrize("mode", ["full", "probe"])
def test_an_error_beside_the_kinks_is_still_caught(mode: str) -> None:
    net = OnKinkRelu()
    wrong = planted(net.grad, "W2", (1, 4), 1e-6)
    result = check_gradients(net.loss, wrong, net.params, mode=mode)  # type: ignore[arg-type]
    assert [(r.tensor, r.index) for r in result.failures] == [("W2", (1, 4))], result.summary()


def test_a_gradient_that_underflows_to_a_subnormal_is_not_a_failure() -> None:
    # Found by Hypothesis through the plugin: with c = 5e-324 the analytic gradient 2·c·a is a
    # subnormal while every difference quotient of the loss rounds to exactly 0.
    c = 5e-324
    params = {"a": np.array([1.0, 2.0])}
    result = check_gradients(
        lambda p: float(c * np.sum(p["a"] ** 2)), lambda p: {"a": 2 * c * p["a"]}, params
    )
    assert result.verdict == "pass"
    # ... while an error of a normal size at the same point still fails.
    wrong = check_gradients(
        lambda p: float(c * np.sum(p["a"] ** 2)), lambda p: {"a": 1e-300 + 2 * c * p["a"]}, params
    )
    assert wrong.verdict == "fail"
