"""Functions with custom derivative rules, each right at ``scale=0`` and wrong by the relative
``scale`` in one Jacobian entry otherwise (the tests' planted bugs)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

ENTRY = (1, 2)  # the entry of a (2, 3) input whose derivative is planted wrong


def sin_vjp(scale: float, at: tuple[int, ...] = ENTRY) -> Any:
    """sin with a ``custom_vjp`` rule whose cotangent is off by ``scale`` at ``at``."""

    @jax.custom_vjp
    def f(x: Any) -> Any:
        return jnp.sin(x)

    def fwd(x: Any) -> tuple[Any, Any]:
        return jnp.sin(x), x

    def bwd(x: Any, g: Any) -> tuple[Any]:
        return ((g * jnp.cos(x)).at[at].multiply(1 + scale),)

    f.defvjp(fwd, bwd)
    return f


def sin_jvp(scale: float, at: tuple[int, ...] = ENTRY) -> Any:
    """sin with a ``custom_jvp`` rule whose tangent is off by ``scale`` at ``at``."""

    @jax.custom_jvp
    def f(x: Any) -> Any:
        return jnp.sin(x)

    @f.defjvp
    def rule(primals: tuple[Any], tangents: tuple[Any]) -> tuple[Any, Any]:
        (x,), (u,) = primals, tangents
        return jnp.sin(x), (u * jnp.cos(x)).at[at].multiply(1 + scale)

    return f


def linear_vjp(a: np.ndarray, scale: float) -> Any:
    """x ↦ a·x with a ``custom_vjp`` rule whose largest Jacobian entry is off by ``scale``."""
    wrong = a.copy()
    wrong[np.unravel_index(np.argmax(np.abs(a)), a.shape)] *= 1 + scale

    @jax.custom_vjp
    def f(x: Any) -> Any:
        return a @ x

    def fwd(x: Any) -> tuple[Any, None]:
        return a @ x, None

    def bwd(_: None, g: Any) -> tuple[Any]:
        return (g @ wrong,)

    f.defvjp(fwd, bwd)
    return f


def sin_flat_second(x: Any) -> Any:
    """sin whose ``custom_jvp`` rule is right to first order but has the derivative of its
    cos stopped: its second derivative is 0, not −sin."""
    return _sin_flat_second(x)


@jax.custom_jvp
def _sin_flat_second(x: Any) -> Any:
    return jnp.sin(x)


@_sin_flat_second.defjvp
def _sin_flat_second_rule(primals: tuple[Any], tangents: tuple[Any]) -> tuple[Any, Any]:
    (x,), (u,) = primals, tangents
    return jnp.sin(x), u * jax.lax.stop_gradient(jnp.cos(x))
