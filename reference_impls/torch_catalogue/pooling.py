"""torch twins of max and average pooling, naive and fast."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

from reference_impls.torch_catalogue import twin


def window(v: Mapping[str, Any]) -> tuple[tuple[int, int], int]:
    p = v["pool_param"]
    return (p["pool_height"], p["pool_width"]), p["stride"]


def max_pool(x: torch.Tensor, v: Mapping[str, Any]) -> torch.Tensor:
    kernel, stride = window(v)
    return F.max_pool2d(x, kernel, stride)


def avg_pool(x: torch.Tensor, v: Mapping[str, Any]) -> torch.Tensor:
    kernel, stride = window(v)
    return F.avg_pool2d(x, kernel, stride)


for _variant in ("naive", "fast"):
    twin(f"max_pool_{_variant}")(lambda v: {"out": max_pool(v["x"], v)})
    twin(f"avg_pool_{_variant}")(lambda v: {"out": avg_pool(v["x"], v)})
