"""The NumPy core: the delta recursion against a hand-written one and against central
differences, reductions, dtypes, validation messages, and no mutation of the inputs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from gradcheck.errors import DomainError, DTypeError, NonFiniteError, ShapeError
from gradcheck.nn.activations import ACTIVATIONS
from gradcheck.nn.losses import LOSSES
from gradcheck.nn.network import forward, loss_and_grads, loss_value
from gradcheck.nn.spec import NetworkSpec

LOSS_NAMES = [*sorted(LOSSES), "huber(delta=0.5)"]
RESIDUAL_WIDTHS = (3, 4, 4, 4, 2)
FD_STEP = 1e-6


def _params(spec: NetworkSpec, seed: int = 0, scale: float = 0.6) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        name: (scale * rng.normal(size=shape)).astype(spec.dtype)
        for name, shape in spec.param_shapes().items()
    }


def _batch(spec: NetworkSpec, batch: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """X and targets y from the domain the spec's loss declares."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(batch, spec.widths[0])).astype(spec.dtype)
    shape = (batch, spec.widths[-1])
    kind = spec.loss_fn.target
    if kind == "labels":
        y = rng.integers(0, spec.widths[-1], size=batch)
    elif kind == "probability":
        y = rng.uniform(0.0, 1.0, size=shape).astype(spec.dtype)
    else:
        y = rng.normal(size=shape).astype(spec.dtype)
    return X, y


def _central_differences(
    spec: NetworkSpec, params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray
) -> dict[str, np.ndarray]:
    """∂L/∂θ_i ≈ (L(θ + h·e_i) − L(θ − h·e_i)) / 2h for every entry of every tensor (float64)."""
    grads = {}
    for name, array in params.items():
        grad = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            shifted = {k: v.copy() for k, v in params.items()}
            shifted[name][index] = array[index] + FD_STEP
            up = loss_value(spec, shifted, X, y)
            shifted[name][index] = array[index] - FD_STEP
            down = loss_value(spec, shifted, X, y)
            grad[index] = (up - down) / (2 * FD_STEP)
        grads[name] = grad
    return grads


def _assert_grads_close(
    actual: dict[str, np.ndarray], expected: dict[str, np.ndarray], rtol: float, atol: float
) -> None:
    assert list(actual) == list(expected)
    for name in expected:
        assert actual[name].shape == expected[name].shape, name
        np.testing.assert_allclose(
            actual[name], expected[name], rtol=rtol, atol=atol, err_msg=f"gradient of {name}"
        )


# (a) the delta recursion, written out ------------------------------------------------------


def test_matches_the_textbook_delta_recursion() -> None:
    spec = NetworkSpec((3, 5, 4, 2), hidden="tanh", output="tanh", loss="mse")
    params = _params(spec)
    X, y = _batch(spec, 6)
    W = [None, params["W1"], params["W2"], params["W3"]]
    b = [None, params["b1"], params["b2"], params["b3"]]

    a, zs = [X], [None]
    for layer in (1, 2, 3):
        zs.append(a[-1] @ W[layer].T + b[layer])
        a.append(np.tanh(zs[-1]))
    yhat = a[3]
    loss = 0.5 * np.sum((yhat - y) ** 2)

    def tanh_prime(z: np.ndarray) -> np.ndarray:
        return 1 - np.tanh(z) ** 2

    delta = {3: (yhat - y) * tanh_prime(zs[3])}
    delta[2] = (delta[3] @ W[3]) * tanh_prime(zs[2])
    delta[1] = (delta[2] @ W[2]) * tanh_prime(zs[1])
    expected = {}
    for layer in (1, 2, 3):
        expected[f"W{layer}"] = delta[layer].T @ a[layer - 1]
        expected[f"b{layer}"] = delta[layer].sum(axis=0)

    value, grads = loss_and_grads(spec, params, X, y)
    assert value == pytest.approx(loss, rel=1e-14)
    _assert_grads_close(grads, expected, rtol=1e-12, atol=1e-15)


