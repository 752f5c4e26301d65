"""Check the gradients people write in torch: custom ``autograd.Function``s, hand-derived
backward passes and any differentiable function, in reverse and forward mode, to second
order, in float64, float32, float16 and bfloat16.

    import gradcheck.torch as gt
    result = gt.check(fn, (x, w))          # x, w: tensors with requires_grad=True
    assert result.verdict == "pass", result.summary()

Every Jacobian entry of the VJP (and of the JVP, where the function has forward AD) is
compared with float64 numerical derivatives of the forward, with the rounding model of the
inputs' dtype (``gradcheck.jacobian``): no false failures on correct float32 code, a 1e-4
relative error in one entry caught in float64. ``order=2`` checks the double backward too.
The drop-in ``gradcheck.torch.gradcheck`` and ``gradgradcheck`` take torch's signatures.

This module imports torch; ``import gradcheck`` does not.
"""

from __future__ import annotations

from gradcheck.errors import EngineUnavailableError

try:
    import torch as _torch
except ImportError as missing:  # pragma: no cover - exercised only without torch
    raise EngineUnavailableError(
        "gradcheck.torch needs torch: pip install torch (see the README for the CPU build)"
    ) from missing

from gradcheck.torch.adapter import FunctionError
from gradcheck.torch.checker import check
from gradcheck.torch.dropin import GradcheckFailure, gradcheck, gradgradcheck

del _torch

__all__ = ["FunctionError", "GradcheckFailure", "check", "gradcheck", "gradgradcheck"]
