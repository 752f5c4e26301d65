"""A vector function y = f(x) as the Jacobian checker sees it, whatever framework computes it.

Inputs and outputs are named blocks (a tensor each), laid end to end in one float64 vector.
The adapter of a framework implements ``evaluate`` (the forward in float64, for numerical
derivatives) and ``vjp`` (the analytic vector-Jacobian product in the inputs' own dtypes,
at the point being checked); ``jvp`` (forward mode) is optional and raises
:class:`Unsupported` with the reason where the function has none.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from gradcheck.errors import GradcheckError

__all__ = ["Block", "Unsupported", "VectorFunction", "offsets"]

Array = np.ndarray


class Unsupported(GradcheckError):
    """A mode the function does not support (forward AD, a second derivative); the message
    says why. A check reports it as not checked, never as a failure."""


@dataclass(frozen=True)
class Block:
    """One input or output tensor: its name (as records name it), shape and dtype name
    (``float64``, ``float32``, ``float16`` or ``bfloat16``)."""

    name: str
    shape: tuple[int, ...]
    dtype: str

    @property
    def size(self) -> int:
        return math.prod(self.shape)


def offsets(blocks: tuple[Block, ...]) -> list[tuple[Block, slice]]:
    """Each block with its slice of the flat vector."""
    out, start = [], 0
    for block in blocks:
        out.append((block, slice(start, start + block.size)))
        start += block.size
    return out


class VectorFunction(ABC):
    """What a framework adapter provides. ``point`` holds the checked inputs' values, flat
    and widened exactly to float64; ``output_eps`` is the relative precision of
    ``evaluate``'s outputs (float64's ε unless the function computes in less)."""

    inputs: tuple[Block, ...]
    outputs: tuple[Block, ...]
    point: Array
    output_eps: float = float(np.finfo(np.float64).eps)

    @property
    def n_in(self) -> int:
        return sum(b.size for b in self.inputs)

    @property
    def n_out(self) -> int:
        return sum(b.size for b in self.outputs)

    @abstractmethod
    def evaluate(self, x: Array) -> Array:
        """The outputs, flat float64, of the forward computed in float64 at ``x``."""

    @abstractmethod
    def vjp(self, v: Array) -> Array:
        """vᵀJ at ``point``, flat float64 (computed in the inputs' dtypes); ``v`` holds one
        cotangent entry per output entry, exactly representable in every output dtype."""

    def jvp(self, u: Array) -> Array:
        """J·u at ``point``, flat float64; ``u`` is exactly representable in the inputs'
        dtypes. Raises :class:`Unsupported` where the function has no forward mode."""
        raise Unsupported("the function has no forward-mode derivative")
