"""The core with one known mistake each: the bugs the property suite must be able to catch."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gradcheck.engines import FunctionEngine
from gradcheck.nn.network import forward, output_loss
from gradcheck.nn.spec import NetworkSpec

Array = np.ndarray


def backprop_with(
    spec: NetworkSpec, params, X, y, *, df=None, bias_sum=True, skip_grad=True, scale=1.0
):  # type: ignore[no-untyped-def]
    cache = forward(spec, params, X)
    loss = output_loss(spec, cache.output, y)
    g = spec.loss_fn.grad(cache.output, y) * (1 / X.shape[0] if spec.reduction == "mean" else 1)
    grads = {}
    for layer in range(spec.depth, 0, -1):
        act = spec.activation(layer)
        z, f = cache.zs[layer - 1], cache.fs[layer - 1]
        delta = g * (act.df(z, f) if df is None else df(act, z, f))
        grads[f"W{layer}"] = delta.T @ cache.activations[layer - 1] * scale
        grads[f"b{layer}"] = (delta.sum(axis=0) if bias_sum else delta[0].copy()) * scale
        upstream = delta @ params[f"W{layer}"]
        g = upstream + g if (layer in spec.residual and skip_grad) else upstream
    return loss, {name: grads[name].astype(spec.dtype) for name in spec.param_names}


MUTANTS: dict[str, Callable[..., tuple[float, dict[str, Array]]]] = {
    "sign_flip": lambda s, p, X, y: backprop_with(s, p, X, y, scale=-1.0),
    "missing_activation_derivative": lambda s, p, X, y: backprop_with(
        s, p, X, y, df=lambda act, z, f: np.ones_like(z)
    ),
    "derivative_at_a": lambda s, p, X, y: backprop_with(
        s, p, X, y, df=lambda act, z, f: act.df(f, act.f(f))
    ),
    "bias_not_summed": lambda s, p, X, y: backprop_with(s, p, X, y, bias_sum=False),
    "residual_gradient_dropped": lambda s, p, X, y: backprop_with(s, p, X, y, skip_grad=False),
    "scaled_by_two": lambda s, p, X, y: backprop_with(s, p, X, y, scale=2.0),
}


def mutant(name: str) -> FunctionEngine:
    return FunctionEngine(f"mutant:{name}", MUTANTS[name], summary=name)