def test_residual_forward_adds_the_layer_input() -> None:
    spec = NetworkSpec(RESIDUAL_WIDTHS, hidden="tanh", residual=(2, 3))
    params = _params(spec)
    X, _ = _batch(spec, 3)
    cache = forward(spec, params, X)
    a = X
    for layer in range(1, spec.depth + 1):
        z = a @ params[f"W{layer}"].T + params[f"b{layer}"]
        f = np.tanh(z) if layer < spec.depth else z
        a = f + a if layer in (2, 3) else f
        np.testing.assert_allclose(cache.zs[layer - 1], z, rtol=1e-14)
        np.testing.assert_allclose(cache.fs[layer - 1], f, rtol=1e-14)
        np.testing.assert_allclose(cache.activations[layer], a, rtol=1e-14)
    assert cache.activations[0] is X
    assert cache.output is cache.activations[-1]
    assert len(cache.zs) == len(cache.fs) == spec.depth == len(cache.activations) - 1


# (b) every gradient against central differences --------------------------------------------


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_residual_network_matches_central_differences_for_each_loss(loss: str) -> None:
    spec = NetworkSpec(RESIDUAL_WIDTHS, hidden="tanh", loss=loss, residual=(2, 3))
    params = _params(spec)
    X, y = _batch(spec, 4)
    _, grads = loss_and_grads(spec, params, X, y)
    _assert_grads_close(grads, _central_differences(spec, params, X, y), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("hidden", sorted(ACTIVATIONS))
def test_residual_network_matches_central_differences_for_each_activation(hidden: str) -> None:
    spec = NetworkSpec(RESIDUAL_WIDTHS, hidden=hidden, output=hidden, residual=(2, 3))
    params = _params(spec, seed=2)
    X, y = _batch(spec, 4, seed=3)
    _, grads = loss_and_grads(spec, params, X, y)
    _assert_grads_close(grads, _central_differences(spec, params, X, y), rtol=1e-6, atol=1e-8)


# (c) reductions ----------------------------------------------------------------------------


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_mean_reduction_is_the_sum_divided_by_the_batch(loss: str) -> None:
    batch = 8  # a power of two, so dividing by it is exact and the comparison can be too
    total = NetworkSpec(RESIDUAL_WIDTHS, loss=loss, residual=(2,))
    mean = total.replace(reduction="mean")
    params = _params(total)
    X, y = _batch(total, batch)
    sum_value, sum_grads = loss_and_grads(total, params, X, y)
    mean_value, mean_grads = loss_and_grads(mean, params, X, y)
    assert mean_value == sum_value / batch
    for name in total.param_names:
        np.testing.assert_array_equal(mean_grads[name], sum_grads[name] / batch, err_msg=name)


def test_mean_reduction_for_a_batch_that_is_not_a_power_of_two() -> None:
    total = NetworkSpec((3, 4, 2))
    params = _params(total)
    X, y = _batch(total, 3)
    sum_value, sum_grads = loss_and_grads(total, params, X, y)
    mean_value, mean_grads = loss_and_grads(total.replace(reduction="mean"), params, X, y)
    assert mean_value == pytest.approx(sum_value / 3, rel=1e-15)
    _assert_grads_close(mean_grads, {k: v / 3 for k, v in sum_grads.items()}, 1e-14, 0.0)


# (d) batch size 1 --------------------------------------------------------------------------


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_a_batch_of_one_example(loss: str) -> None:
    spec = NetworkSpec((3, 4, 2), loss=loss)
    params = _params(spec)
    X, y = _batch(spec, 1)
    value, grads = loss_and_grads(spec, params, X, y)
    assert np.isfinite(value)
    assert {k: v.shape for k, v in grads.items()} == spec.param_shapes()
    _assert_grads_close(grads, _central_differences(spec, params, X, y), rtol=1e-6, atol=1e-8)


# (e) float32 end to end --------------------------------------------------------------------


def _assert_float32_end_to_end(spec: NetworkSpec) -> None:
    params = _params(spec)
    X, y = _batch(spec, 5)
    value, grads = loss_and_grads(spec, params, X, y)
    assert isinstance(value, float)
    assert np.isfinite(value)
    for name, grad in grads.items():
        assert grad.dtype == np.float32, f"{name} gradient is {grad.dtype}"
    cache = forward(spec, params, X)
    for kind in ("zs", "fs", "activations"):
        for index, array in enumerate(getattr(cache, kind)):
            assert array.dtype == np.float32, f"ForwardPass.{kind}[{index}] is {array.dtype}"
    # And float32 stays close to the float64 answer.
    spec64 = spec.replace(dtype="float64")
    y64 = y if y.dtype.kind == "i" else y.astype(np.float64)
    _, grads64 = loss_and_grads(
        spec64, {k: v.astype(np.float64) for k, v in params.items()}, X.astype(np.float64), y64
    )
    _assert_grads_close(grads, grads64, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_float32_end_to_end_for_each_loss(loss: str) -> None:
    _assert_float32_end_to_end(
        NetworkSpec(RESIDUAL_WIDTHS, loss=loss, residual=(2, 3), dtype="float32")
    )


@pytest.mark.parametrize("hidden", sorted(ACTIVATIONS))
def test_float32_end_to_end_for_each_activation(hidden: str) -> None:
    _assert_float32_end_to_end(
        NetworkSpec(RESIDUAL_WIDTHS, hidden=hidden, output=hidden, residual=(2,), dtype="float32")
    )


# (f) validation ----------------------------------------------------------------------------

SPEC = NetworkSpec((3, 4, 2))


def _error(spec: NetworkSpec, params: object, X: object, y: object) -> Exception:
    with pytest.raises(Exception) as info:  # noqa: PT011 — the caller checks the type
        loss_and_grads(spec, params, X, y)  # type: ignore[arg-type]
    return info.value


def _valid(spec: NetworkSpec = SPEC) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    return (_params(spec), *_batch(spec, 5))


def test_missing_and_extra_parameters_are_named() -> None:
    params, X, y = _valid()
    del params["b2"]
    params["W3"] = np.zeros((2, 2))
    error = _error(SPEC, params, X, y)
    assert isinstance(error, ShapeError)
    assert "missing b2" in str(error)
    assert "unexpected W3" in str(error)
    assert "expected W1, b1, W2, b2" in str(error)


def test_parameters_must_be_a_mapping() -> None:
    _, X, y = _valid()
    error = _error(SPEC, [np.zeros((4, 3))], X, y)
    assert isinstance(error, ShapeError)
    assert "must be a mapping" in str(error)


@pytest.mark.parametrize(
    ("name", "shape"), [("W1", (3, 4)), ("b1", (4, 1)), ("W2", (2, 4, 1)), ("b2", ())]
)
def test_wrong_parameter_shape_names_the_tensor_and_both_shapes(
    name: str, shape: tuple[int, ...]
) -> None:
    params, X, y = _valid()
    params[name] = np.zeros(shape)
    error = _error(SPEC, params, X, y)
    assert isinstance(error, ShapeError)
    expected = SPEC.param_shapes()[name]
    assert str(error).startswith(f"{name} has shape {shape}, expected {expected}")


def test_float64_parameters_with_a_float32_spec_are_a_dtype_error() -> None:
    spec32 = SPEC.replace(dtype="float32")
    params, X, y = _valid(spec32)
    params["W2"] = params["W2"].astype(np.float64)
    error = _error(spec32, params, X, y)
    assert isinstance(error, DTypeError)
    assert "W2 has dtype float64 but the network runs in float32" in str(error)


def test_float32_inputs_with_a_float64_spec_are_a_dtype_error() -> None:
    params, X, y = _valid()
    error = _error(SPEC, params, X.astype(np.float32), y)
    assert isinstance(error, DTypeError)
    assert str(error).startswith("X has dtype float32 but the network runs in float64")


def test_non_numeric_arrays_are_a_dtype_error() -> None:
    params, X, y = _valid()
    params["b1"] = np.array(["a", "b", "c", "d"])
    error = _error(SPEC, params, X, y)
    assert isinstance(error, DTypeError)
    assert "b1 must be a numeric array" in str(error)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", ["X", "W1", "b2", "y"])
def test_non_finite_values_are_named(where: str, bad: float) -> None:
    params, X, y = _valid()
    arrays = {"X": X, "y": y, **params}
    arrays[where].flat[1] = bad
    error = _error(SPEC, params, X, y)
    assert isinstance(error, NonFiniteError)
    assert str(error).startswith(f"{where}[")
    assert "inputs must be finite" in str(error)


def test_non_finite_message_prints_a_plain_index() -> None:
    params, X, y = _valid()
    X[0, 1] = np.nan
    assert str(_error(SPEC, params, X, y)).startswith("X[0, 1] is nan")


@pytest.mark.parametrize(
    ("X", "fragment"),
    [
        (np.zeros((5, 2)), "X has shape (5, 2), expected (batch, 3)"),
        (np.zeros(3), "X has shape (3,), expected (batch, 3)"),
        (np.zeros((0, 3)), "X has an empty batch"),
    ],
    ids=["wrong-width", "one-d", "empty"],
)
def test_bad_inputs_are_shape_errors(X: np.ndarray, fragment: str) -> None:
    params, _, y = _valid()
    error = _error(SPEC, params, X, y[: X.shape[0]] if X.ndim == 2 else y)
    assert isinstance(error, ShapeError)
    assert fragment in str(error)


def test_targets_of_the_wrong_shape_are_a_shape_error() -> None:
    params, X, _ = _valid()
    error = _error(SPEC, params, X, np.zeros((5, 3)))
    assert isinstance(error, ShapeError)
    assert "targets y have shape (5, 3), expected (5, 2)" in str(error)


def test_bce_target_outside_unit_interval_is_a_domain_error() -> None:
    spec = NetworkSpec((3, 4, 2), loss="bce")
    params, X, y = _valid(spec)
    y[2, 1] = 1.25
    error = _error(spec, params, X, y)
    assert isinstance(error, DomainError)
    assert "targets must lie in [0, 1]" in str(error)


def test_softmax_ce_label_out_of_range_is_a_domain_error() -> None:
    spec = NetworkSpec((3, 4, 2), loss="softmax_ce")
    params, X, _ = _valid(spec)
    error = _error(spec, params, X, np.array([0, 1, 2, 0, 1]))
    assert isinstance(error, DomainError)
    assert "labels must lie in [0, 2)" in str(error)


def test_saturated_bce_output_is_a_domain_error() -> None:
    spec = NetworkSpec((1, 1), loss="bce")
    params = {"W1": np.array([[100.0]]), "b1": np.zeros(1)}
    error = _error(spec, params, np.array([[10.0]]), np.array([[1.0]]))  # σ(1000) = 1.0
    assert isinstance(error, DomainError)
    assert "use bce_logits" in str(error)


def _overflowing_mse() -> None:
    """ŷ = 1e200 is finite, but ½(ŷ − y)² overflows."""
    spec = NetworkSpec((1, 1), hidden="identity")
    params = {"W1": np.array([[1.0]]), "b1": np.zeros(1)}
    loss_and_grads(spec, params, np.array([[1e200]]), np.array([[0.0]]))


def test_overflowing_loss_is_a_non_finite_error() -> None:
    with np.errstate(over="ignore"), pytest.raises(NonFiniteError, match="loss mse is inf"):
        _overflowing_mse()


def test_overflowing_loss_raises_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(NonFiniteError):
            _overflowing_mse()


# (g) no mutation ---------------------------------------------------------------------------


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_inputs_are_not_mutated(loss: str) -> None:
    spec = NetworkSpec(RESIDUAL_WIDTHS, loss=loss, residual=(2, 3))
    params, X, y = _valid(spec)
    before = ({k: v.copy() for k, v in params.items()}, X.copy(), y.copy())
    _, grads = loss_and_grads(spec, params, X, y)
    for name in params:
        np.testing.assert_array_equal(params[name], before[0][name], err_msg=name)
        assert not np.shares_memory(grads[name], params[name])
    np.testing.assert_array_equal(X, before[1])
    np.testing.assert_array_equal(y, before[2])
    assert sorted(params) == sorted(before[0])


# (h) integer arrays ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_integer_arrays_are_accepted_and_converted(dtype: str) -> None:
    spec = NetworkSpec((2, 3, 1), dtype=dtype)
    int_params = {
        "W1": np.array([[1, -2], [0, 3], [2, 1]]),
        "b1": np.array([1, 0, -1]),
        "W2": np.array([[2, -1, 1]]),
        "b2": np.array([0]),
    }
    X = np.array([[1, 2], [-1, 0], [3, -2]])
    y = np.array([[1], [0], [2]])
    value, grads = loss_and_grads(spec, int_params, X, y)
    hidden = np.tanh(X @ int_params["W1"].T + int_params["b1"])
    yhat = hidden @ int_params["W2"].T + int_params["b2"]
    assert value == pytest.approx(0.5 * np.sum((yhat - y) ** 2), rel=1e-6)
    float_params = {k: v.astype(dtype) for k, v in int_params.items()}
    expected_value, expected = loss_and_grads(spec, float_params, X.astype(dtype), y.astype(dtype))
    assert value == expected_value
    for name in spec.param_names:
        assert grads[name].dtype == np.dtype(dtype)
        np.testing.assert_array_equal(grads[name], expected[name], err_msg=name)
