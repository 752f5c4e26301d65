"""torch twins of the naive and fast convolutional layers: F.conv2d is a cross-correlation
with zero padding, as the course's conv_forward is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

from reference_impls.torch_catalogue import twin


def conv(v: Mapping[str, Any]) -> torch.Tensor:
    p = v["conv_param"]
    return F.conv2d(v["x"], v["w"], v["b"], stride=p["stride"], padding=p["pad"])


for _variant in ("naive", "fast"):
    twin(f"conv_{_variant}")(lambda v: {"out": conv(v)})
