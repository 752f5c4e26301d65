"""Finite differences of the core's own loss, batched over perturbations.

The estimates and error bars are those of ``finite_differences`` (Richardson-extrapolated
central differences); only the evaluation is organised differently. A perturbation of an
entry of W⁽ˡ⁾ or b⁽ˡ⁾ leaves layers 1…l−1 untouched, so their cached activations are reused
(prefix caching), and it changes one column of Z⁽ˡ⁾ by a rank-one term:

    W⁽ˡ⁾_ij + s  ⇒  Z⁽ˡ⁾[:, i] + s·A⁽ˡ⁻¹⁾[:, j],        b⁽ˡ⁾_i + s  ⇒  Z⁽ˡ⁾[:, i] + s

Many such perturbed networks are stacked along a leading axis and pushed through layers
l…L together with batched matrix products, so the cost per entry is a slice of one NumPy
call instead of a Python-level forward pass. Kink crossings are detected on the stack, per step: an
entry whose perturbations move a downstream pre-activation across (or onto) a kink on one
side only gets the second-order one-sided difference from the other, smooth side
(``finite_differences.one_sided``); one whose perturbations cross kinks on both sides is
flagged unreliable and left out of the comparison.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from gradcheck.nn.network import ForwardPass, forward, output_loss, stacked_output_losses
from gradcheck.nn.spec import NetworkSpec
from gradcheck.numeric.finite_differences import (
    MULTIPLES,
    NumericalGradient,
    noise_level,
    one_sided,
    richardson,
)
from gradcheck.numeric.noise import POINTS
from gradcheck.numeric.steps import fd_step, machine_eps

__all__ = ["core_differences"]

Array = np.ndarray
# Largest stack, in elements of one layer's activations, evaluated at once (≈ 32 MB in float64).
STACK_ELEMENTS = 1 << 22


def _tail(
    spec: NetworkSpec,
    params: Mapping[str, Array],
    cache: ForwardPass,
    layer: int,
    z: Array,
    y: Array,
) -> tuple[Array, Array]:
    """Push stacked pre-activations Z⁽ˡ⁾ (S, B, n_l) through layers l…L.

    Returns the outputs (S, B, n_L) and, per stacked network, whether any pre-activation
    lies on another side of a kink than in the unperturbed network, or any output on
    another smooth piece of the loss.
    """
    crossed = np.zeros(z.shape[0], dtype=bool)
    a_prev: Array = cache.activations[layer - 1]
    for current in range(layer, spec.depth + 1):
        if current > layer:
            z = a_prev @ params[f"W{current}"].T + params[f"b{current}"]
        activation = spec.activation(current)
        base = cache.zs[current - 1]
        for kink in activation.kinks:
            moved = ((z > kink) != (base > kink)) | ((z == kink) != (base == kink))
            crossed |= moved.reshape(z.shape[0], -1).any(axis=1)
        f = activation.f(z)
        a_prev = f + a_prev if current in spec.residual else f
    pieces = spec.loss_fn.pieces
    if pieces is not None:
        moved = pieces(a_prev, y) != pieces(cache.output, y)
        crossed |= moved.reshape(z.shape[0], -1).any(axis=1)
    return a_prev, crossed


def core_differences(
    spec: NetworkSpec, params: Mapping[str, Array], X: Array, y: Array
) -> NumericalGradient:
    """∂L/∂θ of the core's loss for every entry, with error bars and kink flags."""
    dtype = spec.np_dtype
    eps = machine_eps(dtype)
    cache = forward(spec, params, X)

    def evaluate(theta: Mapping[str, Array]) -> float:
        return output_loss(spec, forward(spec, theta, X).output, y)

    noise = noise_level(evaluate, {k: np.array(v) for k, v in params.items()}, spec.dtype)
    base_loss = output_loss(spec, cache.output, y)
    batch = X.shape[0]
    grads, error_bars, unreliable = {}, {}, {}
    evaluations = 1 + POINTS
    for layer in range(1, spec.depth + 1):
        a_prev = cache.activations[layer - 1]
        chunk = max(1, STACK_ELEMENTS // (batch * max(spec.widths[layer:])) // len(MULTIPLES))
        for name in (f"W{layer}", f"b{layer}"):
            theta = params[name].reshape(-1)
            size = theta.size
            h = np.array([fd_step(float(t), dtype) for t in theta])
            moved = np.stack([(theta + m * h).astype(dtype) for m in MULTIPLES])
            steps = moved.astype(np.float64) - theta.astype(np.float64)  # exact steps taken
            losses = np.empty((len(MULTIPLES), size))
            kinked = np.zeros((len(MULTIPLES), size), dtype=bool)
            for start in range(0, size, chunk):
                entries = np.arange(start, min(size, start + chunk))
                rows = entries // a_prev.shape[1] if name[0] == "W" else entries
                for m in range(len(MULTIPLES)):
                    delta = (moved[m, entries] - theta[entries]).astype(dtype)
                    z = np.repeat(cache.zs[layer - 1][None], entries.size, axis=0)
                    shift = delta[:, None] * (
                        a_prev[:, entries % a_prev.shape[1]].T if name[0] == "W" else 1
                    )
                    z[np.arange(entries.size), :, rows] += shift
                    output, crossed = _tail(spec, params, cache, layer, z, y)
                    losses[m, entries] = stacked_output_losses(spec, output, y)
                    kinked[m, entries] = crossed
            estimate, bars = richardson(losses, steps, noise=noise, eps=eps)
            for side in (+1, -1):  # a kink on one side only: a one-sided difference on the other
                own = [MULTIPLES.index(side), MULTIPLES.index(2 * side)]
                other = [MULTIPLES.index(-side), MULTIPLES.index(-2 * side)]
                use = kinked[other].any(axis=0) & ~kinked[own].any(axis=0)
                if use.any():
                    value, bar = one_sided(
                        base_loss, losses[own][:, use], steps[own][:, use], noise=noise, eps=eps
                    )
                    estimate[use], bars[use] = value, bar
            shape = params[name].shape
            grads[name] = estimate.reshape(shape).astype(dtype)
            error_bars[name] = bars.reshape(shape)
            plus, minus = kinked[[0, 2]].any(axis=0), kinked[[1, 3]].any(axis=0)
            unreliable[name] = np.asarray(plus & minus).reshape(shape)
            evaluations += len(MULTIPLES) * size
    return NumericalGradient(base_loss, grads, error_bars, unreliable, evaluations)
