"""check_layer: CS231n-style layers (forward → (out, cache), backward(dout, cache) → grads)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from gradcheck import check_gradients
from gradcheck.errors import GradcheckError, NonFiniteError, ShapeError
from gradcheck.layer_check import check_layer

Array = np.ndarray
Inputs = dict[str, Any]
Factory = Callable[[np.dtype[Any]], Inputs]


def _rng() -> np.random.Generator:
    return np.random.default_rng(1234)


# Layers, written as a CS231n student would ----------------------------------------------


def affine_forward(x: Array, w: Array, b: Array) -> tuple[Array, Any]:
    return x @ w + b, (x, w)


def affine_backward(dout: Array, cache: Any) -> tuple[Array, Array, Array]:
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def relu_forward(x: Array) -> tuple[Array, Any]:
    return np.maximum(x, 0), x


def relu_backward(dout: Array, cache: Any) -> Array:
    return dout * (cache > 0)


def sigmoid_forward(x: Array) -> tuple[Array, Any]:
    s = 1 / (1 + np.exp(-x))
    return s, s


def sigmoid_backward(dout: Array, cache: Any) -> Array:
    return dout * cache * (1 - cache)


def softmax_forward(x: Array) -> tuple[Array, Any]:
    e = np.exp(x - np.max(x.real, axis=1, keepdims=True))
    s = e / e.sum(axis=1, keepdims=True)
    return s, s


def softmax_backward(dout: Array, cache: Any) -> Array:
    s = cache
    return s * (dout - np.sum(dout * s, axis=1, keepdims=True))


def batchnorm_forward(x: Array, gamma: Array, beta: Array) -> tuple[Array, Any]:
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    inv = 1 / np.sqrt(var + 1e-5)
    xhat = (x - mu) * inv
    return gamma * xhat + beta, (xhat, gamma, inv)


def batchnorm_backward(dout: Array, cache: Any) -> tuple[Array, Array, Array]:
    xhat, gamma, inv = cache
    n = dout.shape[0]
    dxhat = dout * gamma
    dx = inv / n * (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def leaky_relu_forward(x: Array, slope: float) -> tuple[Array, Any]:
    return np.where(x.real > 0, x, slope * x), (x, slope)


def leaky_relu_backward(dout: Array, cache: Any) -> tuple[Array, None]:
    x, slope = cache
    return np.where(x > 0, dout, slope * dout), None  # one entry per input: None for slope


def softmax_loss_forward(x: Array, y: Array) -> tuple[Array, Any]:
    """Mean cross-entropy of integer labels ``y``: a 0-d output and an integer input."""
    shifted = x - np.max(x.real, axis=1, keepdims=True)
    log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    n = x.shape[0]
    return -np.sum(log_p[np.arange(n), y]) / n, (np.exp(log_p), y)


def softmax_loss_backward(dout: Array, cache: Any) -> Array:
    p, y = cache
    n = p.shape[0]
    dx = p.copy()
    dx[np.arange(n), y] -= 1
    return dout * dx / n


def _away_from_zero(shape: tuple[int, ...], rng: np.random.Generator) -> Array:
    """Normal samples at least 0.1 from 0, so that no entry sits on relu's kink."""
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < 0.1, np.sign(x + 1e-3) * 0.5, x)


