"""gradcheck.jax.check_grads as a drop-in for jax.test_util.check_grads: same signature,
None on a pass, AssertionError naming the entry on a failure, a warning when nothing could
be decided; and bugs JAX's own check_grads lets through."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.reference

jax = pytest.importorskip("jax")

import jax.numpy as jnp  # noqa: E402  (after the skip)
from jax import test_util  # noqa: E402

import gradcheck.jax as gj  # noqa: E402
from gradcheck.errors import GradcheckError  # noqa: E402
from tests.jax import planted  # noqa: E402

RNG = np.random.default_rng(1)
X64 = RNG.standard_normal((2, 3))
X32 = X64.astype(np.float32)
jax_check_grads: Any = test_util.check_grads  # untyped in jax
ENTRY = "∂out[1,2]/∂args[0][1,2]"  # the planted entry, as the summary names it


def test_the_signature_is_jaxs() -> None:
    ours = inspect.signature(gj.check_grads).parameters
    theirs = inspect.signature(jax_check_grads).parameters
    assert [(p.name, p.default) for p in ours.values()] == [
        (p.name, p.default) for p in theirs.values()
    ]


@pytest.mark.parametrize("order", [1, 2])
def test_a_correct_function_returns_none(order: int) -> None:
    gj.check_grads(lambda x, w: jnp.tanh(x @ w), (X32, X32.T), order)


def test_a_wrong_rule_raises_assertion_error_naming_the_entry() -> None:
    with pytest.raises(AssertionError, match=r"^fail") as raised:
        gj.check_grads(planted.sin_jvp(1e-4), (X64,), 1, modes=["fwd"])
    assert ENTRY in str(raised.value)
    assert "jvp=" in str(raised.value)


@pytest.mark.parametrize(
    ("x", "scale"), [(X64, 1e-5), (X32, 1e-3)], ids=["float64 1e-5", "float32 1e-3"]
)
def test_bugs_jaxs_own_check_grads_passes_are_caught(x: np.ndarray, scale: float) -> None:
    f = planted.sin_vjp(scale)
    with jax.enable_x64(x.dtype == np.float64):
        jax_check_grads(f, (x,), 1, modes=["rev"])  # passes
    with pytest.raises(AssertionError, match=r"∂out\[1,2\]/∂args\[0\]\[1,2\]"):
        gj.check_grads(f, (x,), 1, modes=["rev"])


def test_a_custom_vjp_passes_in_the_default_modes_where_jaxs_raises() -> None:
    f = planted.sin_vjp(0.0)
    with pytest.raises(TypeError, match="custom_vjp"):
        jax_check_grads(f, (X32,), 1)
    gj.check_grads(f, (X32,), 1)


def test_inconclusive_warns_instead_of_raising() -> None:
    with pytest.warns(gj.InconclusiveWarning, match="inconclusive"):
        gj.check_grads(jnp.abs, (np.zeros(1, np.float32),), 1)


def test_eps_is_accepted_and_ignored() -> None:
    gj.check_grads(jnp.sin, (X32,), 1, eps=1e-2)  # JAX's step, far too coarse
    with pytest.raises(AssertionError, match=r"∂out\[1,2\]/∂args\[0\]\[1,2\]"):
        gj.check_grads(planted.sin_vjp(1e-4), (X64,), 1, modes=["rev"], eps=1e-2)


def test_tolerances_by_dtype_as_jax_takes_them() -> None:
    f = planted.sin_vjp(1e-3)
    loose = {np.float32: 1e-2, np.float64: 1e-12}
    gj.check_grads(f, (X32,), 1, modes=["rev"], rtol=loose, atol=loose)
    with pytest.raises(AssertionError):  # float32 not in the dict: gradcheck's default
        gj.check_grads(f, (X32,), 1, modes=["rev"], rtol={np.float64: 1e-2})
    gj.check_grads(f, (X32,), 1, modes=["rev"], rtol=1e-2, atol=1e-2)


def test_an_order_jax_would_take_but_gradcheck_cannot_is_a_gradcheck_error() -> None:
    with pytest.raises(GradcheckError, match="order must be 1 or 2, not 3"):
        gj.check_grads(jnp.sin, (X32,), 3)
