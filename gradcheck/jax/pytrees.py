"""The pytrees of a JAX function's arguments and outputs, as named float blocks.

Every leaf of ``args`` that is an array (``jax.Array``, ``np.ndarray`` or a NumPy scalar)
of a floating dtype of ``steps.FRAMEWORK_DTYPES`` is checked; integer and bool arrays and
leaves that are not arrays (Python numbers, strings, ...) are passed to ``f`` unchanged.
Only the floating array leaves of ``f``'s output are outputs. A leaf is named by its path,
``args[0]['w']`` or ``out[1]`` (``jax.tree_util.keystr``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np

from gradcheck.errors import DTypeError, GradcheckError, NonFiniteError, format_index
from gradcheck.jacobian import Block
from gradcheck.numeric.steps import FRAMEWORK_DTYPES

__all__ = ["Arguments", "Outputs", "split_args", "split_outputs"]


def _floating(leaf: object) -> bool:
    dtype = getattr(leaf, "dtype", None)
    return dtype is not None and bool(jax.numpy.issubdtype(dtype, jax.numpy.floating))


def _block(name: str, leaf: Any) -> Block:
    dtype = np.dtype(leaf.dtype).name
    if dtype not in FRAMEWORK_DTYPES:
        raise DTypeError(
            f"{name} has dtype {dtype}: only {', '.join(FRAMEWORK_DTYPES)} are checked"
        )
    return Block(name, tuple(int(n) for n in leaf.shape), dtype)


def _complex(name: str, leaf: object) -> None:
    dtype = getattr(leaf, "dtype", None)
    if dtype is not None and jax.numpy.issubdtype(dtype, jax.numpy.complexfloating):
        raise DTypeError(f"{name} is complex ({np.dtype(dtype).name}): not supported")


def _not_finite(name: str, values: np.ndarray) -> NonFiniteError | None:
    bad = np.flatnonzero(~np.isfinite(values))
    if not bad.size:
        return None
    index = np.unravel_index(int(bad[0]), values.shape) if values.shape else ()
    return NonFiniteError(f"{name}{format_index(tuple(index))} is {values.flat[bad[0]]}")


@dataclass(frozen=True)
class Arguments:
    """The positional arguments flattened: every leaf, and which of them are checked."""

    treedef: Any
    leaves: tuple[object, ...]
    checked: tuple[int, ...]  # positions in ``leaves`` of the checked (floating) leaves
    blocks: tuple[Block, ...]

    def primals(self) -> tuple[Any, ...]:
        """The checked leaves as they were passed."""
        return tuple(self.leaves[i] for i in self.checked)

    def rebuild(self, values: Sequence[object]) -> tuple[Any, ...]:
        """The positional arguments with the checked leaves replaced by ``values``."""
        leaves = list(self.leaves)
        for position, value in zip(self.checked, values, strict=True):
            leaves[position] = value
        return tuple(jax.tree_util.tree_unflatten(self.treedef, leaves))


def split_args(args: object) -> Arguments:
    """``args`` (a tuple or list of pytrees) as :class:`Arguments`."""
    if not isinstance(args, tuple | list):
        raise GradcheckError(
            f"args must be a tuple or list of positional arguments, not {type(args).__name__}"
        )
    with_paths, treedef = jax.tree_util.tree_flatten_with_path(tuple(args))
    leaves, checked, blocks = [], [], []
    for position, (path, leaf) in enumerate(with_paths):
        name = "args" + jax.tree_util.keystr(path)
        _complex(name, leaf)
        leaves.append(leaf)
        if _floating(leaf):
            blocks.append(_block(name, leaf))
            checked.append(position)
            problem = _not_finite(name, np.asarray(leaf, np.float64))
            if problem is not None:
                raise problem
    if not checked:
        raise GradcheckError(
            "args has no floating-point array leaf to check (Python floats and integer or "
            "bool arrays are passed through; pass np.asarray(x, np.float32) to check x)"
        )
    return Arguments(treedef, tuple(leaves), tuple(checked), tuple(blocks))


@dataclass(frozen=True)
class Outputs:
    """Which leaves of ``f``'s output are its floating outputs, and their blocks."""

    treedef: Any
    positions: tuple[int, ...]
    blocks: tuple[Block, ...]

    def select(self, out: object) -> tuple[Any, ...]:
        """The floating output leaves of ``out``, which must have the first run's shape."""
        leaves, treedef = jax.tree_util.tree_flatten(out)
        if treedef != self.treedef:
            raise GradcheckError(f"f's output changed structure: {treedef}, was {self.treedef}")
        return tuple(leaves[i] for i in self.positions)


def split_outputs(out: object) -> Outputs:
    """The floating leaves of ``f``'s output (arrays or ``jax.ShapeDtypeStruct``)."""
    with_paths, treedef = jax.tree_util.tree_flatten_with_path(out)
    positions, blocks = [], []
    for position, (path, leaf) in enumerate(with_paths):
        name = "out" + jax.tree_util.keystr(path)
        _complex(name, leaf)
        if _floating(leaf):
            blocks.append(_block(name, leaf))
            positions.append(position)
    if not blocks:
        kinds = ", ".join(
            f"out{jax.tree_util.keystr(p)}: {getattr(leaf, 'dtype', type(leaf).__name__)}"
            for p, leaf in with_paths
        )
        raise GradcheckError(
            f"f's output has no floating-point array leaf ({kinds or type(out).__name__})"
        )
    return Outputs(treedef, tuple(positions), tuple(blocks))
