"""gradcheck: verify backprop gradients against finite differences, torch and JAX.

The public names are loaded on first use, so ``import gradcheck`` (and the CLI's
``--help``) import neither Hypothesis, torch nor jax.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gradcheck._version import __version__ as __version__

if TYPE_CHECKING:  # the one table of public names (``as`` marks each as exported)
    from gradcheck.baseline import Baseline as Baseline
    from gradcheck.baseline import BaselineEntry as BaselineEntry
    from gradcheck.baseline import Drift as Drift
    from gradcheck.baseline import compare_to_baseline as compare_to_baseline
    from gradcheck.baseline.cases import check_cases as check_cases
    from gradcheck.baseline.cases import fixed_case as fixed_case
    from gradcheck.baseline.cases import record_cases as record_cases
    from gradcheck.case import Case as Case
    from gradcheck.check import CheckResult as CheckResult
    from gradcheck.check import check_case as check_case
    from gradcheck.compare import Record as Record
    from gradcheck.engines import ENGINES as ENGINES
    from gradcheck.engines import Engine as Engine
    from gradcheck.engines import EngineResult as EngineResult
    from gradcheck.engines import get_engine as get_engine
    from gradcheck.engines import register_engine as register_engine
    from gradcheck.errors import DomainError as DomainError
    from gradcheck.errors import DTypeError as DTypeError
    from gradcheck.errors import EngineUnavailableError as EngineUnavailableError
    from gradcheck.errors import GradcheckError as GradcheckError
    from gradcheck.errors import NonFiniteError as NonFiniteError
    from gradcheck.errors import ShapeError as ShapeError
    from gradcheck.errors import SpecError as SpecError
    from gradcheck.errors import UnknownNameError as UnknownNameError
    from gradcheck.gradients import GradientCheck as GradientCheck
    from gradcheck.gradients import check_gradients as check_gradients
    from gradcheck.layer_check import check_layer as check_layer
    from gradcheck.nn.activations import ACTIVATIONS as ACTIVATIONS
    from gradcheck.nn.init import init_params as init_params
    from gradcheck.nn.losses import LOSSES as LOSSES
    from gradcheck.nn.network import backward as backward
    from gradcheck.nn.network import forward as forward
    from gradcheck.nn.network import loss_and_grads as loss_and_grads
    from gradcheck.nn.optim import clip_by_global_norm as clip_by_global_norm
    from gradcheck.nn.optim import clip_by_value as clip_by_value
    from gradcheck.nn.optim import sgd_step as sgd_step
    from gradcheck.nn.spec import NetworkSpec as NetworkSpec
    from gradcheck.nn.twolayer import backprop as backprop
    from gradcheck.nn.workspace import Workspace as Workspace
    from gradcheck.numeric.probes import ProbeSettings as ProbeSettings
    from gradcheck.numeric.steps import Tolerance as Tolerance
    from gradcheck.report import Report as Report
    from gradcheck.report import write_report as write_report
    from gradcheck.report.session import write_session_report as write_session_report
    from gradcheck.runs.sweep import SweepConfig as SweepConfig
    from gradcheck.runs.sweep import run_sweep as run_sweep
    from gradcheck.strategies import batches as batches
    from gradcheck.strategies import cases as cases
    from gradcheck.strategies import network_specs as network_specs
    from gradcheck.strategies import parameters as parameters
    from gradcheck.strategies import targets as targets
    from gradcheck.testing.fixture import GradcheckFixture as GradcheckFixture
    from gradcheck.testing.fixture import GradientAssertionError as GradientAssertionError
    from gradcheck.testing.session import SessionResults as SessionResults


def _public_names() -> dict[str, str]:
    """Public name → the module that defines it, read from the ``TYPE_CHECKING`` imports
    above: they are the one table of public names, which type checkers read as it is and
    from which ``__all__`` and the lazy loading below are derived."""
    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name)
        if node.test.id == "TYPE_CHECKING"
    )
    return {
        alias.asname or alias.name: str(node.module)
        for node in ast.walk(block)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


_LAZY = _public_names()
__all__ = sorted([*_LAZY, "__version__"])


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gradcheck' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
