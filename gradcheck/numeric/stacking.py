"""Many perturbed copies of the core's network, evaluated as one stack.

Perturbing one entry of W⁽ˡ⁾ or b⁽ˡ⁾ by s (real for finite differences, imaginary for the
complex step) leaves layers 1…l−1 untouched (their cached activations are reused) and
changes only unit i of layer l:

    W⁽ˡ⁾_ij + s  ⇒  Z⁽ˡ⁾[:, i] + s·A⁽ˡ⁻¹⁾[:, j],        b⁽ˡ⁾_i + s  ⇒  Z⁽ˡ⁾[:, i] + s

So only that column goes through the activation, and the next layer's pre-activations
change by a rank-one term, Z⁽ˡ⁺¹⁾ + ΔA⁽ˡ⁾[:, i]·W⁽ˡ⁺¹⁾[:, i]ᵀ, with no matrix product. From
layer l+1 on every unit may change, and the S perturbed networks go through the remaining
layers together as stacked (S, B, n) arrays.

Along the way, each perturbed network reports whether any of its pre-activations lies on
another side of a kink (compared by real part) than in the unperturbed network, or any of
its outputs on another smooth piece of the loss (huber's threshold).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from gradcheck.nn.activations import real_part
from gradcheck.nn.network import ForwardPass
from gradcheck.nn.spec import NetworkSpec
from gradcheck.numeric.blas import blas_errstate

__all__ = ["perturbed_outputs", "units"]

Array = np.ndarray


def units(name: str, entries: Array, fan_in: int) -> tuple[Array, Array | None]:
    """The unit i of layer l that each entry of ``name`` feeds, and its input j (None for b)."""
    if name.startswith("W"):
        return entries // fan_in, entries % fan_in
    return entries, None


def _crossed(z: Array, base: Array, kinks: tuple[float, ...]) -> Array:
    """Per stacked network (axis 0), whether any z is on another side of a kink than base."""
    re = real_part(z)
    moved = np.zeros(z.shape, dtype=bool)
    for kink in kinks:
        moved |= ((re > kink) != (base > kink)) | ((re == kink) != (base == kink))
    return np.asarray(moved.reshape(z.shape[0], -1).any(axis=1))


def perturbed_outputs(
    spec: NetworkSpec,
    params: Mapping[str, Array],
    cache: ForwardPass,
    name: str,
    entries: Array,
    delta: Array,
    y: Array,
) -> tuple[Array, Array]:
    """Outputs (S, B, n_L) of the networks with entry ``entries[s]`` of ``name`` moved by
    ``delta[s]``, and whether each crossed a kink or a piece boundary of the loss."""
    layer = int(name[1:])
    a_prev = cache.activations[layer - 1]
    unit, source = units(name, entries, a_prev.shape[1])
    size = entries.size
    # Layer l: only column `unit` changes.
    shift = delta[:, None] * (a_prev[:, source].T if source is not None else 1)
    z = cache.zs[layer - 1][:, unit].T + shift  # (S, B)
    activation = spec.activation(layer)
    crossed = _crossed(z, cache.zs[layer - 1][:, unit].T, activation.kinks)
    change = activation.f(z) - cache.fs[layer - 1][:, unit].T  # ΔA⁽ˡ⁾[:, i], residual or not
    stack = np.arange(size)

    def with_column(base: Array) -> Array:
        """``base`` (B, n_l) repeated S times, with column unit[s] of copy s moved by change[s]."""
        out = np.repeat(base[None], size, axis=0).astype(np.result_type(base, change))
        out[stack, :, unit] += change
        return out

    if layer == spec.depth:
        output = with_column(cache.output)
    else:
        W = params[f"W{layer + 1}"]
        z_next = cache.zs[layer][None] + change[:, :, None] * W[:, unit].T[:, None, :]
        a_l = with_column(cache.activations[layer]) if layer + 1 in spec.residual else None
        output, more = _tail(spec, params, cache, layer + 1, z_next, a_l)
        crossed |= more
    pieces = spec.loss_fn.pieces
    if pieces is not None:
        moved = pieces(real_part(output), y) != pieces(cache.output, y)
        crossed |= moved.reshape(size, -1).any(axis=1)
    return output, crossed


def _tail(
    spec: NetworkSpec,
    params: Mapping[str, Array],
    cache: ForwardPass,
    layer: int,
    z: Array,
    a_prev: Array | None,
) -> tuple[Array, Array]:
    """Push stacked pre-activations Z⁽ˡ⁾ (S, B, n_l) through layers l…L. ``a_prev`` is the
    stacked A⁽ˡ⁻¹⁾, needed only when layer l is residual."""
    crossed = np.zeros(z.shape[0], dtype=bool)
    for current in range(layer, spec.depth + 1):
        if current > layer:
            with blas_errstate():
                z = a_prev @ params[f"W{current}"].T + params[f"b{current}"]  # type: ignore[operator]
        activation = spec.activation(current)
        crossed |= _crossed(z, cache.zs[current - 1], activation.kinks)
        f = activation.f(z)
        a_prev = f + a_prev if current in spec.residual else f  # type: ignore[operator]
    assert a_prev is not None
    return a_prev, crossed
