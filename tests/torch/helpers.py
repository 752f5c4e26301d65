"""Where a planted error sits, as a check's record names it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tests.frameworks.planted import Planted


def planted_entry(
    planted: Planted, inputs: Sequence[Any], out_shape: tuple[int, ...]
) -> tuple[str, tuple[int, ...]]:
    """The record's tensor and index of ``planted``'s (i, j): ``∂output/∂inputs[k]`` and the
    output's index followed by input k's, with k the checked input that holds flat j."""
    out_index = tuple(int(v) for v in np.unravel_index(planted.i, out_shape))
    j = planted.j
    for k, a in enumerate(inputs):
        if not (hasattr(a, "requires_grad") and a.requires_grad):
            continue
        if j < a.numel():
            in_index = tuple(int(v) for v in np.unravel_index(j, tuple(a.shape)))
            return f"∂output/∂inputs[{k}]", out_index + in_index
        j -= a.numel()
    raise IndexError(planted.j)


def failing_entries(result: Any) -> set[tuple[str, str, tuple[int, ...]]]:
    """(engine, tensor, index) of every failing Jacobian record (named ∂y/∂x)."""
    return {(r.engine_a, r.tensor, r.index) for r in result.failures if r.tensor.startswith("∂")}
