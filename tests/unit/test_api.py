"""The public API: pinned names, lazy imports, and the py.typed marker."""

from __future__ import annotations

from pathlib import Path

import gradcheck
from tests.helpers import modules_imported_by

PUBLIC = [
    "ACTIVATIONS", "ENGINES", "LOSSES", "Baseline", "BaselineEntry", "Case", "CheckResult",
    "DTypeError", "DomainError", "Drift", "Engine", "EngineResult", "EngineUnavailableError",
    "GradcheckError", "GradcheckFixture", "GradientAssertionError", "GradientCheck",
    "NetworkSpec", "NonFiniteError", "ProbeSettings", "Record", "Report", "SessionResults",
    "ShapeError", "SpecError", "SweepConfig", "Tolerance", "UnknownNameError", "Workspace",
    "__version__",
    "backprop", "backward", "batches", "cases", "check_case", "check_cases", "check_gradients",
    "check_layer", "clip_by_global_norm", "clip_by_value", "compare_to_baseline", "fixed_case",
    "forward", "get_engine", "init_params", "loss_and_grads", "network_specs", "parameters",
    "record_cases", "register_engine", "run_sweep", "sgd_step", "targets", "write_report",
    "write_session_report",
]  # fmt: skip


def test_public_names_are_pinned() -> None:
    # The order is ruff's (RUF022: constants, classes, functions), checked by `make lint`.
    assert len(gradcheck.__all__) == len(set(gradcheck.__all__))
    assert sorted(gradcheck.__all__) == sorted(PUBLIC)


def test_every_public_name_resolves() -> None:
    for name in gradcheck.__all__:
        assert getattr(gradcheck, name) is not None


def test_import_is_light() -> None:
    heavy = ["torch", "jax", "hypothesis", "tabulate"]
    assert modules_imported_by("import gradcheck", heavy) == []
    assert modules_imported_by("import numpy", ["numpy"]) == ["numpy"]  # the probe itself works


def test_the_pytest_plugin_imports_neither_torch_jax_nor_matplotlib() -> None:
    # pytest imports the plugin in every session of every project that installs gradcheck.
    heavy = ["torch", "jax", "matplotlib", "tabulate"]
    assert modules_imported_by("import gradcheck.testing.plugin", heavy) == []


def test_py_typed_marker_ships() -> None:
    assert (Path(gradcheck.__file__).parent / "py.typed").is_file()
