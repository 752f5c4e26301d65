"""gradcheck: verify backprop gradients against finite differences, torch and JAX.

The public names are loaded on first use, so ``import gradcheck`` (and the CLI's
``--help``) import neither Hypothesis, torch nor jax.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gradcheck._version import __version__

if TYPE_CHECKING:
    from gradcheck.case import Case
    from gradcheck.check import CheckResult, check_case
    from gradcheck.compare import Record
    from gradcheck.engines import ENGINES, EngineResult, get_engine, register_engine
    from gradcheck.errors import (
        DomainError,
        DTypeError,
        EngineUnavailableError,
        GradcheckError,
        NonFiniteError,
        ShapeError,
        SpecError,
        UnknownNameError,
    )
    from gradcheck.gradients import GradientCheck, check_gradients
    from gradcheck.nn.activations import ACTIVATIONS
    from gradcheck.nn.init import init_params
    from gradcheck.nn.losses import LOSSES
    from gradcheck.nn.network import backward, forward, loss_and_grads
    from gradcheck.nn.optim import clip_by_global_norm, clip_by_value, sgd_step
    from gradcheck.nn.spec import NetworkSpec
    from gradcheck.nn.twolayer import backprop
    from gradcheck.numeric.probes import ProbeSettings
    from gradcheck.sweep import SweepConfig, run_sweep

_LAZY = {
    "ACTIVATIONS": "gradcheck.nn.activations",
    "Case": "gradcheck.case",
    "CheckResult": "gradcheck.check",
    "DTypeError": "gradcheck.errors",
    "DomainError": "gradcheck.errors",
    "ENGINES": "gradcheck.engines",
    "EngineResult": "gradcheck.engines",
    "EngineUnavailableError": "gradcheck.errors",
    "GradcheckError": "gradcheck.errors",
    "GradientCheck": "gradcheck.gradients",
    "LOSSES": "gradcheck.nn.losses",
    "NetworkSpec": "gradcheck.nn.spec",
    "NonFiniteError": "gradcheck.errors",
    "ProbeSettings": "gradcheck.numeric.probes",
    "Record": "gradcheck.compare",
    "ShapeError": "gradcheck.errors",
    "SpecError": "gradcheck.errors",
    "SweepConfig": "gradcheck.sweep",
    "UnknownNameError": "gradcheck.errors",
    "backprop": "gradcheck.nn.twolayer",
    "backward": "gradcheck.nn.network",
    "check_case": "gradcheck.check",
    "check_gradients": "gradcheck.gradients",
    "clip_by_global_norm": "gradcheck.nn.optim",
    "clip_by_value": "gradcheck.nn.optim",
    "forward": "gradcheck.nn.network",
    "get_engine": "gradcheck.engines",
    "init_params": "gradcheck.nn.init",
    "loss_and_grads": "gradcheck.nn.network",
    "register_engine": "gradcheck.engines",
    "run_sweep": "gradcheck.sweep",
    "sgd_step": "gradcheck.nn.optim",
}

__all__ = [
    "ACTIVATIONS",
    "ENGINES",
    "LOSSES",
    "Case",
    "CheckResult",
    "DTypeError",
    "DomainError",
    "EngineResult",
    "EngineUnavailableError",
    "GradcheckError",
    "GradientCheck",
    "NetworkSpec",
    "NonFiniteError",
    "ProbeSettings",
    "Record",
    "ShapeError",
    "SpecError",
    "SweepConfig",
    "UnknownNameError",
    "__version__",
    "backprop",
    "backward",
    "check_case",
    "check_gradients",
    "clip_by_global_norm",
    "clip_by_value",
    "forward",
    "get_engine",
    "init_params",
    "loss_and_grads",
    "register_engine",
    "run_sweep",
    "sgd_step",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gradcheck' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
