"""Initialisers (shapes, dtype, the variance each scheme promises, seeding) and the optimiser
pieces (the SGD update, global norm, clipping)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradcheck.errors import ShapeError, UnknownNameError
from gradcheck.nn.init import INITIALISERS, init_params
from gradcheck.nn.optim import clip_by_global_norm, clip_by_value, global_norm, sgd_step
from gradcheck.nn.spec import NetworkSpec

SCHEMES = sorted(INITIALISERS)
FAN_IN, FAN_OUT = 600, 400  # a large, non-square layer, so swapping fan_in and fan_out shows


def _expected_std(scheme: str, fan_in: int, fan_out: int) -> float:
    """Glorot & Bengio (2010) and He et al. (2015); U(−r, r) has standard deviation r/√3."""
    variance = {
        "xavier_uniform": 2 / (fan_in + fan_out),
        "xavier_normal": 2 / (fan_in + fan_out),
        "he_uniform": 2 / fan_in,
        "he_normal": 2 / fan_in,
    }[scheme]
    return math.sqrt(variance)


# init_params -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_names_shapes_and_dtype(scheme: str, dtype: str) -> None:
    spec = NetworkSpec((3, 5, 4, 2), dtype=dtype)
    params = init_params(spec, 0, scheme)
    assert list(params) == list(spec.param_names)
    assert {name: p.shape for name, p in params.items()} == spec.param_shapes()
    for name, p in params.items():
        assert p.dtype == np.dtype(dtype), name
        assert np.isfinite(p).all(), name
        if name.startswith("b"):
            np.testing.assert_array_equal(p, 0.0, err_msg=name)
        else:
            assert np.count_nonzero(p) == p.size, name


@pytest.mark.parametrize("scheme", SCHEMES)
def test_sample_spread_matches_the_scheme(scheme: str) -> None:
    W = init_params(NetworkSpec((FAN_IN, FAN_OUT)), 0, scheme)["W1"]
    assert W.shape == (FAN_OUT, FAN_IN)
    expected = _expected_std(scheme, FAN_IN, FAN_OUT)
    assert abs(W.mean()) < 0.05 * expected
    assert W.std() == pytest.approx(expected, rel=0.05)
    if scheme.endswith("uniform"):
        limit = math.sqrt(3) * expected
        assert np.abs(W).max() <= limit
        assert np.abs(W).max() == pytest.approx(limit, rel=0.01)
    else:
        # A normal sample of 240 000 reaches well past √3σ, which a uniform one cannot.
        assert np.abs(W).max() > 3 * expected


def test_seeding_is_reproducible() -> None:
    spec = NetworkSpec((4, 6, 3))
    first, again = init_params(spec, 7), init_params(spec, 7)
    from_generator = init_params(spec, np.random.default_rng(7))
    other = init_params(spec, 8)
    for name in spec.param_names:
        np.testing.assert_array_equal(first[name], again[name])
        np.testing.assert_array_equal(first[name], from_generator[name])
    assert not np.array_equal(first["W1"], other["W1"])
    assert not np.array_equal(first["W1"], init_params(spec, 7, "he_normal")["W1"])


def test_float32_is_the_float64_sample_cast_once() -> None:
    spec = NetworkSpec((4, 6, 3))
    p64 = init_params(spec, 3)
    p32 = init_params(spec.replace(dtype="float32"), 3)
    for name in spec.param_names:
        np.testing.assert_array_equal(p32[name], p64[name].astype(np.float32))


def test_unknown_scheme_is_named() -> None:
    with pytest.raises(UnknownNameError) as info:
        init_params(NetworkSpec((2, 2)), 0, "glorot")
    assert "unknown initialiser 'glorot'" in str(info.value)
    assert all(scheme in str(info.value) for scheme in SCHEMES)


# sgd_step ----------------------------------------------------------------------------------


def _tensors(dtype: type[np.floating] = np.float64, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"W1": rng.normal(size=(3, 2)).astype(dtype), "b1": rng.normal(size=3).astype(dtype)}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_sgd_step_is_w_minus_lr_g(dtype: type[np.floating]) -> None:
    params, grads = _tensors(dtype, 0), _tensors(dtype, 1)
    before = {k: v.copy() for k, v in params.items()}
    new = sgd_step(params, grads, 0.25)  # a power of two: the update is exact
    for name in params:
        assert new[name].dtype == dtype
        np.testing.assert_array_equal(new[name], before[name] - 0.25 * grads[name])
        np.testing.assert_array_equal(params[name], before[name])  # a new dict, inputs untouched


def test_sgd_step_keeps_float32_for_a_numpy_scalar_learning_rate() -> None:
    params, grads = _tensors(np.float32, 0), _tensors(np.float32, 1)
    new = sgd_step(params, grads, np.float64(0.1))  # type: ignore[arg-type]
    assert all(v.dtype == np.float32 for v in new.values())


def test_sgd_step_rejects_mismatched_names() -> None:
    params = _tensors()
    with pytest.raises(ShapeError) as info:
        sgd_step(params, {"W1": params["W1"]}, 0.1)
    assert "gradients ['W1'] do not match parameters ['W1', 'b1']" in str(info.value)


@pytest.mark.parametrize("lr", [0.0, -0.1, math.nan, math.inf])
def test_sgd_step_rejects_a_bad_learning_rate(lr: float) -> None:
    with pytest.raises(ValueError, match="learning rate must be positive and finite"):
        sgd_step(_tensors(), _tensors(), lr)


# norms and clipping ------------------------------------------------------------------------


def test_global_norm_is_the_norm_of_all_entries_together() -> None:
    grads = {"a": np.array([[3.0, 0.0]]), "b": np.array([4.0]), "c": np.array([12.0])}
    assert global_norm(grads) == 13.0
    assert global_norm({}) == 0.0
    rng = np.random.default_rng(0)
    many = {f"g{i}": rng.normal(size=(i + 1, 3)).astype(np.float32) for i in range(4)}
    flat = np.concatenate([g.astype(np.float64).ravel() for g in many.values()])
    assert global_norm(many) == pytest.approx(math.sqrt(float(flat @ flat)), rel=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_clip_by_global_norm_scales_down_to_max_norm(dtype: type[np.floating]) -> None:
    grads = _tensors(dtype)
    norm = global_norm(grads)
    clipped, returned = clip_by_global_norm(grads, norm / 4)
    assert returned == norm
    assert global_norm(clipped) == pytest.approx(norm / 4, rel=1e-6)
    for name in grads:
        assert clipped[name].dtype == dtype
        np.testing.assert_allclose(clipped[name], grads[name] / 4, rtol=1e-6)


def test_clip_by_global_norm_leaves_small_gradients_alone() -> None:
    grads = _tensors()
    norm = global_norm(grads)
    clipped, returned = clip_by_global_norm(grads, 2 * norm)
    assert returned == norm
    for name in grads:
        np.testing.assert_array_equal(clipped[name], grads[name])
    zeros = {"g": np.zeros(3)}
    clipped, returned = clip_by_global_norm(zeros, 1.0)
    assert returned == 0.0
    np.testing.assert_array_equal(clipped["g"], zeros["g"])


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan])
def test_clipping_thresholds_must_be_positive(bad: float) -> None:
    with pytest.raises(ValueError, match="max_norm must be positive"):
        clip_by_global_norm(_tensors(), bad)
    with pytest.raises(ValueError, match="limit must be positive"):
        clip_by_value(_tensors(), bad)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_clip_by_value_clamps_each_entry(dtype: type[np.floating]) -> None:
    grads = {"g": np.array([-3.0, -0.5, 0.0, 0.25, 7.0], dtype=dtype)}
    clipped = clip_by_value(grads, 1.0)
    np.testing.assert_array_equal(clipped["g"], np.array([-1.0, -0.5, 0.0, 0.25, 1.0]))
    assert clipped["g"].dtype == dtype
    np.testing.assert_array_equal(grads["g"], [-3.0, -0.5, 0.0, 0.25, 7.0])
