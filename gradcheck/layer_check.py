"""``check_layer``: verify a layer's backward pass against its own forward pass.

    out, cache = forward(*inputs.values())
    grads = backward(dout, cache)

The layer's gradients are those of the scalar L = Σ out ⊙ dout, where ``dout`` is a fixed
upstream gradient (random and seeded unless given): ∂L/∂x = backward(dout, cache) for each
input x. ``check_gradients`` then compares them with numerical derivatives of L, so every
verdict, record and tolerance is the one it would give for a whole network.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from gradcheck.errors import GradcheckError, NonFiniteError, ShapeError
from gradcheck.gradients import GradientCheck, check_with_options
from gradcheck.numeric.probes import ProbeSettings
from gradcheck.options import CheckOptions, Method, Mode

__all__ = ["check_layer", "differentiable_inputs"]

Array = np.ndarray
Forward = Callable[..., tuple[Any, Any]]
Backward = Callable[[Array, Any], Any]


def differentiable_inputs(inputs: Mapping[str, Any]) -> list[str]:
    """The names of the inputs that are floating-point arrays, in order."""
    return [
        name
        for name, value in inputs.items()
        if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating)
    ]


def check_layer(
    forward: Forward,
    backward: Backward,
    inputs: Mapping[str, Any],
    *,
    wrt: Sequence[str] | None = None,
    dout: Array | None = None,
    mode: Mode = "auto",
    seed: int = 0,
    method: Method = "auto",
    probes: ProbeSettings | None = None,
    rtol: float | None = None,
    atol: float | None = None,
) -> GradientCheck:
    """Check ``backward`` against numerical derivatives of ``forward``.

    ``inputs`` maps names to the forward's positional arguments, in order; the names label
    the records. Every floating-point array among them is checked unless ``wrt`` names a
    subset; other inputs (integer labels, a float ``slope``, a dict of settings) are passed
    through unchanged. ``backward(dout, cache)`` may return one array (one input checked), a
    tuple (one entry per floating-point input, per input, or per checked input, in the
    inputs' order) or a dict of name → gradient. ``forward`` must be deterministic: a layer
    with randomness (dropout) must take its random state as an input.
    """
    if not isinstance(inputs, Mapping) or not inputs:
        raise GradcheckError("inputs must be a non-empty dict of name → forward argument")
    options = CheckOptions(mode=mode, seed=seed, method=method, probes=probes, rtol=rtol, atol=atol)
    inputs = dict(inputs)
    names = _checked_names(inputs, wrt)
    layer = getattr(forward, "__name__", type(forward).__name__)
    upstream = _upstream(_deterministic_output(forward, inputs, layer), dout, seed, layer)

    def loss_fn(params: dict[str, Array]) -> object:
        result, _ = _run_forward(forward, {**inputs, **params}, layer)
        widened = upstream.astype(np.float64)
        return np.sum(np.asarray(result) * widened)

    def grad_fn(params: dict[str, Array]) -> dict[str, Array]:
        _, cache = _run_forward(forward, {**inputs, **params}, layer)
        returned = backward(upstream.copy(), cache)
        return _gradients(returned, inputs, names, layer)

    params = {name: inputs[name] for name in names}
    result = check_with_options(loss_fn, grad_fn, params, options)
    meta = {**result.meta, "layer": layer, "dout_shape": tuple(upstream.shape)}
    return replace(result, meta=meta)


def _deterministic_output(forward: Forward, inputs: dict[str, Any], layer: str) -> Any:
    """The forward's output, once two calls on the same inputs are seen to agree."""
    out, _ = _run_forward(forward, inputs, layer)
    again, _ = _run_forward(forward, inputs, layer)
    if not np.array_equal(out, again, equal_nan=True):
        raise GradcheckError(
            f"{layer} is not deterministic: two calls on the same inputs returned different "
            "outputs; pass its random state (a seeded mask or generator) as an input"
        )
    return out


def _checked_names(inputs: dict[str, Any], wrt: Sequence[str] | None) -> list[str]:
    floating = differentiable_inputs(inputs)
    if wrt is None:
        if not floating:
            raise GradcheckError("no input is a floating-point array, so there is nothing to check")
        return floating
    if isinstance(wrt, str):
        wrt = [wrt]
    for name in wrt:
        if name not in inputs:
            raise GradcheckError(f"wrt names {name!r}, which is not an input ({', '.join(inputs)})")
        if name not in floating:
            kind = type(inputs[name]).__name__
            raise GradcheckError(f"input {name!r} is a {kind}, not a floating-point array")
    if not wrt:
        raise GradcheckError("wrt is empty, so there is nothing to check")
    return list(wrt)


def _run_forward(forward: Forward, inputs: Mapping[str, Any], layer: str) -> tuple[Array, Any]:
    # Every call gets its own copies, so a forward that writes to an argument (a running
    # mean, a call counter in a settings dict) changes neither the caller's objects nor
    # the next call's inputs.
    arguments = [copy.deepcopy(v) for v in inputs.values()]
    returned = forward(*arguments)
    if not (isinstance(returned, tuple) and len(returned) == 2):
        got = type(returned).__name__
        size = f" of length {len(returned)}" if isinstance(returned, tuple) else ""
        raise GradcheckError(f"{layer} must return (out, cache), got a {got}{size}")
    out = np.asarray(returned[0])
    if not np.issubdtype(out.dtype, np.inexact):
        raise GradcheckError(f"{layer}'s output must be a float array, got dtype {out.dtype}")
    return out, returned[1]


def _upstream(out: Array, dout: Array | None, seed: int, layer: str) -> Array:
    if dout is None:
        rng = np.random.default_rng(seed)
        return rng.standard_normal(out.shape).astype(out.dtype)
    upstream = np.asarray(dout)
    if upstream.shape != out.shape:
        raise ShapeError(f"dout has shape {upstream.shape}, but {layer}'s output is {out.shape}")
    if not np.all(np.isfinite(upstream)):
        raise NonFiniteError("dout contains NaN or Inf")
    return upstream


def _gradients(
    returned: object, inputs: dict[str, Any], names: list[str], layer: str
) -> dict[str, Array]:
    """Match what backward returned to the checked inputs."""
    backward = f"the backward of {layer}"
    if isinstance(returned, Mapping):
        missing = [n for n in names if n not in returned]
        if missing:
            raise GradcheckError(f"{backward} returned no gradient for {', '.join(missing)}")
        return {n: returned[n] for n in names}
    if isinstance(returned, np.ndarray):
        if len(names) != 1:
            raise GradcheckError(
                f"{backward} returned one array, but {len(names)} inputs are checked "
                f"({', '.join(names)}); return a tuple or pass wrt="
            )
        return {names[0]: returned}
    if isinstance(returned, tuple | list):
        # backward cannot know wrt, so its tuple follows the inputs' order: all floating-point
        # inputs, all inputs, or just the checked ones (still in input order).
        checked = [n for n in inputs if n in names]
        for order in (differentiable_inputs(inputs), list(inputs), checked):
            if len(returned) == len(order):
                by_name = dict(zip(order, returned, strict=True))
                return {n: by_name[n] for n in names}
        raise GradcheckError(
            f"{backward} returned {len(returned)} gradients; expected one per checked input "
            f"({len(names)}: {', '.join(names)}) or one per input ({len(inputs)})"
        )
    raise GradcheckError(
        f"{backward} must return an array, a tuple or a dict, got {type(returned).__name__}"
    )
