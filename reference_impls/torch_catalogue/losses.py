"""torch twins of the classifier losses (mean over the batch; reg·ΣW² for the classifiers)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

from reference_impls.torch_catalogue import twin


def _svm(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The mean multiclass hinge loss with margin 1, written without a library loss."""
    correct = x.gather(1, y.reshape(-1, 1))
    margins = torch.clamp(x - correct + 1.0, min=0.0)
    others = torch.ones_like(x, dtype=torch.bool).scatter(1, y.reshape(-1, 1), False)
    return (margins * others).sum() / x.shape[0]


def _softmax(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(x, y, reduction="mean")


twin("softmax_loss")(lambda v: {"loss": _softmax(v["x"], v["y"])})
twin("svm_loss")(lambda v: {"loss": _svm(v["x"], v["y"])})


def _classifier(v: Mapping[str, Any], kind: str) -> dict[str, torch.Tensor]:
    scores = v["X"].to(torch.float64) @ v["W"]
    data = _svm(scores, v["y"]) if kind == "svm" else _softmax(scores, v["y"])
    return {"loss": data + float(v["reg"]) * (v["W"] ** 2).sum()}


for _kind in ("svm", "softmax"):
    for _style in ("naive", "vectorized"):
        twin(f"{_kind}_loss_{_style}")(lambda v, k=_kind: _classifier(v, k))
