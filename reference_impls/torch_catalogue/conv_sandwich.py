"""torch twins of the conv sandwich layers: conv then relu; conv, relu, max pool; conv,
spatial batchnorm, relu."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

from reference_impls.torch_catalogue import twin
from reference_impls.torch_catalogue.conv import conv
from reference_impls.torch_catalogue.pooling import max_pool

twin("conv_relu")(lambda v: {"out": F.relu(conv(v))})
twin("conv_relu_pool")(lambda v: {"out": max_pool(F.relu(conv(v)), v)})


def _conv_bn_relu(v: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """conv, spatial batchnorm (biased batch variance in train mode, the running statistics
    in test mode) and relu, with the running statistics the call leaves in bn_param."""
    a, p = conv(v), v["bn_param"]
    rm = torch.as_tensor(p["running_mean"], dtype=torch.float64)
    rv = torch.as_tensor(p["running_var"], dtype=torch.float64)
    if p["mode"] == "train":
        mu, var = a.mean(dim=(0, 2, 3)), a.var(dim=(0, 2, 3), unbiased=False)
        m = p["momentum"]
        new_rm, new_rv = m * rm + (1 - m) * mu, m * rv + (1 - m) * var
    else:
        mu, var, new_rm, new_rv = rm, rv, rm, rv
    xhat = (a - mu[:, None, None]) / torch.sqrt(var + p["eps"])[:, None, None]
    y = v["gamma"][:, None, None] * xhat + v["beta"][:, None, None]
    return {
        "out": F.relu(y),
        "bn_param['running_mean']": new_rm,
        "bn_param['running_var']": new_rv,
    }


twin("conv_bn_relu")(_conv_bn_relu)
