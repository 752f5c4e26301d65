"""The activations' in-place forms and the complex-step-safe primitives, against their
definitions: ``apply(z, out)`` is ``f(z)`` and ``backprop(g, z, a, out)`` is ``g·f′(z)``, in
float64, float32 and complex128 (where the real-only ``f_into``/``backprop_into`` must not
be used), into a fresh buffer and into ``g`` itself; ``real_part``, ``analytic_clip`` and
``analytic_log1p`` on the inputs that reach their every branch; the kink conventions of the
parametrised entries; ``Activation`` is frozen and the registered defaults are the published
ones. Parametrised over the registry, so a new entry is tested here on registration."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from gradcheck.nn.activations import (
    ACTIVATIONS,
    INF,
    analytic_clip,
    analytic_log1p,
    real_part,
)

NAMES = [*sorted(ACTIVATIONS), "leaky_relu(slope=0.2)", "elu(alpha=0.5)"]
# 0 exactly (every kink), both sides of it, and far out on both sides.
Z = np.array([[-3.0, -0.5, 0.0], [0.25, 1.5, 12.0]])
G = np.array([[0.5, -2.0, 1.5], [-1.0, 3.0, 0.75]])


def _inputs(dtype: str) -> tuple[np.ndarray, np.ndarray]:
    if dtype == "complex128":
        # Im z < 0 at Re z = 0: np.maximum's lexicographic order on complex numbers then
        # differs from analytic_clip's (relu's f_into must not be used on complex z).
        return Z - 1e-3j, G + 0.5j
    return Z.astype(dtype), G.astype(dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32", "complex128"])
@pytest.mark.parametrize("name", NAMES)
def test_apply_into_a_buffer_is_f(name: str, dtype: str) -> None:
    act = ACTIVATIONS.get(name)
    z, _ = _inputs(dtype)
    out = np.full_like(z, np.nan)
    result = act.apply(z, out=out)
    assert result is out
    np.testing.assert_array_equal(out, act.f(z))
    np.testing.assert_array_equal(act.apply(z), act.f(z))


@pytest.mark.parametrize("dtype", ["float64", "float32", "complex128"])
@pytest.mark.parametrize("name", NAMES)
def test_backprop_into_a_buffer_or_into_g_is_g_times_df(name: str, dtype: str) -> None:
    act = ACTIVATIONS.get(name)
    z, g = _inputs(dtype)
    a = act.f(z)
    expected = g * act.df(z, a)
    np.testing.assert_array_equal(act.backprop(g, z, a), expected)
    out = np.full_like(z, np.nan)
    assert act.backprop(g, z, a, out=out) is out
    np.testing.assert_array_equal(out, expected)
    g_copy = g.copy()
    assert act.backprop(g_copy, z, a, out=g_copy) is g_copy
    np.testing.assert_array_equal(g_copy, expected)


@pytest.mark.parametrize("name", NAMES)
def test_every_kink_takes_its_left_derivative(name: str) -> None:
    """torch's convention: relu′(0) = 0, leaky_relu′(0) = slope, elu′(0) = α."""
    act = ACTIVATIONS.get(name)
    for kink in act.kinks:
        z = np.array([kink, np.nextafter(kink, -INF)])
        at, below = act.df(z, act.f(z))
        assert at == below


def test_real_part_is_re_z_and_no_copy_of_a_real_array() -> None:
    z = np.array([1.5 + 2j, -3 - 1j])
    re = real_part(z)
    assert re.dtype == np.float64
    np.testing.assert_array_equal(re, [1.5, -3.0])
    x = np.array([1.0, -2.0])
    assert real_part(x) is x


def test_analytic_clip_of_a_complex_array_takes_the_bound_outside_it() -> None:
    z = np.array([-5 + 1j, -1 + 1j, 0.5 + 1j, 4 + 1j])
    np.testing.assert_array_equal(analytic_clip(z, -2.0, 3.0), [-2.0, -1 + 1j, 0.5 + 1j, 3.0])
    np.testing.assert_array_equal(analytic_clip(z, 0.0, INF), [0.0, 0.0, 0.5 + 1j, 4 + 1j])
    np.testing.assert_array_equal(analytic_clip(z, -INF, 0.0), [-5 + 1j, -1 + 1j, 0.0, 0.0])


@pytest.mark.parametrize(("lo", "hi"), [(0.0, INF), (-INF, 0.0), (-1.0, 2.0), (-INF, INF)])
def test_analytic_clip_of_a_real_array_is_np_clip(lo: float, hi: float) -> None:
    z = np.array([-np.inf, -3.0, -0.0, 0.0, 1.0, 5.0, np.inf, np.nan])
    np.testing.assert_array_equal(analytic_clip(z, lo, hi), np.clip(z, lo, hi))


@pytest.mark.parametrize("w", [0.5 + 0.7j, -0.3 - 2j, 3 + 4j, 1e-10 + 1e-3j, -1e-8 + 0.2j])
def test_analytic_log1p_of_a_complex_number_is_log_of_one_plus_it(w: complex) -> None:
    """log|1 + w| = ½·log1p(2a + a² + b²) (accurate for small a and b), arg = atan2(b, 1 + a)."""
    a, b = w.real, w.imag
    expected = complex(0.5 * math.log1p(2 * a + a * a + b * b), math.atan2(b, 1 + a))
    got = complex(analytic_log1p(np.array([w]))[0])
    assert got.real == pytest.approx(expected.real, rel=1e-14, abs=0)
    assert got.imag == pytest.approx(expected.imag, rel=1e-14, abs=0)


def test_an_activation_is_frozen() -> None:
    act = ACTIVATIONS.get("relu")
    with pytest.raises(dataclasses.FrozenInstanceError):
        act.name = "other"  # type: ignore[misc]


def test_the_registered_defaults_are_the_published_ones() -> None:
    """torch's defaults: leaky_relu's slope 0.01, elu's alpha 1."""
    assert ACTIVATIONS.defaults("leaky_relu") == {"slope": 0.01}
    assert ACTIVATIONS.defaults("elu") == {"alpha": 1.0}
    assert ACTIVATIONS.get("elu").f(np.array([-1.0]))[0] == pytest.approx(math.expm1(-1.0))
