"""Non-differentiable points of the core's activations.

``subgradient_ambiguity`` answers: which gradient entries depend on the convention chosen
at a pre-activation lying on a kink (relu′(0) = 0 or 1), exactly or within the rounding
error that separates two correct engines? Engines may legitimately
differ there, so those entries are not compared between engines. (Perturbations that cross
a kink are detected by the finite differences themselves, in ``core_differences``.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from gradcheck.nn.network import ForwardPass, backward
from gradcheck.nn.spec import NetworkSpec
from gradcheck.numeric.blas import blas_errstate
from gradcheck.numeric.steps import KINK_BAND_ULPS

__all__ = ["subgradient_ambiguity"]

Array = np.ndarray


def _bands(spec: NetworkSpec, params: Mapping[str, Array], cache: ForwardPass) -> list[Array]:
    """Per layer, how far two correct engines' Z⁽ˡ⁾ may lie apart: the rounding of the sum
    itself, KINK_BAND_ULPS·ε·(|A⁽ˡ⁻¹⁾|·|W⁽ˡ⁾|ᵀ + |b⁽ˡ⁾|) (``steps``), plus the spread of its
    inputs carried through, Δa⁽ˡ⁻¹⁾·|W⁽ˡ⁾|ᵀ, with Δa⁽ˡ⁾ = (|f′(z)| + 1)·Δz⁽ˡ⁾ (an engine
    that fuses the bias add into an FMA leaves the rounding error of a product where
    another gets exactly 0, and every layer after it sees the difference)."""
    eps = float(np.finfo(cache.zs[0].dtype).eps)
    bands = []
    spread = np.zeros_like(cache.activations[0], dtype=np.float64)
    for layer in range(1, spec.depth + 1):
        W = np.abs(params[f"W{layer}"].astype(np.float64))
        a = np.abs(cache.activations[layer - 1].astype(np.float64))
        b = np.abs(params[f"b{layer}"].astype(np.float64))
        with blas_errstate():
            band = KINK_BAND_ULPS * eps * (a @ W.T + b) + spread @ W.T
        bands.append(band)
        z, f = cache.zs[layer - 1], cache.fs[layer - 1]
        slope = np.abs(spec.activation(layer).df(z, f).astype(np.float64)) + 1.0
        spread = slope * band + spread if layer in spec.residual else slope * band
    return bands


def _on_kink(z: Array, kink: float, band: Array, terms: int) -> Array:
    """z is on the kink as far as any correct engine can tell: within ``band`` of it (see
    ``_bands``), or so close that an engine flushing subnormals to zero (XLA does) may put
    it there."""
    tiny = float(np.finfo(z.dtype).tiny)
    return np.abs(z.astype(np.float64) - kink) <= band + 2 * terms * tiny * max(1.0, abs(kink))


def _nudged(spec: NetworkSpec, cache: ForwardPass, sizes: list[Array], side: float) -> ForwardPass:
    """The cache with every z on a kink moved just to one side of it."""
    zs = []
    for layer, z in enumerate(cache.zs, start=1):
        for kink in spec.activation(layer).kinks:
            offset = side * np.sqrt(np.finfo(z.dtype).eps) * max(1.0, abs(kink))
            on = _on_kink(z, kink, sizes[layer - 1], spec.widths[layer - 1] + 1)
            z = np.where(on, z.dtype.type(kink + offset), z)
        zs.append(z)
    return replace(cache, zs=tuple(zs))


def subgradient_ambiguity(
    spec: NetworkSpec, params: Mapping[str, Array], cache: ForwardPass, y: Array
) -> dict[str, Array] | None:
    """Entries whose gradient changes between the left and right derivative at the kinks that
    pre-activations sit on. Returns None when none does (the usual case)."""
    sizes = _bands(spec, params, cache)
    on_kink = any(
        np.any(_on_kink(cache.zs[layer - 1], kink, sizes[layer - 1], spec.widths[layer - 1] + 1))
        for layer in range(1, spec.depth + 1)
        for kink in spec.activation(layer).kinks
    )
    if not on_kink:
        return None
    left = backward(spec, params, _nudged(spec, cache, sizes, -1.0), y)
    right = backward(spec, params, _nudged(spec, cache, sizes, +1.0), y)
    return {name: left[name] != right[name] for name in spec.param_names}