LAYERS: dict[str, tuple[Callable[..., Any], Callable[..., Any], Factory]] = {
    "affine": (
        affine_forward,
        affine_backward,
        lambda dt: {
            "x": _rng().standard_normal((4, 3)).astype(dt),
            "w": _rng().standard_normal((3, 5)).astype(dt),
            "b": _rng().standard_normal(5).astype(dt),
        },
    ),
    "relu": (
        relu_forward,
        relu_backward,
        lambda dt: {"x": _away_from_zero((4, 5), _rng()).astype(dt)},
    ),
    "sigmoid": (
        sigmoid_forward,
        sigmoid_backward,
        lambda dt: {"x": _rng().standard_normal((3, 4)).astype(dt)},
    ),
    "softmax": (
        softmax_forward,
        softmax_backward,
        lambda dt: {"x": _rng().standard_normal((3, 4)).astype(dt)},
    ),
    "batchnorm": (
        batchnorm_forward,
        batchnorm_backward,
        lambda dt: {
            "x": (3 * _rng().standard_normal((6, 4)) + 1).astype(dt),
            "gamma": _rng().uniform(0.5, 2, 4).astype(dt),
            "beta": _rng().standard_normal(4).astype(dt),
        },
    ),
    "leaky_relu": (
        leaky_relu_forward,
        leaky_relu_backward,
        lambda dt: {"x": _away_from_zero((4, 3), _rng()).astype(dt), "slope": 0.1},
    ),
    "softmax_loss": (
        softmax_loss_forward,
        softmax_loss_backward,
        lambda dt: {
            "x": _rng().standard_normal((5, 3)).astype(dt),
            "y": np.array([0, 2, 1, 1, 0]),
        },
    ),
}


