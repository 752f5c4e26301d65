"""torch twins of the affine layer, the activations and the affine-relu sandwich."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

from reference_impls.torch_catalogue import twin


def _affine(v: Mapping[str, Any]) -> torch.Tensor:
    x = v["x"]
    return x.reshape(x.shape[0], -1) @ v["w"] + v["b"]


twin("affine")(lambda v: {"out": _affine(v)})
twin("affine_relu")(lambda v: {"out": F.relu(_affine(v))})
twin("relu")(lambda v: {"out": F.relu(v["x"])})
twin("leaky_relu")(lambda v: {"out": F.leaky_relu(v["x"], 0.01)})
twin("sigmoid")(lambda v: {"out": torch.sigmoid(v["x"])})
twin("tanh")(lambda v: {"out": torch.tanh(v["x"])})
