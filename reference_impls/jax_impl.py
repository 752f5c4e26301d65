"""The JAX reference: the network written with jax.numpy / jax.nn, differentiated by
``jax.value_and_grad``.

Nothing here comes from the NumPy core; only the spec and the name parser are shared.

Compilation. The whole ``value_and_grad`` is jit-compiled: run eagerly, JAX compiles every
primitive separately for every new shape, which measured about 15× slower on the sweep's small
networks. But jit compiles once per input shape, and Hypothesis hardly ever draws the same
shapes twice, so compiling for each case's own shapes meant one compilation per example:
186 compilations for 180 sweep examples, 3.2 examples per second of JAX time. So each case is
padded to a shape bucket (``jax_buckets``: widths 16, 32, …; batch 8, 16, …; depth 6, 12, …;
masks keep the padded entries out of the loss and its gradient) and run by one program per
loss, in which residual layers, the ``mean`` divisor and each layer's activation are data: the
layer picks its activation at run time with ``jax.lax.switch`` among the built-in ones (and the
spec's own, if their parameters differ from the defaults). Activations had to become data too:
one program per (hidden, output activation, loss, dtype) is still over 90 compilations on the
default sweep, at ~0.8 s each. Now the default sweep (900 examples, one thread) compiles 12
programs (5 losses × 2 dtypes, softmax_ce also for one-hot rows), ~10 s in all, and JAX takes
~14 s: ~65 examples per second. Results agree with the case's own shapes to rounding (padding
changes only the order of some sums): tests/reference/test_jax_buckets.py checks that.

Each call runs inside ``jax.enable_x64(...)`` and ``jax.default_matmul_precision(...)``,
which are context managers (and part of jit's cache key), so neither 64-bit mode nor the
matmul precision leaks into the caller's global JAX state.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from gradcheck.nn.spec import NetworkSpec
from reference_impls._names import build
from reference_impls.jax_buckets import bucket_for, layer_activations, pad_case, unpad_grads

__all__ = ["loss_and_grads"]

Array = jax.Array
ActivationFn = Callable[[Array], Array]

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


class Keep(NamedTuple):
    """Which entries of a padded (N, W) prediction are real: ``rows`` (N,), ``cols`` (W,)."""

    rows: Array
    cols: Array


# A loss maps (ŷ, y, keep) to its sum over the real entries: all of them when keep is None
# (exact shapes), only those keep selects when the case is padded to a bucket. The caller
# applies the reduction.
LossFn = Callable[[Array, Array, Keep | None], Array]


def _entrywise(term: Callable[[Array, Array], Array]) -> LossFn:
    """The loss Σ term(ŷ, y) over the kept entries, for losses that are sums over entries.

    Padded entries get the stand-in ŷ = y = 0.5 (inside every loss's domain) *before* the
    term is computed: masking only the terms would leave any NaN or inf there to come back
    as 0 × inf = NaN in the backward pass. The kept terms are then summed exactly as is.
    """

    def loss(yhat: Array, y: Array, keep: Keep | None) -> Array:
        if keep is None:
            return jnp.sum(term(yhat, y))
        mask = keep.rows[:, None] & keep.cols[None, :]
        yhat, y = jnp.where(mask, yhat, 0.5), jnp.where(mask, y, 0.5)
        return jnp.sum(jnp.where(mask, term(yhat, y), 0))

    return loss


def _bce(p: Array, y: Array) -> Array:
    """−[y log p + (1 − y) log(1 − p)] on probabilities, without clamping."""
    return -(y * jnp.log(p) + (1 - y) * jnp.log1p(-p))


def _bce_logits(s: Array, y: Array) -> Array:
    """log(1 + e^s) − y·s; jax.nn.softplus is stable for large |s|."""
    return jax.nn.softplus(s) - y * s


def _huber(delta: float) -> LossFn:
    def term(yhat: Array, y: Array) -> Array:
        r = jnp.abs(yhat - y)
        return jnp.where(r <= delta, 0.5 * r * r, delta * (r - 0.5 * delta))

    return _entrywise(term)


def _softmax_ce(s: Array, y: Array, keep: Keep | None) -> Array:
    """Σ over rows of logsumexp(s) − Σ_k y_k s_k; y holds integer labels (N,) or one-hot
    rows (N, K). Padded columns are left out of the logsumexp (and their one-hot targets
    are 0); padded rows get logits 0 and label 0, and are left out of the sum."""
    cols = None
    if keep is not None:
        cols = keep.cols[None, :]
        s = jnp.where(keep.rows[:, None] & cols, s, 0)
    lse = jax.nn.logsumexp(s, axis=1, where=cols)
    labels = y.ndim == 1
    picked = jnp.take_along_axis(s, y[:, None], axis=1)[:, 0] if labels else jnp.sum(y * s, axis=1)
    terms = lse - picked
    return jnp.sum(terms if keep is None else jnp.where(keep.rows, terms, 0))


_LOSSES: dict[str, tuple[dict[str, float], Callable[..., LossFn]]] = {
    "mse": ({}, lambda: _entrywise(lambda yhat, y: 0.5 * (yhat - y) ** 2)),
    "bce": ({}, lambda: _entrywise(_bce)),
    "bce_logits": ({}, lambda: _entrywise(_bce_logits)),
    "softmax_ce": ({}, lambda: _softmax_ce),
    "huber": ({"delta": 1.0}, _huber),
}

# Every bucketed program can run each of these, chosen per layer at run time.
_DEFAULT_ACTIVATIONS = tuple(_ACTIVATIONS)


def _activation(text: str) -> ActivationFn:
    """The JAX function for an activation name such as ``"elu(alpha=0.5)"``."""
    return build("jax", "activation", _ACTIVATIONS, text)


def _loss(text: str) -> LossFn:
    """The JAX function (summed, unreduced) for a loss name such as ``"huber(delta=0.5)"``."""
    return build("jax", "loss", _LOSSES, text)


def _palette(spec: NetworkSpec) -> tuple[str, ...]:
    """The activations a program for ``spec`` offers: the built-in ones at their default
    parameters, plus the spec's own if they have other parameters (``"elu(alpha=0.5)"``)."""
    own = (spec.hidden, str(spec.output))
    return _DEFAULT_ACTIVATIONS + tuple(dict.fromkeys(a for a in own if a not in _ACTIVATIONS))


@functools.lru_cache(maxsize=64)
def _bucketed_program(palette: tuple[str, ...], loss: str) -> Any:
    """The jitted ``value_and_grad`` (with respect to the stacked W and b) of a padded network
    whose layers pick their activation from ``palette`` at run time, under ``loss``.

    Its arguments are the fields of :class:`~reference_impls.jax_buckets.Padded`. jit
    compiles it once per bucket, dtype and target form (labels or rows).
    """
    branches = [_activation(text) for text in palette]
    loss_fn = _loss(loss)

    def layer(a: Array, p: tuple[Array, ...]) -> tuple[Array, None]:
        W, b, code, skip, real = p
        f = jax.lax.switch(code, branches, a @ W.T + b)
        f = jnp.where(skip, f + a, f)
        return jnp.where(real, f, a), None  # a pass-through layer returns a_prev exactly

    def objective(
        W: Array,
        b: Array,
        activation: Array,
        residual: Array,
        real: Array,
        x: Array,
        target: Array,
        rows: Array,
        cols: Array,
        divisor: Array,
    ) -> Array:
        out, _ = jax.lax.scan(layer, x, (W, b, activation, residual, real))
        return loss_fn(out, target, Keep(rows, cols)) / divisor

    return jax.jit(jax.value_and_grad(objective, argnums=(0, 1)))


@functools.lru_cache(maxsize=256)
def _exact_program(spec: NetworkSpec) -> Any:
    """The jitted ``value_and_grad`` of the spec's loss on its own shapes, unpadded: one
    compilation per spec and input shape. Only the tests use it, to check the buckets."""
    activations = [_activation(spec.hidden)] * (spec.depth - 1) + [_activation(str(spec.output))]
    loss_fn = _loss(spec.loss)

    def objective(theta: dict[str, Array], x: Array, target: Array) -> Array:
        a = x
        for layer, act in enumerate(activations, start=1):
            f = act(a @ theta[f"W{layer}"].T + theta[f"b{layer}"])
            a = f + a if layer in spec.residual else f
        loss = loss_fn(a, target, None)
        return loss / x.shape[0] if spec.reduction == "mean" else loss

    return jax.jit(jax.value_and_grad(objective))


def _run_bucketed(
    spec: NetworkSpec,
    params: Mapping[str, np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    device: Any,
) -> tuple[Array, dict[str, np.ndarray], str]:
    """The loss (a JAX scalar), the real gradients and the bucket's name, padded."""
    bucket = bucket_for(spec, X.shape[0])
    palette = _palette(spec)
    codes = [palette.index(name) for name in layer_activations(spec, bucket)]
    padded = pad_case(spec, params, X, y, bucket, codes)
    args = padded if device is None else jax.device_put(padded, device)
    value, (grad_W, grad_b) = _bucketed_program(palette, spec.loss)(*args)
    # One copy of each stack to the host; unpad_grads cuts fresh arrays from them.
    grads = unpad_grads(spec, bucket, np.asarray(grad_W), np.asarray(grad_b))
    return value, grads, str(bucket)


def _run_exact(
    spec: NetworkSpec,
    params: Mapping[str, np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    device: Any,
) -> tuple[Array, dict[str, np.ndarray], str]:
    """As :func:`_run_bucketed`, on the case's own shapes (for the tests)."""
    dtype = _JAX_DTYPES[spec.dtype]
    theta = {name: jnp.asarray(params[name], dtype=dtype) for name in spec.param_names}
    is_labels = y.ndim == 1 and np.issubdtype(y.dtype, np.integer)
    target = jnp.asarray(y) if is_labels else jnp.asarray(y, dtype=dtype)
    x = jnp.asarray(X, dtype=dtype)
    if device is not None:
        theta, x, target = jax.device_put((theta, x, target), device)
    value, grads = _exact_program(spec)(theta, x, target)
    # np.array copies: the results are writable and share nothing with JAX buffers.
    return value, {name: np.array(grads[name]) for name in spec.param_names}, "exact"


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
    and a meta dict recording the library, version, dtype, x64 mode, matmul precision,
    platform and shape bucket (``"16x8x6"``: width × batch × depth). The caller's arrays are
    never modified and no JAX configuration leaks out.

    ``device`` names a JAX platform (``"cpu"``, ``"gpu"``, ``"cuda"``, ``"tpu"``): the inputs
    are placed on its first device with ``jax.device_put``, so the jitted function runs there,
    and the results are copied back to NumPy. ``None`` (the default) keeps JAX's default
    device. A platform JAX does not have raises RuntimeError before anything runs.
    """
    return _loss_and_grads(spec, params, X, y, matmul_precision, device, bucketed=True)


def _loss_and_grads(
    spec: NetworkSpec,
    params: Mapping[str, np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    matmul_precision: str,
    device: str | None,
    *,
    bucketed: bool,
) -> tuple[float, dict[str, np.ndarray], dict[str, object]]:
    """:func:`loss_and_grads`, padded to a bucket or (``bucketed=False``, for the tests that
    check the buckets) on the case's own shapes."""
    target_device = None if device is None else _first_device(device)
    x64 = spec.dtype == "float64"
    run = _run_bucketed if bucketed else _run_exact
    with jax.enable_x64(x64), jax.default_matmul_precision(matmul_precision):
        value, out, bucket = run(spec, params, X, y, target_device)
        platform = str(next(iter(value.devices())).platform)
        loss = float(value)

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
        "bucket": bucket,
    }
    return loss, out, meta
