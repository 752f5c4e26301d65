"""The torch reference for the modular layers of the ``layers`` assignment: each layer's
scalar objective (⟨dout, forward(inputs)⟩, or the loss itself) differentiated by
torch.autograd, in float64 on the CPU."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["layer_grads"]

Tensor = torch.Tensor

_FORWARD: dict[str, Callable[[dict[str, Tensor]], Tensor]] = {
    "affine": lambda t: t["x"].reshape(t["x"].shape[0], -1) @ t["w"] + t["b"],
    "relu": lambda t: F.relu(t["x"]),
    "sigmoid": lambda t: torch.sigmoid(t["x"]),
    "tanh": lambda t: torch.tanh(t["x"]),
}


def layer_grads(
    layer: str, inputs: Mapping[str, np.ndarray], upstream: np.ndarray | None
) -> dict[str, np.ndarray]:
    """∂/∂input of ⟨upstream, layer(inputs)⟩ (or of the loss, for ``softmax_loss`` and
    ``mse_loss``, whose targets ``y`` are not differentiated)."""
    tensors = {
        name: torch.tensor(
            value, dtype=torch.float64 if name != "y" or layer == "mse_loss" else torch.int64
        )
        for name, value in inputs.items()
    }
    wrt = [name for name in tensors if name != "y"]
    for name in wrt:
        tensors[name].requires_grad_(True)
    if layer == "softmax_loss":
        objective = F.cross_entropy(tensors["x"], tensors["y"], reduction="mean")
    elif layer == "mse_loss":
        objective = 0.5 * ((tensors["x"] - tensors["y"]) ** 2).sum() / tensors["x"].shape[0]
    else:
        assert upstream is not None
        objective = (_FORWARD[layer](tensors) * torch.tensor(upstream, dtype=torch.float64)).sum()
    grads = torch.autograd.grad(objective, [tensors[name] for name in wrt])
    return {f"d{name}": g.detach().numpy() for name, g in zip(wrt, grads, strict=True)}
