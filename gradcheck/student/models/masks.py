"""The dropout masks of a submission, where they are not the seed's replay.

The reference model replays the course's masks: every dropout layer reseeds with the seed
the model was given and keeps ``rand(N, H) < p``. A submission whose ``dropout_forward``
draws another way (``np.random.binomial``, ``rand(...) > 1 - p``) keeps other units for
the same seed; since the course's model calls ``dropout_forward`` with that seed in every
layer, the units it keeps on ones of a layer's shape are that layer's mask, and the
reference can be given them (``reference.run_model(masks=…)``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from gradcheck.student.catalogue.registry import get_function
from gradcheck.student.sandbox import CallFailed, Sandbox

__all__ = ["Masks", "replayed", "submission_masks"]

Array = np.ndarray
# The units each dropout layer keeps (True), by the shape of the layer's input.
Masks = Mapping[tuple[int, ...], Array]


def replayed(shape: tuple[int, ...], p: float, seed: int) -> Array:
    """The units the catalogue's dropout keeps for ``seed``: the course's replay."""
    dropout = get_function("dropout").reference
    assert dropout is not None
    param = {"mode": "train", "p": p, "seed": seed}
    return np.asarray(dropout.forward({"x": np.ones(shape), "dropout_param": param})["out"]) != 0


def _kept_on_ones(sandbox: Sandbox, shape: tuple[int, ...], p: float, seed: int) -> Any:
    """The units the submission's ``dropout_forward`` keeps on ones in train mode, or None
    where it fails or returns something else than an array of that shape."""
    param = {"mode": "train", "p": p, "seed": seed}
    try:
        value = sandbox.call("dropout_forward", np.ones(shape), param).value
        out = np.asarray(value[0] if isinstance(value, list | tuple) else value, dtype=np.float64)
    except (CallFailed, TypeError, ValueError, IndexError):
        return None
    return out != 0 if out.shape == shape else None


def submission_masks(
    sandbox: Sandbox, shapes: Sequence[tuple[int, ...]], p: float, seed: int
) -> Masks | None:
    """The submission's masks for dropout layers of ``shapes``, where some layer keeps
    other units than the replay; None where every layer keeps the same ones, or the
    submission has no ``dropout_forward`` (its model is then taken to draw as the course's).
    A layer whose call failed is left out: the reference replays it."""
    if "dropout_forward" not in sandbox.info.get("defined", []):
        return None
    kept = {shape: _kept_on_ones(sandbox, shape, p, seed) for shape in dict.fromkeys(shapes)}
    if all(k is not None and np.array_equal(k, replayed(s, p, seed)) for s, k in kept.items()):
        return None
    return {shape: k for shape, k in kept.items() if k is not None}
