"""The arithmetic every normalisation layer shares: x̂ over some axes, the gradient through
it, and a whole normalising layer (output and gradients) on a reshaped view of x, which the
mutants use to build a consistently wrong layer (the wrong axes, groups or variance)."""

from __future__ import annotations

import numpy as np

__all__ = ["Axes", "layer_on_view", "normalise", "normalise_dx", "reduce_to", "rounding_bounds"]

Array = np.ndarray
Axes = tuple[int, ...]


def normalise(x: Array, axes: Axes, eps: float, ddof: int = 0) -> tuple[Array, Array, Array]:
    """x̂, μ and σ² over ``axes`` (kept as size-1 axes), with ``ddof`` for the variance."""
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, ddof=ddof)
    return (x - mu) / np.sqrt(var + eps), mu, var


def normalise_dx(
    dxhat: Array, xhat: Array, var: Array, eps: float, axes: Axes, ddof: int = 0
) -> Array:
    """The gradient through x̂ = (x − μ)/√(σ² + eps) over the m entries of ``axes``, σ² the
    variance divided by m − ddof."""
    m = int(np.prod([xhat.shape[a] for a in axes]))
    total = dxhat.sum(axis=axes, keepdims=True)
    along = (dxhat * xhat).sum(axis=axes, keepdims=True) * (m / (m - ddof))
    return (m * dxhat - total - xhat * along) / (m * np.sqrt(var + eps))


def reduce_to(t: Array, shape: tuple[int, ...]) -> Array:
    """``t`` summed down to ``shape``, the shape it was broadcast from."""
    lead = t.ndim - len(shape)
    t = t.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and t.shape[i] != 1)
    return t.sum(axis=axes, keepdims=True).reshape(shape)


def layer_on_view(
    x: Array,
    gamma: Array,
    beta: Array,
    dout: Array,
    view: tuple[int, ...],
    axes: Axes,
    eps: float,
    ddof: int = 0,
    on_view: bool = False,
) -> dict[str, Array]:
    """out, dx, dgamma and dbeta of ``gamma · x̂ + beta`` with x̂ normalised over ``axes`` of
    ``x.reshape(view)``; gamma and beta broadcast against x, or against the view
    (``on_view``: a batchnorm run on a reshaped x)."""
    xv = x.reshape(view)
    xhat, _, var = normalise(xv, axes, eps, ddof)
    shape = view if on_view else x.shape
    xh, do = xhat.reshape(shape), dout.reshape(shape)
    dxhat = (do * gamma).reshape(view)
    return {
        "out": (gamma * xh + beta).reshape(x.shape),
        "dx": normalise_dx(dxhat, xhat, var, eps, axes, ddof).reshape(x.shape),
        "dgamma": reduce_to(do * xh, gamma.shape),
        "dbeta": reduce_to(do, beta.shape),
    }


def rounding_bounds(
    x: Array,
    gamma: Array,
    beta: Array,
    dout: Array | None,
    view: tuple[int, ...],
    axes: Axes,
    eps: float,
) -> dict[str, Array]:
    """Bounds on the magnitude of the terms summed into each entry of out, dx, dgamma and
    dbeta (the layer of ``layer_on_view``, gamma broadcast against x), so that any correct
    evaluation order passes: x − μ cancels, and so do dx's three terms (exactly, where
    dout is constant)."""
    xv = x.reshape(view)
    mu = xv.mean(axis=axes, keepdims=True)
    std = np.sqrt(xv.var(axis=axes, keepdims=True) + eps)
    xmag_v = (np.abs(xv) + np.abs(mu)) / std
    xmag = xmag_v.reshape(x.shape)
    bounds = {"out": np.abs(gamma) * xmag + np.abs(beta)}
    if dout is None:
        return bounds
    m = int(np.prod([view[a] for a in axes]))
    dmag = (np.abs(dout) * np.abs(gamma)).reshape(view)
    total = dmag.sum(axis=axes, keepdims=True)
    along = (dmag * xmag_v).sum(axis=axes, keepdims=True)
    bounds["dx"] = ((m * dmag + total + xmag_v * along) / (m * std)).reshape(x.shape)
    bounds["dgamma"] = reduce_to(np.abs(dout) * xmag, gamma.shape)
    bounds["dbeta"] = reduce_to(np.abs(dout), beta.shape)
    return bounds
