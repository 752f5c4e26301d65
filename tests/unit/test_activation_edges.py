"""Activations and losses at their edges: the complex step exactly at the branch point 0,
where every piecewise formula chooses its branch from Re z (``analytic_abs``,
``analytic_clip``); and f′ written in terms of the output, ``df_of_output(f(z)) = f′(z)``.
Parametrised over the registries, so a new entry is tested here on registration.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from gradcheck.nn.activations import ACTIVATIONS
from gradcheck.nn.losses import LOSSES
from gradcheck.numeric.steps import COMPLEX_STEP

Array = np.ndarray
T = COMPLEX_STEP


def _elementwise_step(f: Callable[[Array], Array], z: Array) -> Array:
    """Im f(z + i·t)/t entry by entry, for an element-wise f."""
    return np.imag(f(z + 1j * T)) / T


def _complex_step(fn: Callable[[Array], Array], x: Array) -> Array:
    """Im fn(x + i·t·e_k)/t for every entry k of the real array ``x`` (fn scalar-valued)."""
    out = np.empty(x.shape)
    for k in np.ndindex(x.shape):
        z = x.astype(np.complex128)
        z[k] += 1j * T
        out[k] = np.imag(fn(z)) / T
    return out


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_complex_step_at_exactly_zero_is_the_derivative(name: str) -> None:
    act = ACTIVATIONS.get(name)
    z = np.zeros(1)
    slope = float(_elementwise_step(act.f, z)[0])
    df = float(act.df(z, act.f(z))[0])
    if 0.0 in act.kinks:
        # On the kink either one-sided derivative is valid (relu′(0) = 0 here, 1 from the
        # right); the complex step takes the side that Re z = 0 belongs to.
        side = 1e-300
        sides = [float(act.df(s, act.f(s))[0]) for s in (np.array([-side]), np.array([side]))]
        assert any(slope == pytest.approx(v, rel=1e-12, abs=1e-15) for v in sides), (slope, sides)
        assert df in sides or df == pytest.approx(slope, rel=1e-12)
    else:
        assert slope == pytest.approx(df, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_complex_step_matches_df_on_both_sides_of_zero(name: str) -> None:
    act = ACTIVATIONS.get(name)
    z = np.array([-2.5, -1e-3, 1e-3, 0.5, 3.0])
    slopes = _elementwise_step(act.f, z)
    np.testing.assert_allclose(slopes, act.df(z, act.f(z)), rtol=1e-12, atol=1e-15)


def _at_branch_point(name: str) -> tuple[Array, Array]:
    """ŷ and y where the loss's branches meet: ŷ = 0 (logits at 0, the residual ŷ − y = 0 for
    the regression losses), or the middle of its domain where 0 is outside it."""
    loss = LOSSES.get(name)
    lo, hi = loss.output_range
    centre = 0.0 if lo < 0.0 < hi else (lo + hi) / 2
    yhat = np.full((2, 3), centre)
    if loss.target == "labels":
        return yhat, np.array([0, 2])
    if loss.target == "probability":
        return yhat, np.array([[0.0, 0.25, 1.0], [0.5, 0.75, 0.125]])
    return yhat, np.full((2, 3), centre)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_complex_step_at_its_branch_point_is_its_gradient(name: str) -> None:
    loss = LOSSES.get(name)
    yhat, y = _at_branch_point(name)
    slopes = _complex_step(lambda s: loss.value(s, y), yhat)
    np.testing.assert_allclose(slopes, loss.grad(yhat, y), rtol=1e-12, atol=1e-15)


WITH_DF_OF_OUTPUT = [name for name in sorted(ACTIVATIONS) if ACTIVATIONS.get(name).df_of_output]


def test_some_activations_write_df_in_terms_of_the_output() -> None:
    assert {"sigmoid", "tanh"} <= set(WITH_DF_OF_OUTPUT)


@pytest.mark.parametrize("name", WITH_DF_OF_OUTPUT)
def test_df_of_output_of_f_is_df(name: str) -> None:
    act = ACTIVATIONS.get(name)
    assert act.df_of_output is not None
    z = np.linspace(-5.0, 5.0, 41)
    a = act.f(z)
    np.testing.assert_allclose(act.df_of_output(a), act.df(z, a), rtol=1e-12, atol=1e-15)
