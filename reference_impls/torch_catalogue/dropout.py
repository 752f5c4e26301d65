"""torch twin of inverted dropout: the course's seed-replayed mask, as a constant tensor
(torch draws its own masks from another generator, so only the arithmetic is twinned)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from reference_impls.torch_catalogue import twin


@twin("dropout")
def _dropout(v: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    x, param = v["x"], v["dropout_param"]
    if param["mode"] == "test":
        return {"out": x * 1.0}
    if "mask" in v:
        mask = np.asarray(v["mask"])
    else:
        mask = np.random.RandomState(param["seed"]).rand(*x.shape) < param["p"]
    keep = torch.as_tensor(mask, dtype=torch.float64)
    return {"out": torch.where(keep > 0, x / param["p"], torch.zeros_like(x))}
