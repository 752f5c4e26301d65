"""The JAX reference: the network written with jax.numpy / jax.nn, differentiated by
``jax.value_and_grad``.

Nothing here comes from the NumPy core; only the spec and the name parser are shared. The
whole ``value_and_grad`` is jit-compiled, once per network spec and input shape: run eagerly,
JAX compiles every primitive separately for every new shape, which measured about 15× slower
on the sweep's small networks than one compilation of the whole function. Each call runs inside
``jax.enable_x64(...)`` and ``jax.default_matmul_precision(...)``, which are context managers
(and part of jit's cache key), so neither 64-bit mode nor the matmul precision leaks into the
caller's global JAX state.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gradcheck.nn.spec import NetworkSpec
from reference_impls._names import build

__all__ = ["loss_and_grads"]

Array = jax.Array
ActivationFn = Callable[[Array], Array]
LossFn = Callable[[Array, Array], Array]

_JAX_DTYPES = {"float64": jnp.float64, "float32": jnp.float32}

# name -> (defaults, factory taking the filled-in parameters)
_ACTIVATIONS: dict[str, tuple[dict[str, float], Callable[..., ActivationFn]]] = {
    "identity": ({}, lambda: lambda z: z),
    "sigmoid": ({}, lambda: jax.nn.sigmoid),
    "tanh": ({}, lambda: jnp.tanh),
    "relu": ({}, lambda: jax.nn.relu),
    "leaky_relu": ({"slope": 0.01}, lambda slope: lambda z: jax.nn.leaky_relu(z, slope)),
    "elu": ({"alpha": 1.0}, lambda alpha: lambda z: jax.nn.elu(z, alpha)),
    "softplus": ({}, lambda: jax.nn.softplus),
    "gelu": ({}, lambda: lambda z: jax.nn.gelu(z, approximate=True)),
    "silu": ({}, lambda: jax.nn.silu),
}


def _bce(p: Array, y: Array) -> Array:
    """−Σ[y log p + (1 − y) log(1 − p)] on probabilities, without clamping."""
    return -jnp.sum(y * jnp.log(p) + (1 - y) * jnp.log1p(-p))


def _bce_logits(s: Array, y: Array) -> Array:
    """Σ[log(1 + e^s) − y·s]; jax.nn.softplus is stable for large |s|."""
    return jnp.sum(jax.nn.softplus(s) - y * s)


def _softmax_ce(s: Array, y: Array) -> Array:
    """logsumexp(s) − Σ_k y_k s_k per row; y holds integer labels (B,) or one-hot rows (B, K)."""
    lse = jax.nn.logsumexp(s, axis=1)
    labels = y.ndim == 1
    picked = jnp.take_along_axis(s, y[:, None], axis=1)[:, 0] if labels else jnp.sum(y * s, axis=1)
    return jnp.sum(lse - picked)


def _huber(delta: float) -> LossFn:
    def value(yhat: Array, y: Array) -> Array:
        r = jnp.abs(yhat - y)
        return jnp.sum(jnp.where(r <= delta, 0.5 * r * r, delta * (r - 0.5 * delta)))

    return value


# Every loss returns the sum over outputs and batch; the caller applies the reduction.
_LOSSES: dict[str, tuple[dict[str, float], Callable[..., LossFn]]] = {
    "mse": ({}, lambda: lambda yhat, y: 0.5 * jnp.sum((yhat - y) ** 2)),
    "bce": ({}, lambda: _bce),
    "bce_logits": ({}, lambda: _bce_logits),
    "softmax_ce": ({}, lambda: _softmax_ce),
    "huber": ({"delta": 1.0}, _huber),
}


def _activation(text: str) -> ActivationFn:
    """The JAX function for an activation name such as ``"elu(alpha=0.5)"``."""
    return build("jax", "activation", _ACTIVATIONS, text)


def _loss(text: str) -> LossFn:
    """The JAX function (summed, unreduced) for a loss name such as ``"huber(delta=0.5)"``."""
    return build("jax", "loss", _LOSSES, text)


@functools.lru_cache(maxsize=256)
def _value_and_grad(spec: NetworkSpec) -> Any:
    """The jitted ``value_and_grad`` of the spec's loss; jit keeps one compilation per shape."""
    activations = [_activation(spec.hidden)] * (spec.depth - 1) + [_activation(str(spec.output))]
    loss_fn = _loss(spec.loss)

    def objective(theta: dict[str, Array], x: Array, target: Array) -> Array:
        a = x
        for layer, act in enumerate(activations, start=1):
            f = act(a @ theta[f"W{layer}"].T + theta[f"b{layer}"])
            a = f + a if layer in spec.residual else f
        loss = loss_fn(a, target)
        return loss / x.shape[0] if spec.reduction == "mean" else loss

    return jax.jit(jax.value_and_grad(objective))


def _first_device(platform: str) -> Any:
    """The first JAX device of ``platform``; RuntimeError names what JAX has instead."""
    try:
        return jax.devices(platform)[0]
    except RuntimeError as error:
        raise RuntimeError(f"jax has no {platform!r} device: {error}") from error


def loss_and_grads(
    spec: NetworkSpec,
    params: Mapping[str, np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    *,
    matmul_precision: str = "highest",
    device: str | None = None,
) -> tuple[float, dict[str, np.ndarray], dict[str, object]]:
    """L(θ) and ∂L/∂θ for validated inputs, computed by a jitted ``jax.value_and_grad``.

    ``params`` maps ``W1, b1, …, WL, bL`` to arrays of the spec's dtype; ``y`` is a target
    array of that dtype, or 1-d integer labels for ``softmax_ce``. Returns the loss as a
    Python float, fresh writable gradient arrays of the spec's dtype keyed like ``params``,
    and a meta dict recording the library, version, dtype, x64 mode, matmul precision and
    platform. The caller's arrays are never modified and no JAX configuration leaks out.

    ``device`` names a JAX platform (``"cpu"``, ``"gpu"``, ``"cuda"``, ``"tpu"``): the inputs
    are placed on its first device with ``jax.device_put``, so the jitted function runs there,
    and the results are copied back to NumPy. ``None`` (the default) keeps JAX's default
    device. A platform JAX does not have raises RuntimeError before anything runs.
    """
    target_device = None if device is None else _first_device(device)
    x64 = spec.dtype == "float64"
    with jax.enable_x64(x64), jax.default_matmul_precision(matmul_precision):
        dtype = _JAX_DTYPES[spec.dtype]
        theta = {name: jnp.asarray(params[name], dtype=dtype) for name in spec.param_names}
        is_labels = y.ndim == 1 and np.issubdtype(y.dtype, np.integer)
        target = jnp.asarray(y) if is_labels else jnp.asarray(y, dtype=dtype)
        x = jnp.asarray(X, dtype=dtype)
        if target_device is not None:
            theta, x, target = jax.device_put((theta, x, target), target_device)
        value, grads = _value_and_grad(spec)(theta, x, target)
        platform = str(next(iter(value.devices())).platform)
        loss = float(value)
        # np.array copies: the results are writable and share nothing with JAX buffers.
        out = {name: np.array(grads[name]) for name in spec.param_names}

    for name, g in out.items():
        if g.dtype != spec.np_dtype:
            raise RuntimeError(f"jax reference returned {name} as {g.dtype}, not {spec.dtype}")
    meta: dict[str, object] = {
        "library": "jax",
        "version": jax.__version__,
        "dtype": spec.dtype,
        "x64": x64,
        "matmul_precision": matmul_precision,
        "device": platform,
    }
    return loss, out, meta
