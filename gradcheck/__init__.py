"""gradcheck: verify backprop gradients against finite differences, torch and JAX.

The public names are loaded on first use, so ``import gradcheck`` (and the CLI's
``--help``) import neither Hypothesis, torch nor jax.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gradcheck._version import __version__

if TYPE_CHECKING:
    from gradcheck.baseline import Baseline, BaselineEntry, Drift, compare_to_baseline
    from gradcheck.baseline.cases import check_cases, fixed_case, record_cases
    from gradcheck.case import Case
    from gradcheck.check import CheckResult, check_case
    from gradcheck.compare import Record
    from gradcheck.engines import ENGINES, Engine, EngineResult, get_engine, register_engine
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
    from gradcheck.layer_check import check_layer
    from gradcheck.nn.activations import ACTIVATIONS
    from gradcheck.nn.init import init_params
    from gradcheck.nn.losses import LOSSES
    from gradcheck.nn.network import backward, forward, loss_and_grads
    from gradcheck.nn.optim import clip_by_global_norm, clip_by_value, sgd_step
    from gradcheck.nn.spec import NetworkSpec
    from gradcheck.nn.twolayer import backprop
    from gradcheck.nn.workspace import Workspace
    from gradcheck.numeric.probes import ProbeSettings
    from gradcheck.numeric.steps import Tolerance
    from gradcheck.report import Report, write_report
    from gradcheck.report.session import write_session_report
    from gradcheck.runs.sweep import SweepConfig, run_sweep
    from gradcheck.strategies import batches, cases, network_specs, parameters, targets
    from gradcheck.testing.fixture import GradcheckFixture, GradientAssertionError
    from gradcheck.testing.session import SessionResults

_LAZY = {
    "ACTIVATIONS": "gradcheck.nn.activations",
    "Baseline": "gradcheck.baseline",
    "BaselineEntry": "gradcheck.baseline",
    "Case": "gradcheck.case",
    "CheckResult": "gradcheck.check",
    "DTypeError": "gradcheck.errors",
    "DomainError": "gradcheck.errors",
    "Drift": "gradcheck.baseline",
    "ENGINES": "gradcheck.engines",
    "Engine": "gradcheck.engines",
    "EngineResult": "gradcheck.engines",
    "EngineUnavailableError": "gradcheck.errors",
    "GradcheckError": "gradcheck.errors",
    "GradcheckFixture": "gradcheck.testing.fixture",
    "GradientAssertionError": "gradcheck.testing.fixture",
    "GradientCheck": "gradcheck.gradients",
    "LOSSES": "gradcheck.nn.losses",
    "NetworkSpec": "gradcheck.nn.spec",
    "NonFiniteError": "gradcheck.errors",
    "ProbeSettings": "gradcheck.numeric.probes",
    "Record": "gradcheck.compare",
    "Report": "gradcheck.report",
    "SessionResults": "gradcheck.testing.session",
    "ShapeError": "gradcheck.errors",
    "SpecError": "gradcheck.errors",
    "SweepConfig": "gradcheck.runs.sweep",
    "Tolerance": "gradcheck.numeric.steps",
    "UnknownNameError": "gradcheck.errors",
    "Workspace": "gradcheck.nn.workspace",
    "backprop": "gradcheck.nn.twolayer",
    "backward": "gradcheck.nn.network",
    "batches": "gradcheck.strategies",
    "cases": "gradcheck.strategies",
    "check_case": "gradcheck.check",
    "check_cases": "gradcheck.baseline.cases",
    "check_gradients": "gradcheck.gradients",
    "check_layer": "gradcheck.layer_check",
    "clip_by_global_norm": "gradcheck.nn.optim",
    "clip_by_value": "gradcheck.nn.optim",
    "compare_to_baseline": "gradcheck.baseline",
    "fixed_case": "gradcheck.baseline.cases",
    "forward": "gradcheck.nn.network",
    "get_engine": "gradcheck.engines",
    "init_params": "gradcheck.nn.init",
    "loss_and_grads": "gradcheck.nn.network",
    "network_specs": "gradcheck.strategies",
    "parameters": "gradcheck.strategies",
    "record_cases": "gradcheck.baseline.cases",
    "register_engine": "gradcheck.engines",
    "run_sweep": "gradcheck.runs.sweep",
    "sgd_step": "gradcheck.nn.optim",
    "targets": "gradcheck.strategies",
    "write_report": "gradcheck.report",
    "write_session_report": "gradcheck.report.session",
}

__all__ = [
    "ACTIVATIONS",
    "ENGINES",
    "LOSSES",
    "Baseline",
    "BaselineEntry",
    "Case",
    "CheckResult",
    "DTypeError",
    "DomainError",
    "Drift",
    "Engine",
    "EngineResult",
    "EngineUnavailableError",
    "GradcheckError",
    "GradcheckFixture",
    "GradientAssertionError",
    "GradientCheck",
    "NetworkSpec",
    "NonFiniteError",
    "ProbeSettings",
    "Record",
    "Report",
    "SessionResults",
    "ShapeError",
    "SpecError",
    "SweepConfig",
    "Tolerance",
    "UnknownNameError",
    "Workspace",
    "__version__",
    "backprop",
    "backward",
    "batches",
    "cases",
    "check_case",
    "check_cases",
    "check_gradients",
    "check_layer",
    "clip_by_global_norm",
    "clip_by_value",
    "compare_to_baseline",
    "fixed_case",
    "forward",
    "get_engine",
    "init_params",
    "loss_and_grads",
    "network_specs",
    "parameters",
    "record_cases",
    "register_engine",
    "run_sweep",
    "sgd_step",
    "targets",
    "write_report",
    "write_session_report",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gradcheck' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
