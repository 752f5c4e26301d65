"""Non-differentiable points of the core's activations.

``subgradient_ambiguity`` answers: which gradient entries depend on the convention chosen
at a pre-activation lying *exactly* on a kink (relu′(0) = 0 or 1)? Engines may legitimately
differ there, so those entries are not compared between engines. (Perturbations that cross
a kink are detected by the finite differences themselves, in ``core_differences``.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from gradcheck.nn.network import ForwardPass, backward
from gradcheck.nn.spec import NetworkSpec

__all__ = ["subgradient_ambiguity"]

Array = np.ndarray


def _on_kink(z: Array, kink: float, terms: int) -> Array:
    """z is on the kink, or so close that an engine flushing subnormals to zero (XLA does)
    may put it there: z sums ``terms`` products, each of which may lose up to the smallest
    normal number."""
    return np.abs(z - kink) <= 2 * terms * np.finfo(z.dtype).tiny * max(1.0, abs(kink))


def _nudged(spec: NetworkSpec, cache: ForwardPass, side: float) -> ForwardPass:
    """The cache with every z on a kink moved just to one side of it."""
    zs = []
    for layer, z in enumerate(cache.zs, start=1):
        for kink in spec.activation(layer).kinks:
            offset = side * np.sqrt(np.finfo(z.dtype).eps) * max(1.0, abs(kink))
            on = _on_kink(z, kink, spec.widths[layer - 1] + 1)
            z = np.where(on, z.dtype.type(kink + offset), z)
        zs.append(z)
    return replace(cache, zs=tuple(zs))


def subgradient_ambiguity(
    spec: NetworkSpec, params: Mapping[str, Array], cache: ForwardPass, y: Array
) -> dict[str, Array] | None:
    """Entries whose gradient changes between the left and right derivative at the kinks that
    pre-activations sit on. Returns None when none does (the usual case)."""
    on_kink = any(
        np.any(_on_kink(cache.zs[layer - 1], kink, spec.widths[layer - 1] + 1))
        for layer in range(1, spec.depth + 1)
        for kink in spec.activation(layer).kinks
    )
    if not on_kink:
        return None
    left = backward(spec, params, _nudged(spec, cache, -1.0), y)
    right = backward(spec, params, _nudged(spec, cache, +1.0), y)
    return {name: left[name] != right[name] for name in spec.param_names}
