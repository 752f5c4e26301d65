"""Buffers for repeated forward and backward passes of one network at one batch size.

A training loop runs the same shapes thousands of times. Allocating every Z⁽ˡ⁾, A⁽ˡ⁾, δ⁽ˡ⁾
and gradient afresh costs more than the arithmetic on them for mid-sized layers: a fresh
array of a few hundred KiB comes back from the OS as new pages, and touching them is what
makes ``g = δᵀA`` slower than the product itself. A :class:`Workspace` allocates them once;
:func:`gradcheck.nn.network.forward` and :func:`~gradcheck.nn.network.backward` write into
it, and :meth:`Workspace.step` is one whole training step (loss and gradients) with no
allocation larger than the output layer.

The arrays a step returns are the workspace's: the next step overwrites them, as the next
``loss.backward()`` overwrites ``.grad`` in torch. Copy what you keep.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gradcheck.errors import DTypeError, ShapeError
from gradcheck.nn.network import backward, forward, output_loss

if TYPE_CHECKING:
    from gradcheck.nn.spec import NetworkSpec

__all__ = ["LayerBuffers", "Workspace"]

Array = np.ndarray


@dataclass(frozen=True)
class LayerBuffers:
    """Layer l's arrays, all (batch, n_l) but the gradients. ``a`` is ``f`` unless the layer
    is residual; ``delta`` is only needed on a residual layer, ``upstream`` (∂L/∂A⁽ˡ⁻¹⁾) only
    below the first layer."""

    z: Array
    f: Array
    a: Array
    delta: Array | None
    upstream: Array | None
    dW: Array
    db: Array


class Workspace:
    """Preallocated arrays for ``spec`` at ``batch`` rows, in the spec's dtype."""

    def __init__(self, spec: NetworkSpec, batch: int) -> None:
        if batch < 1:
            raise ShapeError(f"batch must be >= 1, got {batch}")
        self.spec, self.batch = spec, int(batch)
        dtype, widths = spec.np_dtype, spec.widths
        layers = []
        for layer in range(1, spec.depth + 1):
            n_in, n = widths[layer - 1], widths[layer]
            residual = layer in spec.residual
            f = np.zeros((batch, n), dtype)
            layers.append(
                LayerBuffers(
                    z=np.zeros((batch, n), dtype),
                    f=f,
                    a=np.zeros((batch, n), dtype) if residual else f,
                    delta=np.zeros((batch, n), dtype) if residual else None,
                    upstream=np.zeros((batch, n_in), dtype) if layer > 1 else None,
                    dW=np.zeros((n, n_in), dtype),
                    db=np.zeros(n, dtype),
                )
            )
        self._layers = tuple(layers)
        self._shapes = {"X": (self.batch, widths[0]), **spec.param_shapes()}

    def layer(self, layer: int) -> LayerBuffers:
        """The buffers of layer ``layer`` (1-based, like W1)."""
        return self._layers[layer - 1]

    @property
    def nbytes(self) -> int:
        """The bytes of every buffer (an aliased ``a`` counted once)."""
        seen: dict[int, int] = {}
        for buffers in self._layers:
            for array in (buffers.z, buffers.f, buffers.a, buffers.delta, buffers.upstream):
                if array is not None:
                    seen[id(array)] = array.nbytes
            seen[id(buffers.dW)] = buffers.dW.nbytes
            seen[id(buffers.db)] = buffers.db.nbytes
        return sum(seen.values())

    def step(
        self, params: Mapping[str, Array], X: Array, y: Array
    ) -> tuple[float, dict[str, Array]]:
        """L and ∂L/∂θ for one batch, computed in the buffers: the gradients returned are
        overwritten by the next step. Shapes and dtypes are checked on every call; values are
        not (validate the parameters once, e.g. with ``validate_params``), but a loss that is
        not finite still raises."""
        self._check(params, X)
        cache = forward(self.spec, params, X, workspace=self)
        loss = output_loss(self.spec, cache.output, y)
        return loss, backward(self.spec, params, cache, y, workspace=self)

    def _check(self, params: Mapping[str, Array], X: Array) -> None:
        dtype = self.spec.np_dtype
        for name, shape in self._shapes.items():
            value = X if name == "X" else params.get(name)
            if getattr(value, "shape", None) != shape or value.dtype != dtype:  # type: ignore[union-attr]
                self._refuse(name, value, shape)

    def _refuse(self, name: str, value: object, shape: tuple[int, ...]) -> None:
        got = getattr(value, "shape", None if value is None else type(value).__name__)
        if got != shape:
            what = "X" if name == "X" else f"parameter {name}"
            raise ShapeError(f"{what} has shape {got}; this workspace takes {shape}")
        raise DTypeError(
            f"{name} is {value.dtype}; this workspace takes {self.spec.dtype}"  # type: ignore[attr-defined]
        )
