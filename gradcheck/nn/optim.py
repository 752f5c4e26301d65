"""Training pieces: the update w ← w − η·∂L/∂w and gradient clipping. All pure functions
that return new dicts and keep each array's dtype."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from gradcheck.errors import ShapeError

__all__ = ["clip_by_global_norm", "clip_by_value", "global_norm", "sgd_step"]

Arrays = Mapping[str, np.ndarray]


def sgd_step(params: Arrays, grads: Arrays, lr: float) -> dict[str, np.ndarray]:
    """w ← w − η·∂L/∂w for every parameter."""
    if set(params) != set(grads):
        raise ShapeError(f"gradients {sorted(grads)} do not match parameters {sorted(params)}")
    lr = float(lr)  # a NumPy float64 scalar would up-cast float32 parameters
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"learning rate must be positive and finite, got {lr}")
    return {name: params[name] - lr * grads[name] for name in params}


def global_norm(grads: Arrays) -> float:
    """‖g‖₂ over all tensors together, accumulated in float64."""
    return math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads.values()))


def clip_by_global_norm(grads: Arrays, max_norm: float) -> tuple[dict[str, np.ndarray], float]:
    """Scale all gradients by min(1, max_norm / ‖g‖₂); return them and the norm before clipping."""
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive, got {max_norm}")
    norm = global_norm(grads)
    factor = min(1.0, max_norm / norm) if norm > 0 else 1.0
    return {name: g * factor for name, g in grads.items()}, norm


def clip_by_value(grads: Arrays, limit: float) -> dict[str, np.ndarray]:
    """Clamp every entry to [−limit, limit]."""
    if not limit > 0:
        raise ValueError(f"limit must be positive, got {limit}")
    return {name: np.clip(g, -limit, limit) for name, g in grads.items()}