# Correct layers pass ---------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_a_correct_layer_passes(layer: str, dtype: str) -> None:
    forward, backward, make = LAYERS[layer]
    inputs = make(np.dtype(dtype))
    result = check_layer(forward, backward, inputs)
    assert result.verdict == "pass", result.summary()
    floating = [n for n, v in inputs.items() if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
    assert [r.tensor for r in result.records] == floating
    assert all(r.verdict == "pass" for r in result.records)
    assert result.meta["layer"] == forward.__name__
    assert all(result.gradients[n].dtype == np.dtype(dtype) for n in floating)


def test_a_correct_layer_passes_in_probe_mode() -> None:
    rng = _rng()
    inputs = {
        "x": rng.standard_normal((10, 20)),
        "w": rng.standard_normal((20, 30)),
        "b": rng.standard_normal(30),
    }
    result = check_layer(affine_forward, affine_backward, inputs, mode="probe")
    assert result.mode == "probe"
    assert result.verdict == "pass", result.summary()


# Planted bugs fail, and the failing record says where -------------------------------------


def _affine_inputs(shape_x: tuple[int, int] = (4, 3), n_out: int = 5) -> tuple[Inputs, Array]:
    rng = np.random.default_rng(7)
    inputs = {
        "x": rng.standard_normal(shape_x),
        "w": rng.standard_normal((shape_x[1], n_out)),
        "b": rng.standard_normal(n_out),
    }
    dout = rng.standard_normal((shape_x[0], n_out))
    return inputs, dout


@pytest.mark.parametrize("mode", ["full", "probe"])
def test_one_scaled_entry_of_dw_fails_at_that_entry_with_both_values(mode: str) -> None:
    inputs, dout = _affine_inputs()

    def backward(d: Array, cache: Any) -> tuple[Array, Array, Array]:
        dx, dw, db = affine_backward(d, cache)
        dw = dw.copy()
        dw[1, 2] *= 1.5
        return dx, dw, db

    result = check_layer(affine_forward, backward, inputs, dout=dout, mode=mode)  # type: ignore[arg-type]
    assert result.verdict == "fail"
    (failure,) = result.failures
    assert failure.tensor == "w" and failure.index == (1, 2), result.summary()
    true = float(inputs["x"][:, 1] @ dout[:, 2])  # ∂/∂w[1,2] of Σ (x @ w + b) ⊙ dout
    assert failure.value_a == pytest.approx(1.5 * true, rel=1e-12)
    assert failure.value_b == pytest.approx(true, rel=1e-8)
    assert "w[1,2]" in result.summary()


def test_dx_multiplied_by_w_instead_of_its_transpose_fails_on_x_only() -> None:
    inputs, dout = _affine_inputs((4, 3), 3)  # square w, so the wrong product has the right shape

    def backward(d: Array, cache: Any) -> tuple[Array, Array, Array]:
        x, w = cache
        return d @ w, x.T @ d, d.sum(axis=0)

    result = check_layer(affine_forward, backward, inputs, dout=dout)
    assert result.verdict == "fail"
    assert [r.tensor for r in result.failures] == ["x"], result.summary()


def test_db_not_summed_over_the_batch_fails_on_b_only() -> None:
    inputs, dout = _affine_inputs()

    def backward(d: Array, cache: Any) -> tuple[Array, Array, Array]:
        dx, dw, _ = affine_backward(d, cache)
        return dx, dw, d[0]  # the first example's share only

    result = check_layer(affine_forward, backward, inputs, dout=dout)
    assert [r.tensor for r in result.failures] == ["b"], result.summary()
    (failure,) = result.failures
    (j,) = failure.index
    assert failure.value_a == pytest.approx(dout[0, j], rel=1e-12)
    assert failure.value_b == pytest.approx(dout[:, j].sum(), rel=1e-8)


def test_a_relu_mask_on_the_wrong_side_fails() -> None:
    x = _away_from_zero((4, 5), _rng())

    def backward(d: Array, cache: Any) -> Array:
        return d * (cache < 0)

    result = check_layer(relu_forward, backward, {"x": x})
    assert result.verdict == "fail"
    (failure,) = result.failures
    assert failure.tensor == "x"
    # Where it fails, exactly one of the two sides is zero: the mask passed the wrong entries.
    assert (failure.value_a == 0) != (failure.value_b == 0)


def test_a_single_entry_bug_in_a_float32_layer_is_located() -> None:
    inputs, dout = _affine_inputs()
    inputs32 = {k: v.astype(np.float32) for k, v in inputs.items()}

    def backward(d: Array, cache: Any) -> tuple[Array, Array, Array]:
        dx, dw, db = affine_backward(d, cache)
        dx = dx.copy()
        dx[3, 0] += 0.01 * np.max(np.abs(dx))
        return dx, dw, db

    result = check_layer(affine_forward, backward, inputs32, dout=dout.astype(np.float32))
    assert [(r.tensor, r.index) for r in result.failures] == [("x", (3, 0))], result.summary()


# The forms backward may return ------------------------------------------------------------


def leaky_affine_forward(x: Array, w: Array, slope: float) -> tuple[Array, Any]:
    z = x @ w
    return np.where(z.real > 0, z, slope * z), (x, w, z, slope)


def _leaky_affine_grads(dout: Array, cache: Any) -> tuple[Array, Array]:
    x, w, z, slope = cache
    dz = np.where(z > 0, dout, slope * dout)
    return dz @ w.T, x.T @ dz


def _leaky_affine_inputs() -> Inputs:
    rng = np.random.default_rng(3)
    return {"x": rng.standard_normal((4, 3)), "w": rng.standard_normal((3, 2)), "slope": 0.2}


BACKWARD_FORMS: dict[str, Callable[[Array, Any], Any]] = {
    "tuple_per_float_input": lambda d, c: _leaky_affine_grads(d, c),
    "list_per_float_input": lambda d, c: list(_leaky_affine_grads(d, c)),
    "tuple_per_input_with_none": lambda d, c: (*_leaky_affine_grads(d, c), None),
    "dict": lambda d, c: dict(zip(("x", "w"), _leaky_affine_grads(d, c), strict=True)),
}


@pytest.mark.parametrize("form", sorted(BACKWARD_FORMS))
def test_every_accepted_return_form_is_matched_to_its_inputs(form: str) -> None:
    result = check_layer(leaky_affine_forward, BACKWARD_FORMS[form], _leaky_affine_inputs())
    assert result.verdict == "pass", result.summary()
    assert [r.tensor for r in result.records] == ["x", "w"]
    assert result.gradients["x"].shape == (4, 3) and result.gradients["w"].shape == (3, 2)


@pytest.mark.parametrize("form", [*sorted(BACKWARD_FORMS), "tuple_per_wrt_name"])
def test_wrt_checks_only_the_named_input(form: str) -> None:
    backward = BACKWARD_FORMS.get(form, lambda d, c: (_leaky_affine_grads(d, c)[1],))
    result = check_layer(leaky_affine_forward, backward, _leaky_affine_inputs(), wrt=["w"])
    assert result.verdict == "pass", result.summary()
    assert [r.tensor for r in result.records] == ["w"]
    assert list(result.gradients) == ["w"]


def test_wrt_picks_the_right_entry_of_a_tuple_so_a_bug_elsewhere_is_not_seen() -> None:
    def wrong_dx(d: Array, cache: Any) -> tuple[Array, Array]:
        dx, dw = _leaky_affine_grads(d, cache)
        return 2 * dx, dw

    inputs = _leaky_affine_inputs()
    assert check_layer(leaky_affine_forward, wrong_dx, inputs, wrt=["w"]).verdict == "pass"
    failing = check_layer(leaky_affine_forward, wrong_dx, inputs, wrt="x")
    assert [r.tensor for r in failing.failures] == ["x"]


def test_a_single_array_is_the_gradient_of_the_only_checked_input() -> None:
    x = _rng().standard_normal((3, 4))
    dout = np.random.default_rng(5).standard_normal(x.shape)
    result = check_layer(sigmoid_forward, sigmoid_backward, {"x": x}, dout=dout)
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(result.gradients["x"], dout * s * (1 - s), rtol=1e-12)
    assert result.meta["dout_shape"] == (3, 4)


def test_the_default_dout_is_seeded() -> None:
    x = _rng().standard_normal((3, 4))
    first = check_layer(sigmoid_forward, sigmoid_backward, {"x": x}, seed=3)
    again = check_layer(sigmoid_forward, sigmoid_backward, {"x": x}, seed=3)
    other = check_layer(sigmoid_forward, sigmoid_backward, {"x": x}, seed=4)
    np.testing.assert_array_equal(first.gradients["x"], again.gradients["x"])
    assert not np.allclose(first.gradients["x"], other.gradients["x"])
    assert first.meta["loss"] == again.meta["loss"] != other.meta["loss"]


# Bad usage is a clear error ----------------------------------------------------------------


def _affine_bad_count(d: Array, cache: Any) -> tuple[Array, Array]:
    return affine_backward(d, cache)[:2]


def _affine_one_array(d: Array, cache: Any) -> Array:
    return affine_backward(d, cache)[1]


def _not_a_pair(x: Array, w: Array, b: Array) -> Array:
    return x @ w + b


def _a_triple(x: Array, w: Array, b: Array) -> tuple[Array, Any, Any]:
    return x @ w + b, (x, w), None


def _dropout_without_state(x: Array, w: Array, b: Array) -> tuple[Array, Any]:
    mask = np.random.default_rng().random((x.shape[0], w.shape[1])) > 0.5  # fresh seed each call
    return (x @ w + b) * mask, (x, w, mask)


@pytest.mark.parametrize(
    ("forward", "backward", "keywords", "error", "match"),
    [
        pytest.param(
            _not_a_pair, affine_backward, {}, GradcheckError, r"must return \(out, cache\)",
            id="forward_returns_an_array",
        ),
        pytest.param(
            _a_triple, affine_backward, {}, GradcheckError, "tuple of length 3",
            id="forward_returns_a_triple",
        ),
        pytest.param(
            _dropout_without_state, affine_backward, {}, GradcheckError, "not deterministic",
            id="non_deterministic_forward",
        ),
        pytest.param(
            affine_forward, affine_backward, {"wrt": ["v"]}, GradcheckError,
            r"wrt names 'v', which is not an input \(x, w, b\)", id="wrt_names_a_missing_input",
        ),
        pytest.param(
            affine_forward, affine_backward, {"wrt": []}, GradcheckError, "wrt is empty",
            id="wrt_is_empty",
        ),
        pytest.param(
            affine_forward, affine_backward, {"dout": np.ones((5, 4))}, ShapeError,
            r"dout has shape \(5, 4\), but affine_forward's output is \(4, 5\)",
            id="dout_of_the_wrong_shape",
        ),
        pytest.param(
            affine_forward, affine_backward, {"dout": np.full((4, 5), np.nan)}, NonFiniteError,
            "dout contains NaN", id="dout_with_nan",
        ),
        pytest.param(
            affine_forward, _affine_bad_count, {}, GradcheckError,
            r"returned 2 gradients; expected one per checked input \(3: x, w, b\)",
            id="backward_returns_too_few_gradients",
        ),
        pytest.param(
            affine_forward, _affine_one_array, {}, GradcheckError,
            r"returned one array, but 3 inputs are checked \(x, w, b\)",
            id="backward_returns_one_array_for_three_inputs",
        ),
        pytest.param(
            affine_forward, lambda d, c: {"x": d}, {}, GradcheckError, "no gradient for w, b",
            id="backward_dict_misses_inputs",
        ),
        pytest.param(
            affine_forward, lambda d, c: 3.0, {}, GradcheckError,
            "must return an array, a tuple or a dict, got float", id="backward_returns_a_float",
        ),
        pytest.param(
            affine_forward, affine_backward, {"rtol": -1.0}, GradcheckError,
            "rtol must be a finite number >= 0", id="negative_rtol",
        ),
    ],
)  # fmt: skip
def test_bad_usage_raises_a_gradcheck_error_naming_the_problem(
    forward: Callable[..., Any],
    backward: Callable[..., Any],
    keywords: dict[str, Any],
    error: type[Exception],
    match: str,
) -> None:
    inputs, _ = _affine_inputs()
    with pytest.raises(error, match=match):
        check_layer(forward, backward, inputs, **keywords)


@pytest.mark.parametrize("inputs", [{}, [("x", np.ones(3))]], ids=["empty", "not_a_mapping"])
def test_inputs_must_be_a_non_empty_dict(inputs: Any) -> None:
    with pytest.raises(GradcheckError, match="non-empty dict"):
        check_layer(relu_forward, relu_backward, inputs)


def test_wrt_naming_a_non_float_input_is_an_error() -> None:
    inputs = _leaky_affine_inputs()
    with pytest.raises(GradcheckError, match="input 'slope' is a float, not a floating-point"):
        check_layer(leaky_affine_forward, BACKWARD_FORMS["dict"], inputs, wrt=["w", "slope"])
    labels = {"x": np.ones((2, 3)), "y": np.array([0, 1])}
    with pytest.raises(GradcheckError, match="input 'y' is a ndarray, not a floating-point"):
        check_layer(softmax_loss_forward, softmax_loss_backward, labels, wrt="y")


def test_a_layer_without_float_inputs_has_nothing_to_check() -> None:
    with pytest.raises(GradcheckError, match="nothing to check"):
        check_layer(relu_forward, relu_backward, {"x": np.arange(4)})


def test_an_integer_output_is_an_error() -> None:
    with pytest.raises(GradcheckError, match="output must be a float array"):
        check_layer(lambda x: ((x > 0).astype(int), x), relu_backward, {"x": np.ones(3)})


# Tolerances ----------------------------------------------------------------------------------


def _relative_error(size: float) -> Callable[[Array, Any], tuple[Array, Array, Array]]:
    def backward(d: Array, cache: Any) -> tuple[Array, Array, Array]:
        dx, dw, db = affine_backward(d, cache)
        return dx, dw * (1 + size), db

    return backward


def test_a_relative_error_of_1e_8_fails_by_default_and_passes_with_rtol_1e_6() -> None:
    inputs, dout = _affine_inputs()
    backward = _relative_error(1e-8)
    strict = check_layer(affine_forward, backward, inputs, dout=dout)
    assert [r.tensor for r in strict.failures] == ["w"], strict.summary()
    assert strict.failures[0].rel_err == pytest.approx(1e-8, rel=1e-3)
    loose = check_layer(affine_forward, backward, inputs, dout=dout, rtol=1e-6)
    assert loose.verdict == "pass", loose.summary()
    assert loose.tolerance.rtol == 1e-6
    # A relative error of 1e-4 is beyond rtol=1e-6 and still fails.
    worse = check_layer(affine_forward, _relative_error(1e-4), inputs, dout=dout, rtol=1e-6)
    assert [r.tensor for r in worse.failures] == ["w"]


def test_atol_is_relative_to_the_largest_gradient_entry() -> None:
    inputs, dout = _affine_inputs()
    backward = _relative_error(1e-8)
    assert check_layer(affine_forward, backward, inputs, dout=dout, atol=1e-6).verdict == "pass"


def _quadratic() -> tuple[Callable[..., object], Callable[..., dict[str, Array]], dict[str, Array]]:
    def loss(p: dict[str, Array]) -> object:
        return np.sum(p["a"] ** 3)

    def grad(p: dict[str, Array]) -> dict[str, Array]:
        return {"a": 3 * p["a"] ** 2 * (1 + 1e-8)}

    return loss, grad, {"a": np.array([0.5, -1.5, 2.0])}


def test_check_gradients_takes_the_same_tolerance_keywords() -> None:
    loss, grad, params = _quadratic()
    assert check_gradients(loss, grad, params).verdict == "fail"
    assert check_gradients(loss, grad, params, rtol=1e-6).verdict == "pass"


@pytest.mark.parametrize(
    "keywords",
    [{"rtol": -1.0}, {"atol": -1e-9}, {"rtol": float("nan")}, {"atol": float("inf")}],
    ids=["negative_rtol", "negative_atol", "nan_rtol", "inf_atol"],
)
def test_check_gradients_rejects_a_bad_tolerance(keywords: dict[str, float]) -> None:
    loss, grad, params = _quadratic()
    name = next(iter(keywords))
    with pytest.raises(GradcheckError, match=f"{name} must be a finite number >= 0"):
        check_gradients(loss, grad, params, **keywords)  # type: ignore[arg-type]


# Inputs are never modified --------------------------------------------------------------------


def test_inputs_and_dout_are_not_modified_by_a_layer_that_writes_in_place() -> None:
    inputs, dout = _affine_inputs()
    before = {k: v.copy() for k, v in inputs.items()}
    dout_before = dout.copy()

    def vandal_forward(x: Array, w: Array, b: Array) -> tuple[Array, Any]:
        out = x @ w + b
        x *= 0.0  # the cache keeps the zeroed x: the layer's backward is then wrong for dw
        b += 1.0
        return out, (x, w)

    def vandal_backward(d: Array, cache: Any) -> tuple[Array, Array, Array]:
        x, w = cache
        grads = d @ w.T, x.T @ d, d.sum(axis=0)
        d[...] = np.nan
        w[...] = 0.0
        return grads

    result = check_layer(vandal_forward, vandal_backward, inputs, dout=dout)
    for name in before:
        np.testing.assert_array_equal(inputs[name], before[name], err_msg=name)
    np.testing.assert_array_equal(dout, dout_before)
    # The check itself saw the layer as written: dw = 0ᵀ @ dout is wrong, dx and db are right.
    assert [r.tensor for r in result.failures] == ["w"], result.summary()


def test_a_correct_layer_that_overwrites_its_cache_in_backward_still_passes() -> None:
    x = _rng().standard_normal((3, 4))
    x_before = x.copy()

    def backward(d: Array, cache: Any) -> Array:
        s = cache
        dx = d * s * (1 - s)
        s[...] = 0.0
        return dx

    assert check_layer(sigmoid_forward, backward, {"x": x}).verdict == "pass"
    np.testing.assert_array_equal(x, x_before)


def test_a_settings_dict_input_is_not_modified() -> None:
    settings = {"mode": "train", "calls": 0}

    def counting_relu(x: Array, bn_param: dict[str, Any]) -> tuple[Array, Any]:
        bn_param["calls"] += 1  # like CS231n's batchnorm updating its running means
        return np.maximum(x, 0), x

    inputs = {"x": _away_from_zero((3, 3), _rng()), "bn_param": settings}
    result = check_layer(counting_relu, lambda d, c: (d * (c > 0), None), inputs)
    assert result.verdict == "pass"
    assert settings == {"mode": "train", "calls": 0}


def test_a_nan_output_is_not_called_non_deterministic() -> None:
    def log_forward(x: Array) -> tuple[Array, Any]:
        with np.errstate(invalid="ignore"):
            return np.log(x), x

    with pytest.raises(GradcheckError) as raised:
        check_layer(log_forward, lambda d, x: d / x, {"x": np.array([1.0, -1.0, 2.0])})
    assert "not deterministic" not in str(raised.value)
