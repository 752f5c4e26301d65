"""Complex-step derivatives of the core's loss, batched over parameters.

∂L/∂θ_i = Im L(θ + i·t·e_i) / t with t = 1e-20·max(1, |θ_i|) (``steps.COMPLEX_STEP``;
Squire and Trapp, 1998): no difference of nearly equal numbers is formed, so the estimate
is exact to the rounding of one complex forward pass, for every entry, with no step to
tune and no kink to cross (the real part of every pre-activation is untouched). The core's
activations and losses continue analytically to complex arguments
(``nn.activations.real_part`` and friends).

What remains is the method's own O(t²) term: Im L(θ + it)/t = L′ − t²L‴/6 + …, and a
real part moved by −t²/2·(…) where two perturbed factors meet. With t = 1e-20 that is
~1e-40 relative, invisible except where the gradient is exactly 0 (a network whose every
unit is dead). The error bar C·t²·max(1, |L|), C = ``steps.COMPLEX_STEP_BAR`` (1e6),
bounds it generously.

The evaluation is organised as in ``core_differences``, by ``stacking.perturbed_outputs``
with imaginary perturbations.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from gradcheck.nn.network import complex_losses, forward, output_loss
from gradcheck.nn.spec import NetworkSpec
from gradcheck.numeric.stacking import perturbed_outputs
from gradcheck.numeric.steps import COMPLEX_STEP, COMPLEX_STEP_BAR

__all__ = ["core_complex_step"]

Array = np.ndarray
STACK_ELEMENTS = 1 << 21  # complex128 elements of one layer's stacked activations (32 MB)


def core_complex_step(
    spec: NetworkSpec, params: Mapping[str, Array], X: Array, y: Array
) -> tuple[float, dict[str, Array], dict[str, Array]]:
    """L, ∂L/∂θ for every entry and the error bars, in float64 (for any dtype of the case)."""
    wide = {name: np.asarray(value, np.float64) for name, value in params.items()}
    x = np.asarray(X, np.float64)
    target = y if y.ndim == 1 and np.issubdtype(y.dtype, np.integer) else y.astype(np.float64)
    cache = forward(spec, wide, x)
    grads, bars = {}, {}
    loss = output_loss(spec, cache.output, target)
    for layer in range(1, spec.depth + 1):
        chunk = max(1, STACK_ELEMENTS // (x.shape[0] * max(spec.widths[layer:])))
        for name in (f"W{layer}", f"b{layer}"):
            theta = wide[name].reshape(-1)
            steps = COMPLEX_STEP * np.maximum(1.0, np.abs(theta))
            out = np.empty(theta.size)
            for start in range(0, theta.size, chunk):
                entries = np.arange(start, min(theta.size, start + chunk))
                delta = 1j * steps[entries]
                output, _ = perturbed_outputs(spec, wide, cache, name, entries, delta, target)
                out[entries] = complex_losses(spec, output, target).imag / steps[entries]
            grads[name] = out.reshape(wide[name].shape)
            bars[name] = (COMPLEX_STEP_BAR * max(1.0, abs(loss)) * steps**2).reshape(
                wide[name].shape
            )
    return loss, grads, bars
