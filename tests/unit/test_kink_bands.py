"""The kink bands of ``numeric.kinks`` against their formulas, on hand-made caches: the band
of each layer, the edge of "on a kink", the nudge to each side, and the entries that depend on
the subgradient chosen. These close survivors of ``make mutation`` in kinks.py."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from gradcheck.nn.activations import ACTIVATIONS
from gradcheck.nn.network import ForwardPass, forward
from gradcheck.nn.spec import NetworkSpec
from gradcheck.numeric import kinks
from gradcheck.numeric.steps import KINK_BAND_ULPS

EPS = float(np.finfo(np.float64).eps)
TINY = float(np.finfo(np.float64).tiny)


def _case(seed: int = 0) -> tuple[NetworkSpec, dict[str, np.ndarray], np.ndarray, np.ndarray]:
    spec = NetworkSpec((3, 4, 2), hidden="relu", loss="mse")
    rng = np.random.default_rng(seed)
    params = {n: rng.normal(0, 1, s) for n, s in spec.param_shapes().items()}
    return spec, params, rng.normal(0, 1, (5, 3)), rng.normal(0, 1, (5, 2))


def test_each_layers_band_is_its_rounding_plus_the_spread_carried_in() -> None:
    spec, params, X, _ = _case()
    cache = forward(spec, params, X)
    bands = kinks._bands(spec, params, cache)
    first = KINK_BAND_ULPS * EPS * (np.abs(X) @ np.abs(params["W1"]).T + np.abs(params["b1"]))
    slope = (cache.zs[0] > 0).astype(np.float64) + 1.0  # |relu′(z)| + 1
    second = (
        KINK_BAND_ULPS
        * EPS
        * (np.abs(cache.activations[1]) @ np.abs(params["W2"]).T + np.abs(params["b2"]))
        + (slope * first) @ np.abs(params["W2"]).T
    )
    np.testing.assert_allclose(bands[0], first, rtol=1e-12, atol=0)
    np.testing.assert_allclose(bands[1], second, rtol=1e-12, atol=0)


@pytest.mark.parametrize("kink", [0.0, 2.5, -4.0])
def test_on_a_kink_means_within_the_band_of_it(kink: float) -> None:
    band = np.full(4, 1e-9)
    z = kink + np.array([0.0, 0.999e-9, -0.999e-9, 1.001e-9])
    assert kinks._on_kink(z, kink, band, terms=3).tolist() == [True, True, True, False]


def test_the_subnormal_margin_grows_with_the_number_of_terms() -> None:
    z = np.array([5.0 * TINY])
    assert kinks._on_kink(z, 0.0, np.zeros(1), terms=3)  # 6·tiny
    assert not kinks._on_kink(z, 0.0, np.zeros(1), terms=2)  # 4·tiny


def _on_kink_cache(
    spec: NetworkSpec, X: np.ndarray, params: dict[str, np.ndarray], z: float
) -> ForwardPass:
    cache = forward(spec, params, X)
    zs = list(cache.zs)
    zs[0] = zs[0].copy()
    zs[0][0, 0] = z
    return replace(cache, zs=tuple(zs))


def test_a_kink_entry_is_nudged_to_each_side_and_nothing_else_moves() -> None:
    spec, params, X, _ = _case()
    cache = _on_kink_cache(spec, X, params, 0.0)
    bands = kinks._bands(spec, params, cache)
    step = np.sqrt(EPS)
    for side in (-1.0, 1.0):
        moved = kinks._nudged(spec, cache, bands, side)
        assert moved.zs[0][0, 0] == side * step
        changed = moved.zs[0] != cache.zs[0]
        assert changed[0, 0] and changed.sum() == 1
        np.testing.assert_array_equal(moved.zs[1], cache.zs[1])


def test_the_entries_that_depend_on_the_subgradient_are_exactly_those_of_the_kinked_unit() -> None:
    spec, params, X, y = _case()
    cache = _on_kink_cache(spec, X, params, 0.0)
    mask = kinks.subgradient_ambiguity(spec, params, cache, y)
    assert mask is not None
    # Unit 0 of layer 1 is on its kink for example 0 only: its weights and bias depend on
    # relu′(0); nothing else does.
    assert mask["W1"][0].all() and not mask["W1"][1:].any()
    assert mask["b1"].tolist() == [True, False, False, False]
    assert not mask["W2"].any() and not mask["b2"].any()  # A⁽¹⁾ is relu(0) = 0 either way
    assert kinks.subgradient_ambiguity(spec, params, forward(spec, params, X), y) is None


def test_the_subnormal_margin_counts_the_terms_of_the_layers_input() -> None:
    """With W1 = 0, b1 = 0 and X = 0 the band is 0, so only the subnormal margin decides: a
    z of 1.9·2·(n_in + 1)·tiny sits on the kink with n_in = 5 inputs (6 terms), and would not
    with the 3 terms of the next layer's width or the 2 of a bitwise slip."""
    spec = NetworkSpec((5, 2, 1), hidden="relu", loss="mse")
    params = {n: np.zeros(s) for n, s in spec.param_shapes().items()}
    params["W2"] = np.ones((1, 2))
    X, y = np.zeros((1, 5)), np.ones((1, 1))
    cache = _on_kink_cache(spec, X, params, 1.9 * 6 * TINY)
    zs = [z.copy() for z in cache.zs]
    zs[0][0, 1] = 1.0  # the other unit well clear of its kink
    cache = replace(cache, zs=tuple(zs))
    mask = kinks.subgradient_ambiguity(spec, params, cache, y)
    assert mask is not None
    # Nudged to each side, relu′ is 0 or 1 there, so b1's first entry depends on it.
    assert mask["b1"].tolist() == [True, False]


