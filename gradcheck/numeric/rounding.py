"""A rounding-error bound for analytic gradients, from backprop on magnitudes.

Every gradient entry is a sum of products, and floating-point summation obeys
|fl(Σ xᵢ) − Σ xᵢ| ≤ γₙ·Σ|xᵢ| (Higham, *Accuracy and Stability of Numerical Algorithms*,
§3.1). Running the delta recursion on absolute values,

    |g⁽ᴸ⁾| = |∇ŷL| + Â⁽ᴸ⁾ + |y|        (the seed: the loss gradient and what it cancelled)
    |δ⁽ˡ⁾| = |g⁽ˡ⁾| ⊙ (|f′(z⁽ˡ⁾)| + 1),   |g⁽ˡ⁻¹⁾| = |δ⁽ˡ⁾|·|W⁽ˡ⁾| (+ |g⁽ˡ⁾| if residual)
    M_W⁽ˡ⁾ = |δ⁽ˡ⁾|ᵀ·Â⁽ˡ⁻¹⁾,             M_b⁽ˡ⁾ = Σ_batch |δ⁽ˡ⁾|
    Â⁽⁰⁾ = |X|,   Â⁽ˡ⁾ = |A⁽ˡ⁾| + (|f′| + 1)·(Â⁽ˡ⁻¹⁾·|W⁽ˡ⁾|ᵀ + |b⁽ˡ⁾|) (+ Â⁽ˡ⁻¹⁾ if residual)

The derivative counts as |f′| + 1 because textbook formulas such as tanh′ = 1 − a² carry
an absolute error of order ε: where the true f′ is 4e−16, one engine returns exactly 0
and another 4e−16, and both are right to working precision. For the same reason an
activation's size counts as |a| + (|f′| + 1)·S, with S = Â⁽ˡ⁻¹⁾·|W⁽ˡ⁾|ᵀ + |b⁽ˡ⁾| the size
of the terms summed into z, which carries forward what earlier layers may have moved: a z
that cancels to exactly 0 in one float32 engine is 1e−7 in another (or in float64), and so
is the activation of every unit after it; gelu(−5) is −1.5e−7 in one float32 engine and
exactly 0 in another.

gives, per entry, the size M of the terms whose sum is the gradient. Two correct engines
then differ by at most a small multiple of ε·M, even where the gradient itself cancels to
nothing (a fitted output, a saturated unit), which no tolerance relative to the gradient's
own size can allow for.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from gradcheck.nn.network import ForwardPass
from gradcheck.nn.spec import NetworkSpec
from gradcheck.numeric.blas import blas_errstate

__all__ = ["term_magnitudes"]

Array = np.ndarray


def term_magnitudes(
    spec: NetworkSpec, params: Mapping[str, Array], cache: ForwardPass, y: Array
) -> dict[str, Array]:
    """M for every parameter entry, in float64 (see the module docstring), and for the loss
    itself under ``"loss"``: Σ |g⁽ᴸ⁾|·Â⁽ᴸ⁾, how far L moves when ŷ moves by ε·Â⁽ᴸ⁾."""

    # Â⁽ˡ⁾ bounds |A⁽ˡ⁾| plus how far A⁽ˡ⁾ may move, in units of ε, when another engine sums
    # Z⁽ˡ⁾ in another order: (|f′(z)| + 1)·S⁽ˡ⁾ with S⁽ˡ⁾ = Â⁽ˡ⁻¹⁾·|W⁽ˡ⁾|ᵀ + |b⁽ˡ⁾|, which
    # carries forward what earlier layers may have moved (a z that cancels to exactly 0 in
    # one engine is 1e-8 in another, and so is every unit after it).
    sizes = [np.abs(cache.activations[0].astype(np.float64))]
    for layer in range(1, spec.depth + 1):
        w = np.abs(params[f"W{layer}"].astype(np.float64))
        with blas_errstate():
            s = sizes[-1] @ w.T + np.abs(params[f"b{layer}"].astype(np.float64))
        z, f = cache.zs[layer - 1], cache.fs[layer - 1]
        slope = np.abs(spec.activation(layer).df(z, f).astype(np.float64)) + 1.0
        size = np.abs(cache.activations[layer].astype(np.float64)) + slope * s
        sizes.append(size + sizes[-1] if layer in spec.residual else size)
    yhat = sizes[-1]
    target = np.abs(y.astype(np.float64)) if y.ndim == 2 else 1.0
    g = np.abs(spec.loss_fn.grad(cache.output, y).astype(np.float64)) + yhat + target
    if spec.reduction == "mean":
        g = g / yhat.shape[0]
    out: dict[str, Array] = {"loss": np.array(float(np.sum(g * yhat)))}
    for layer in range(spec.depth, 0, -1):
        z, f = cache.zs[layer - 1], cache.fs[layer - 1]
        delta = g * (np.abs(spec.activation(layer).df(z, f).astype(np.float64)) + 1.0)
        with blas_errstate():
            out[f"W{layer}"] = delta.T @ sizes[layer - 1]
        out[f"b{layer}"] = delta.sum(axis=0)
        if layer > 1:
            with blas_errstate():
                upstream = delta @ np.abs(params[f"W{layer}"].astype(np.float64))
            g = upstream + g if layer in spec.residual else upstream
    return {name: out[name] for name in ("loss", *spec.param_names)}
