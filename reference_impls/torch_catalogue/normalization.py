"""torch twins of batch, layer and group normalisation (train and test mode for batchnorm).

The running statistics are returned as tensors beside ``out``, under the config's state
names, so that the tests compare them with the NumPy reference's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

from reference_impls.torch_catalogue import twin


def _batchnorm(v: Mapping[str, Any], x: torch.Tensor) -> dict[str, torch.Tensor]:
    """x (M, C) with C last; F.batch_norm updates its running tensors in place with the
    unbiased variance, so the biased running update is written out here."""
    param = v["bn_param"]
    rm = torch.as_tensor(param["running_mean"], dtype=torch.float64)
    rv = torch.as_tensor(param["running_var"], dtype=torch.float64)
    momentum, train = param["momentum"], param["mode"] == "train"
    out = F.batch_norm(
        x, rm, rv, v["gamma"], v["beta"], training=train, momentum=0.0, eps=param["eps"]
    )
    if train:
        rm = momentum * rm + (1 - momentum) * x.detach().mean(dim=0)
        rv = momentum * rv + (1 - momentum) * x.detach().var(dim=0, unbiased=False)
    return {"out": out, "bn_param['running_mean']": rm, "bn_param['running_var']": rv}


@twin("batchnorm")
def _bn(v: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    return _batchnorm(v, v["x"])


twin("batchnorm_alt")(_bn)


@twin("spatial_batchnorm")
def _spatial_bn(v: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    x = v["x"]
    n, c, h, w = x.shape
    found = _batchnorm(v, x.permute(0, 2, 3, 1).reshape(-1, c))
    found["out"] = found["out"].reshape(n, h, w, c).permute(0, 3, 1, 2)
    return found


@twin("layernorm")
def _ln(v: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    x = v["x"]
    out = F.layer_norm(x, x.shape[1:], v["gamma"], v["beta"], eps=v["ln_param"]["eps"])
    return {"out": out}


@twin("spatial_groupnorm")
def _gn(v: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    gamma, beta = v["gamma"].reshape(-1), v["beta"].reshape(-1)
    return {"out": F.group_norm(v["x"], v["G"], gamma, beta, eps=v["gn_param"]["eps"])}