def test_a_residual_layer_carries_the_spread_it_received_on_to_the_next() -> None:
    spec = NetworkSpec((3, 4, 4, 2), hidden="relu", loss="mse", residual=(2,))
    rng = np.random.default_rng(1)
    params = {n: rng.normal(0, 1, s) for n, s in spec.param_shapes().items()}
    X = rng.normal(0, 1, (5, 3))
    cache = forward(spec, params, X)
    bands = kinks._bands(spec, params, cache)

    def rounding(layer: int) -> np.ndarray:
        a = np.abs(cache.activations[layer - 1])
        return (
            KINK_BAND_ULPS * EPS * (a @ np.abs(params[f"W{layer}"]).T + np.abs(params[f"b{layer}"]))
        )

    def slope(layer: int) -> np.ndarray:
        return (cache.zs[layer - 1] > 0).astype(np.float64) + 1.0

    spread1 = slope(1) * bands[0]
    spread2 = slope(2) * bands[1] + spread1  # layer 2 adds its input back in
    np.testing.assert_allclose(bands[1], rounding(2) + spread1 @ np.abs(params["W2"]).T, rtol=1e-12)
    np.testing.assert_allclose(bands[2], rounding(3) + spread2 @ np.abs(params["W3"]).T, rtol=1e-12)


def test_a_deep_layers_subnormal_margin_counts_its_own_inputs_in_the_nudge() -> None:
    """Layer 3 of widths (2, 3, 7, 2, 1) sums 7 inputs (8 terms); layer 2 only 3. With W3 and
    b3 zero its band is 0, so a z of 1.9·8·tiny is on the kink only by layer 3's own margin
    (2·8·tiny), and the nudge must move it, or both sides see relu′ = 1 and nothing looks
    ambiguous."""
    spec = NetworkSpec((2, 3, 7, 2, 1), hidden="relu", loss="mse")
    rng = np.random.default_rng(2)
    params = {n: rng.normal(0, 1, s) for n, s in spec.param_shapes().items()}
    params["W3"], params["b3"] = np.zeros((2, 7)), np.zeros(2)
    X, y = rng.normal(0, 1, (1, 2)), np.full((1, 1), 5.0)
    cache = forward(spec, params, X)
    zs = [z.copy() for z in cache.zs]
    zs[2][0] = [1.9 * 8 * TINY, 1.0]  # unit 0 on its kink by the margin, unit 1 clear
    cache = replace(cache, zs=tuple(zs))
    mask = kinks.subgradient_ambiguity(spec, params, cache, y)
    assert mask is not None
    assert mask["b3"].tolist() == [True, False]


def test_a_kink_whose_two_slopes_are_neither_zero_nor_one_is_ambiguous() -> None:
    """elu(alpha=0.5) at z = 0: its left slope is 0.5 and its right one 1."""
    spec = NetworkSpec((3, 4, 2), hidden="elu(alpha=0.5)", loss="mse")
    rng = np.random.default_rng(0)
    params = {n: rng.normal(0, 1, s) for n, s in spec.param_shapes().items()}
    X, y = rng.normal(0, 1, (5, 3)), rng.normal(0, 1, (5, 2))
    cache = _on_kink_cache(spec, X, params, 0.0)
    mask = kinks.subgradient_ambiguity(spec, params, cache, y)
    assert mask is not None
    assert mask["b1"].tolist() == [True, False, False, False]


@pytest.mark.parametrize("name", [n for n in sorted(ACTIVATIONS) if ACTIVATIONS.get(n).kinks])
def test_every_kinked_activation_takes_its_left_derivative_at_the_kink(name: str) -> None:
    """torch's convention (relu′(0) = 0); tests/mutation/equivalents/kinks.toml relies on it."""
    act = ACTIVATIONS.get(name)
    for kink in act.kinks:
        z = np.array([kink, np.nextafter(kink, -np.inf), np.nextafter(kink, np.inf)])
        at, below, above = act.df(z, act.f(z))
        assert at == below, (at, below, above)
