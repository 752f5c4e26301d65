"""Finite differences of the core's own loss, batched over perturbations.

The estimates and error bars are those of ``finite_differences`` (Richardson-extrapolated
central differences); only the evaluation is organised differently: the perturbed networks
of a tensor are evaluated as stacks (``stacking.perturbed_outputs``: prefix caching, one
changed column, a rank-one update of the next layer), so the cost per entry is a slice of a
few NumPy calls instead of a Python-level forward pass.

Kink crossings are detected on the stack, per step: an entry whose perturbations move a
pre-activation across (or onto) a kink on one side only gets the second-order one-sided
difference from the other, smooth side (``finite_differences.one_sided``); one whose
perturbations cross kinks on both sides is flagged unreliable and left out of the
comparison.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from gradcheck.nn.network import ForwardPass, forward, output_loss, stacked_output_losses
from gradcheck.nn.spec import NetworkSpec
from gradcheck.numeric.finite_differences import (
    MULTIPLES,
    NumericalGradient,
    one_sided,
    richardson,
)
from gradcheck.numeric.noise import POINTS, noise_along_random_direction
from gradcheck.numeric.stacking import perturbed_outputs
from gradcheck.numeric.steps import fd_step, machine_eps

__all__ = ["core_differences"]

Array = np.ndarray
# Largest stack, in elements of one layer's activations, evaluated at once (≈ 32 MB in float64).
STACK_ELEMENTS = 1 << 22


def core_differences(
    spec: NetworkSpec, params: Mapping[str, Array], X: Array, y: Array
) -> NumericalGradient:
    """∂L/∂θ of the core's loss for every entry, with error bars and kink flags."""
    eps = machine_eps(spec.np_dtype)
    cache = forward(spec, params, X)

    def evaluate(theta: Mapping[str, Array]) -> float:
        return output_loss(spec, forward(spec, theta, X).output, y)

    noise = noise_along_random_direction(evaluate, params, dtype=spec.dtype)
    base_loss = output_loss(spec, cache.output, y)
    grads, error_bars, unreliable = {}, {}, {}
    evaluations = 1 + POINTS
    for layer in range(1, spec.depth + 1):
        chunk = max(1, STACK_ELEMENTS // (X.shape[0] * max(spec.widths[layer:])) // len(MULTIPLES))
        for name in (f"W{layer}", f"b{layer}"):
            steps, losses, kinked = _perturbed_losses(spec, params, cache, y, name, chunk)
            estimate, bars = richardson(losses, steps, noise=noise, eps=eps)
            estimate, bars = _one_sided_past_kinks(
                estimate, bars, base_loss, losses, steps, kinked, noise=noise, eps=eps
            )
            shape = params[name].shape
            grads[name] = estimate.reshape(shape).astype(spec.np_dtype)
            error_bars[name] = bars.reshape(shape)
            unreliable[name] = _kinked_on_both_sides(kinked).reshape(shape)
            evaluations += len(MULTIPLES) * losses.shape[1]
    return NumericalGradient(base_loss, grads, error_bars, unreliable, evaluations)


def _perturbed_losses(
    spec: NetworkSpec,
    params: Mapping[str, Array],
    cache: ForwardPass,
    y: Array,
    name: str,
    chunk: int,
) -> tuple[Array, Array, Array]:
    """For every entry i of tensor ``name`` and every step m of ``MULTIPLES``: the step
    actually taken (θ_i + m·h rounded to the dtype, minus θ_i), L there, and whether the
    perturbation moved a pre-activation across or onto a kink; ``chunk`` entries at a time."""
    dtype = spec.np_dtype
    theta = params[name].reshape(-1)
    size = theta.size
    h = fd_step(theta, dtype)
    moved = np.stack([(theta + m * h).astype(dtype) for m in MULTIPLES])
    steps = moved.astype(np.float64) - theta.astype(np.float64)  # exact steps taken
    losses = np.empty((len(MULTIPLES), size))
    kinked = np.zeros((len(MULTIPLES), size), dtype=bool)
    for start in range(0, size, chunk):
        entries = np.arange(start, min(size, start + chunk))
        for m in range(len(MULTIPLES)):
            delta = (moved[m, entries] - theta[entries]).astype(dtype)
            output, crossed = perturbed_outputs(spec, params, cache, name, entries, delta, y)
            losses[m, entries] = stacked_output_losses(spec, output, y)
            kinked[m, entries] = crossed
    return steps, losses, kinked


def _one_sided_past_kinks(
    estimate: Array,
    bars: Array,
    base_loss: float,
    losses: Array,
    steps: Array,
    kinked: Array,
    *,
    noise: float,
    eps: float,
) -> tuple[Array, Array]:
    """The estimates and error bars with ``one_sided`` ones from the smooth side wherever
    the steps on the other side, and only there, cross a kink."""
    estimate, bars = estimate.copy(), bars.copy()
    for side in (+1, -1):
        own = [MULTIPLES.index(side), MULTIPLES.index(2 * side)]
        other = [MULTIPLES.index(-side), MULTIPLES.index(-2 * side)]
        use = kinked[other].any(axis=0) & ~kinked[own].any(axis=0)
        if use.any():
            value, bar = one_sided(
                base_loss, losses[own][:, use], steps[own][:, use], noise=noise, eps=eps
            )
            estimate[use], bars[use] = value, bar
    return estimate, bars


def _kinked_on_both_sides(kinked: Array) -> Array:
    """Entries whose steps cross a kink on both sides: no difference is reliable there."""
    plus, minus = kinked[[0, 2]].any(axis=0), kinked[[1, 3]].any(axis=0)
    return np.asarray(plus & minus)
