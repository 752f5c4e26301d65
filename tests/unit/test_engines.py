"""The engine registry: names, availability, lazy imports and output checks."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from gradcheck.case import Case
from gradcheck.engines import ENGINES, EngineOutputError, FunctionEngine, get_engine
from gradcheck.errors import EngineUnavailableError, UnknownNameError
from gradcheck.nn.init import init_params
from gradcheck.nn.network import loss_and_grads
from gradcheck.nn.spec import NetworkSpec
from tests.helpers import modules_imported_by


def small_case(dtype: str = "float64") -> Case:
    spec = NetworkSpec((2, 3, 1), dtype=dtype)
    return Case(spec, init_params(spec, 1), np.ones((2, 2), dtype), np.zeros((2, 1), dtype))


def test_builtin_engines_are_registered() -> None:
    assert {"core", "fd", "torch", "jax"} <= set(ENGINES)
    assert get_engine("core").kind == "analytic" and get_engine("fd").kind == "numerical"


def test_unknown_engine_suggests_a_close_name() -> None:
    with pytest.raises(UnknownNameError, match=r"unknown engine 'troch'; did you mean 'torch'\?"):
        get_engine("troch")


def test_missing_dependency_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    engine = get_engine("torch")
    assert "pip install 'gradcheck[torch]'" in str(engine.unavailable_reason())
    with pytest.raises(EngineUnavailableError, match=r"gradcheck\[torch\]"):
        engine.run(small_case())


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda g: {k: v for k, v in g.items() if k != "b2"}, "expected"),
        (lambda g: {**g, "W1": g["W1"].astype(np.float32)}, "dtype float32 in a float64 case"),
        (lambda g: {**g, "b1": g["b1"][:, None]}, "gradient b1"),
        (lambda g: {**g, "b1": list(g["b1"])}, "gradient b1"),
    ],
)
def test_engine_output_is_checked(mangle, message: str) -> None:  # type: ignore[no-untyped-def]
    def engine(spec, params, X, y):  # type: ignore[no-untyped-def]
        loss, grads = loss_and_grads(spec, params, X, y)
        return loss, mangle(grads)

    with pytest.raises(EngineOutputError, match=message):
        FunctionEngine("mangled", engine, "").run(small_case())


def test_result_records_time_and_meta() -> None:
    result = get_engine("core").run(small_case("float32"))
    assert result.seconds > 0 and result.meta["dtype"] == "float32"
    assert all(g.dtype == np.float32 for g in result.grads.values())


def test_importing_the_engines_imports_neither_torch_nor_jax() -> None:
    assert modules_imported_by("import gradcheck.engines, gradcheck.check", ["torch", "jax"]) == []
